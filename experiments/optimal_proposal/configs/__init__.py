"""Configurations of the optimal-proposal experiment (``default`` and ``smoke``)."""
