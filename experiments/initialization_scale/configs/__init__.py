"""Configurations of the initialization-scale experiment (``default`` and ``smoke``)."""
