"""Committed test data of the training room (see ``make_checkpoint.py``)."""
