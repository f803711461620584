"""Accuracy with a reject option: trading coverage for accuracy.

A classifier may refuse to decide when it is not confident enough and hand the example
to a human. *Coverage* is the fraction of examples it answers; the accuracy on those
answered rises as the confidence threshold rises. Refusing everything gives coverage 0,
where the accuracy on the (empty) accepted set is taken to be 1.
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxdl._checks import (
    check_floating,
    check_in_range,
    check_labels,
    check_probabilities,
    check_rank,
    check_shape,
)
from jaxdl.typing import Array, ArrayLike

__all__ = ["accuracy_coverage_curve", "coverage_accuracy"]


def _confidence_and_correct(labels: ArrayLike, probabilities: ArrayLike) -> tuple[Array, Array]:
    probabilities = jnp.asarray(probabilities)
    labels = jnp.asarray(labels)
    check_floating("probabilities", probabilities)
    check_rank("probabilities", probabilities, 2)
    check_shape("labels", labels, probabilities.shape[:1])
    if probabilities.shape[0] == 0:
        raise ValueError(
            f"probabilities must hold at least one example, got shape {probabilities.shape}"
        )
    check_labels("labels", labels, probabilities.shape[1])
    check_probabilities("probabilities", probabilities, axis=-1)
    confidence = jnp.max(probabilities, axis=-1)
    correct = jnp.argmax(probabilities, axis=-1) == labels
    return confidence, correct


def coverage_accuracy(
    labels: ArrayLike, probabilities: ArrayLike, threshold: float
) -> tuple[Array, Array]:
    """Coverage and accuracy when answering only if ``max_k p_k >= threshold``.

    ``coverage = (1/N) sum_n [c_n >= t]`` and ``accuracy = sum_n [c_n >= t][yhat_n =
    y_n] / sum_n [c_n >= t]`` with confidence ``c_n = max_k p_nk`` and prediction
    ``yhat_n = argmax_k p_nk``; the accuracy is 1 when nothing is accepted.

    Args:
        labels: ``[N]`` integer labels.
        probabilities: ``[N, K]`` class probabilities (rows sum to 1).
        threshold: confidence needed to answer, in [0, 1].

    Returns:
        ``(coverage, accuracy)``, two ``float32`` scalars in [0, 1].

    Example:
        >>> probabilities = jnp.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
        >>> coverage_accuracy(jnp.array([0, 1, 1]), probabilities, 0.7)
        (Array(0.6666667, dtype=float32), Array(1., dtype=float32))

    Reference:
        Chow, "On optimum recognition error and reject tradeoff", 1970.
    """
    check_in_range("threshold", threshold, 0.0, 1.0)
    confidence, correct = _confidence_and_correct(labels, probabilities)
    accepted = (confidence >= threshold).astype(jnp.float32)
    num_accepted = jnp.sum(accepted)
    coverage = num_accepted / confidence.shape[0]
    hits = jnp.sum(accepted * correct.astype(jnp.float32))
    accuracy = jnp.where(num_accepted > 0, hits / jnp.maximum(num_accepted, 1.0), 1.0)
    return coverage, accuracy


def accuracy_coverage_curve(
    labels: ArrayLike, probabilities: ArrayLike
) -> tuple[Array, Array, Array]:
    """Coverage and accuracy at every threshold equal to an example's confidence.

    Examples are sorted by decreasing confidence ``c``; point ``i`` is
    :func:`coverage_accuracy` at threshold ``c_(i)``, so coverage grows and, for a
    calibrated model, accuracy falls along the curve. Tied confidences are accepted
    together (tied points repeat). Jittable: static length ``N``.

    Args:
        labels: ``[N]`` integer labels.
        probabilities: ``[N, K]`` class probabilities.

    Returns:
        ``(coverage [N], accuracy [N], thresholds [N])`` in order of decreasing
        threshold.

    Example:
        >>> probabilities = jnp.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
        >>> cov, acc, t = accuracy_coverage_curve(jnp.array([0, 1, 1]), probabilities)
        >>> acc.tolist()
        [1.0, 1.0, 0.6666666865348816]
    """
    confidence, correct = _confidence_and_correct(labels, probabilities)
    n = confidence.shape[0]
    order = jnp.argsort(-confidence, stable=True)
    sorted_confidence = confidence[order]
    hits = jnp.cumsum(correct[order].astype(jnp.float32))
    group_end = jnp.searchsorted(-sorted_confidence, -sorted_confidence, side="right") - 1
    num_accepted = (group_end + 1).astype(jnp.float32)
    return num_accepted / n, hits[group_end] / num_accepted, sorted_confidence
