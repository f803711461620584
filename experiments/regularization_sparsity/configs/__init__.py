"""Configurations of the regularization-sparsity experiment (``default`` and ``smoke``)."""
