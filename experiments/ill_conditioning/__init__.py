"""Gradient descent, momentum, conjugate gradients and Newton on an ill-conditioned valley."""
