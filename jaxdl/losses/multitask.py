"""Objectives of multi-task, semi-supervised and self-supervised learning.

- :func:`multi_task_loss`: ``sum_t lambda_t L_t`` over the heads of a shared trunk;
- :func:`semi_supervised_loss`: cross-entropy on the labelled rows plus ``lambda``
  times the reconstruction error on every row;
- :func:`masked_prediction_loss`: squared error on the hidden positions of a
  masked-prediction pretext task.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax.numpy as jnp
import optax

from jaxdl._checks import (
    check_floating,
    check_integer,
    check_positive,
    check_rank,
    check_same_leading,
)
from jaxdl.typing import Array, ArrayLike

__all__ = ["masked_prediction_loss", "multi_task_loss", "semi_supervised_loss"]


def multi_task_loss(
    task_losses: Sequence[ArrayLike], weights: Sequence[float] | None = None
) -> Array:
    """Weighted sum of the task losses ``sum_t lambda_t L_t``.

    Args:
        task_losses: one scalar loss per task.
        weights: ``lambda_t >= 0`` per task (default: all 1).

    Returns:
        A scalar.

    Example:
        >>> float(multi_task_loss([jnp.array(2.0), jnp.array(4.0)], [1.0, 0.5]))
        4.0
    """
    if len(task_losses) == 0:
        raise ValueError("task_losses must hold at least one loss, got none")
    if weights is None:
        weights = [1.0] * len(task_losses)
    if len(weights) != len(task_losses):
        raise ValueError(
            f"weights must have one entry per task ({len(task_losses)}), got {len(weights)}"
        )
    for t, w in enumerate(weights):
        check_positive(f"weights[{t}]", w, allow_zero=True)
    total = 0.0
    for loss, w in zip(task_losses, weights, strict=True):
        loss = jnp.asarray(loss)
        if loss.ndim != 0:
            raise ValueError(f"each task loss must be a scalar, got shape {loss.shape}")
        total = total + w * loss
    return jnp.asarray(total)


def semi_supervised_loss(
    logits: ArrayLike,
    reconstruction: ArrayLike,
    x: ArrayLike,
    labels: ArrayLike,
    labelled: ArrayLike,
    reconstruction_weight: ArrayLike,
) -> Array:
    """Cross-entropy on the labelled examples plus ``lambda`` times reconstruction on all.

    ``L = mean_{i labelled} CE(logits_i, y_i) + lambda * mean_i mean_j (x_hat_ij - x_ij)^2``.
    Labels of unlabelled rows are ignored (any integer, e.g. -1).

    Args:
        logits: ``[n, k]``.
        reconstruction: ``[n, d]``.
        x: inputs ``[n, d]``.
        labels: integer labels ``[n]``.
        labelled: bool ``[n]``, which rows carry a label.
        reconstruction_weight: ``lambda >= 0``.

    Returns:
        A scalar.

    Example:
        >>> x = jnp.ones((3, 4))
        >>> labels = jnp.array([0, -1, 1])
        >>> semi_supervised_loss(jnp.zeros((3, 2)), x, x, labels, labels >= 0, 0.5)
        Array(0.6931472, dtype=float32)
    """
    check_positive("reconstruction_weight", reconstruction_weight, allow_zero=True)
    logits = jnp.asarray(logits)
    reconstruction = jnp.asarray(reconstruction)
    x = jnp.asarray(x)
    labels = jnp.asarray(labels)
    labelled = jnp.asarray(labelled)
    check_floating("logits", logits)
    check_integer("labels", labels)
    check_rank("logits", logits, 2)
    check_rank("labels", labels, 1)
    check_rank("labelled", labelled, 1)
    if reconstruction.shape != x.shape:
        raise ValueError(
            f"reconstruction must have the shape of x {x.shape}, got {reconstruction.shape}"
        )
    check_same_leading(("logits", "labels", "labelled", "x"), logits, labels, labelled, x)
    if labelled.dtype != jnp.bool_:
        raise TypeError(f"labelled must be a bool array, got {labelled.dtype}")
    safe_labels = jnp.where(labelled, labels, jnp.zeros((), labels.dtype))
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, safe_labels)
    weight = labelled.astype(ce.dtype)
    supervised = jnp.sum(ce * weight) / jnp.maximum(jnp.sum(weight), 1.0)
    reconstruction_error = jnp.mean(jnp.square(reconstruction - x))
    return supervised + reconstruction_weight * reconstruction_error


def masked_prediction_loss(predictions: ArrayLike, x: ArrayLike, mask: ArrayLike) -> Array:
    """Squared error on the hidden positions only, averaged per example.

    ``L_i = sum_j m_ij (x_hat_ij - x_ij)^2 / max(1, sum_j m_ij)``.

    Args:
        predictions: reconstructions ``[..., d]``.
        x: the original (unmasked) inputs ``[..., d]``.
        mask: bool ``[..., d]`` from :func:`mask_random_spans`.

    Returns:
        Per-example losses ``[...]``.

    Example:
        >>> mask = jnp.array([[True, False, True]])
        >>> masked_prediction_loss(jnp.zeros((1, 3)), jnp.ones((1, 3)), mask)
        Array([1.], dtype=float32)
    """
    predictions = jnp.asarray(predictions)
    x = jnp.asarray(x)
    mask = jnp.asarray(mask)
    check_floating("predictions", predictions)
    if predictions.shape != x.shape or mask.shape != x.shape:
        raise ValueError(
            f"predictions, x and mask must share one shape, got {predictions.shape}, "
            f"{x.shape} and {mask.shape}"
        )
    weight = mask.astype(predictions.dtype)
    squared = jnp.square(predictions - x) * weight
    return jnp.sum(squared, axis=-1) / jnp.maximum(jnp.sum(weight, axis=-1), 1.0)
