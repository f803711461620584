"""Configurations of the vae experiment (``default`` and ``smoke``)."""
