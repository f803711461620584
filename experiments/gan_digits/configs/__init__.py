"""Configurations of the gan-digits experiment (``default`` and ``smoke``)."""
