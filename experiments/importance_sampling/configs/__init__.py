"""Configurations of the importance-sampling experiment (``default`` and ``smoke``)."""
