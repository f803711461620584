"""The course's experiments, one folder per topic; run them with ``jaxdl run NAME``."""
