"""Regularization: proximal L1 gives exact zeros, L2 weight decay does not."""
