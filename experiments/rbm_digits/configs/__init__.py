"""Configurations of the rbm-digits experiment (``default`` and ``smoke``)."""
