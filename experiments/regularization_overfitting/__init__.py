"""Regularization: weight decay, dropout and early stopping against overfitting."""
