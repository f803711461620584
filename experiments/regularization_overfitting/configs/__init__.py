"""Configurations of the regularization-overfitting experiment (``default`` and ``smoke``)."""
