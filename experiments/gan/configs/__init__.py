"""Configurations of the gan experiment (``default`` and ``smoke``)."""
