"""Configurations of the gan-ring experiment (``default`` and ``smoke``)."""
