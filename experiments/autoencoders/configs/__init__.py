"""Configurations of the autoencoders experiment (``default`` and ``smoke``)."""
