"""Configurations of the optimizers experiment (``default`` and ``smoke``)."""
