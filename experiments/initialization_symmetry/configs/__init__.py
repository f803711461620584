"""Configurations of the initialization-symmetry experiment (``default`` and ``smoke``)."""
