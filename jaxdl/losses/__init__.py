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
    self_information,
    sigmoid_binary_cross_entropy,
    softmax_cross_entropy,
    softmax_cross_entropy_with_probs,
)
from jaxdl.losses.multitask import masked_prediction_loss, multi_task_loss, semi_supervised_loss
from jaxdl.losses.objective import Objective
from jaxdl.losses.penalties import (
    bernoulli_kl,
    hutchinson_jacobian_frobenius_squared,
    jacobian_frobenius_squared,
    kl_sparsity_penalty,
    l1_code_penalty,
)
from jaxdl.losses.regularizers import (
    NON_WEIGHT_PATTERN,
    activation_l1_penalty,
    l1_penalty,
    l2_penalty,
    leaf_paths,
    mask_by_path,
    smooth_labels,
    smoothed_cross_entropy,
    tying_penalty,
    weight_decay,
    weights_mask,
)

__all__ = [
    "Objective",
    "masked_prediction_loss",
    "multi_task_loss",
    "semi_supervised_loss",
    "bernoulli_kl",
    "hutchinson_jacobian_frobenius_squared",
    "jacobian_frobenius_squared",
    "kl_sparsity_penalty",
    "l1_code_penalty",
    "NON_WEIGHT_PATTERN",
    "activation_l1_penalty",
    "l1_penalty",
    "l2_penalty",
    "leaf_paths",
    "mask_by_path",
    "smooth_labels",
    "smoothed_cross_entropy",
    "tying_penalty",
    "weight_decay",
    "weights_mask",
    "cross_entropy",
    "entropy",
    "gaussian_nll",
    "half_squared_error",
    "kl_divergence",
    "mean_squared_error",
    "self_information",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_probs",
]
