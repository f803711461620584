"""Configurations of the markov-chain experiment (``default`` and ``smoke``)."""
