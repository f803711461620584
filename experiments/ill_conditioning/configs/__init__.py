"""Configurations of the ill-conditioning experiment (``default`` and ``smoke``)."""
