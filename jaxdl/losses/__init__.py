"""Course objectives: output units with their maximum-likelihood costs, on top of optax.losses.

Every loss returns one value per example (no reduction over the batch), like optax.
"""

from jaxdl.losses.core import (
    cross_entropy,
    entropy,
    gaussian_nll,
    half_squared_error,
    kl_divergence,
    mean_squared_error,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
    softmax_cross_entropy_with_probs,
)

__all__ = [
    "cross_entropy",
    "entropy",
    "gaussian_nll",
    "half_squared_error",
    "kl_divergence",
    "mean_squared_error",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_probs",
]
