"""Threshold-free ranking metrics: PR and ROC curves, average precision, ROC AUC.

A binary classifier outputs a score that is higher when the event is more likely;
sweeping a threshold over the scores traces the precision-recall and ROC curves.

- ``average_precision`` and ``roc_auc`` are jittable and vmappable (sort-based, exact
  tie handling) and equal scikit-learn's ``average_precision_score`` and
  ``roc_auc_score``.
- ``precision_recall_curve`` and ``roc_curve`` return one point per distinct score, a
  data-dependent length: on concrete input they equal scikit-learn's output. Under
  ``jit`` pass a fixed ``thresholds`` array instead to get a static-size curve.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import (
    check_floating,
    check_integer,
    check_labels,
    check_rank,
    check_shape,
    is_concrete,
)
from jaxdl.typing import Array, ArrayLike

__all__ = [
    "average_precision",
    "binary_counts_at_scores",
    "precision_recall_curve",
    "roc_auc",
    "roc_curve",
]


def _binary_inputs(labels: ArrayLike, scores: ArrayLike, pos_label: int) -> tuple[Array, Array]:
    scores = jnp.asarray(scores)
    labels = jnp.asarray(labels)
    check_floating("scores", scores)
    check_rank("scores", scores, 1)
    check_integer("labels", labels)
    check_shape("labels", labels, scores.shape)
    if scores.shape[0] == 0:
        raise ValueError("scores must hold at least one example, got shape (0,)")
    if is_concrete(scores) and not bool(jnp.all(jnp.isfinite(scores))):
        raise ValueError("scores must be finite, got NaN or inf")
    return scores, (labels == pos_label)


def binary_counts_at_scores(
    labels: ArrayLike, scores: ArrayLike, pos_label: int = 1
) -> tuple[Array, Array, Array, Array]:
    """True/false positive counts when thresholding at each example's score.

    Examples are sorted by decreasing score; position ``i`` stands for the decision
    ``score >= sorted_scores[i]``. Tied scores must be accepted together, so the counts
    at ``i`` are taken at the last position of ``i``'s tie group.

    Args:
        labels: ``[N]`` integer labels; ``pos_label`` marks positives.
        scores: ``[N]`` float scores.
        pos_label: the positive class.

    Returns:
        ``(sorted_scores, tps, fps, is_last)``, each ``[N]``: counts as ``float32``
        and ``is_last`` marking the last position of every tie group (one per distinct
        score).

    Example:
        >>> s, tps, fps, last = binary_counts_at_scores(jnp.array([0, 1, 0]),
        ...                                             jnp.array([0.1, 0.9, 0.9]))
        >>> tps.tolist(), fps.tolist(), last.tolist()
        ([1.0, 1.0, 1.0], [1.0, 1.0, 2.0], [False, True, True])
    """
    scores, positive = _binary_inputs(labels, scores, pos_label)
    sorted_scores, _, tps, fps, is_last = _sorted_counts(scores, positive)
    return sorted_scores, tps, fps, is_last


def _sorted_counts(scores: Array, positive: Array) -> tuple[Array, Array, Array, Array, Array]:
    order = jnp.argsort(-scores, stable=True)
    sorted_scores = scores[order]
    is_positive = positive[order].astype(jnp.float32)
    tps_running = jnp.cumsum(is_positive)
    position = jnp.arange(1, scores.shape[0] + 1, dtype=jnp.float32)
    # Last index of each tie group: -sorted_scores is ascending.
    group_end = jnp.searchsorted(-sorted_scores, -sorted_scores, side="right") - 1
    tps = tps_running[group_end]
    fps = position[group_end] - tps
    is_last = jnp.arange(scores.shape[0]) == group_end
    return sorted_scores, is_positive, tps, fps, is_last


def average_precision(labels: ArrayLike, scores: ArrayLike, pos_label: int = 1) -> Array:
    """Average precision: the step-wise area under the precision-recall curve.

    ``AP = sum_n (R_n - R_{n-1}) P_n`` over the distinct thresholds in decreasing
    order, i.e. the mean, over positive examples, of the precision at the threshold
    equal to their score (no interpolation). 0 when there are no positives (as
    scikit-learn).

    With ``scores [N, K]`` and labels in ``[0, K)``, the macro average of the
    one-vs-rest APs of the ``K`` classes.

    Args:
        labels: ``[N]`` integer labels.
        scores: ``[N]`` scores of the positive class, or ``[N, K]`` class scores.
        pos_label: positive class for 1-D scores.

    Returns:
        Scalar ``float32`` AP in [0, 1].

    Example:
        >>> average_precision(jnp.array([0, 0, 1, 1]), jnp.array([0.1, 0.4, 0.35, 0.8]))
        Array(0.8333334, dtype=float32)

    Reference:
        Manning, Raghavan & Schutze, "Introduction to Information Retrieval", 2008, 8.4.
    """
    scores = jnp.asarray(scores)
    if scores.ndim == 2:
        return _one_vs_rest(average_precision, labels, scores)
    scores, positive = _binary_inputs(labels, scores, pos_label)
    _, is_positive, tps, fps, _ = _sorted_counts(scores, positive)
    precision_at = tps / (tps + fps)
    num_positive = jnp.sum(is_positive)
    total = jnp.sum(is_positive * precision_at)
    return jnp.where(num_positive > 0, total / jnp.maximum(num_positive, 1.0), 0.0)


def roc_auc(labels: ArrayLike, scores: ArrayLike, pos_label: int = 1) -> Array:
    """Area under the ROC curve: ``P(s+ > s-) + P(s+ = s-) / 2``.

    The Mann-Whitney statistic: over all (positive, negative) pairs, the share ranked
    correctly, ties counting one half. Equals the trapezoidal area under
    :func:`roc_curve`. NaN when only one class is present (as scikit-learn).

    With ``scores [N, K]`` (class probabilities) and labels in ``[0, K)``, the macro
    average of the one-vs-rest AUCs (scikit-learn's ``multi_class="ovr"``).

    Args:
        labels: ``[N]`` integer labels.
        scores: ``[N]`` scores of the positive class, or ``[N, K]`` class scores.
        pos_label: positive class for 1-D scores.

    Returns:
        Scalar ``float32`` AUC in [0, 1].

    Example:
        >>> roc_auc(jnp.array([0, 0, 1, 1]), jnp.array([0.1, 0.4, 0.35, 0.8]))
        Array(0.75, dtype=float32)

    Reference:
        Hanley & McNeil, "The meaning and use of the area under a ROC curve", 1982.
    """
    scores = jnp.asarray(scores)
    if scores.ndim == 2:
        return _one_vs_rest(roc_auc, labels, scores)
    scores, positive = _binary_inputs(labels, scores, pos_label)
    # Negatives' scores in ascending order; positives pushed to +inf are never counted.
    negative_scores = jnp.sort(jnp.where(positive, jnp.inf, scores))
    below = jnp.searchsorted(negative_scores, scores, side="left").astype(jnp.float32)
    at_or_below = jnp.searchsorted(negative_scores, scores, side="right").astype(jnp.float32)
    num_positive = jnp.sum(positive.astype(jnp.float32))
    num_negative = scores.shape[0] - num_positive
    safe_negative = jnp.maximum(num_negative, 1.0)
    wins = (below + 0.5 * (at_or_below - below)) / safe_negative
    auc = jnp.sum(jnp.where(positive, wins, 0.0)) / jnp.maximum(num_positive, 1.0)
    defined = (num_positive > 0) & (num_negative > 0)
    return jnp.where(defined, auc, jnp.nan)


def _one_vs_rest(metric, labels: ArrayLike, scores: Array) -> Array:
    labels = jnp.asarray(labels)
    check_floating("scores", scores)
    check_shape("labels", labels, scores.shape[:1])
    num_classes = scores.shape[1]
    check_labels("labels", labels, num_classes)
    classes = jnp.arange(num_classes, dtype=labels.dtype)
    binary_labels = (labels[None, :] == classes[:, None]).astype(jnp.int32)
    per_class = jax.vmap(metric)(binary_labels, scores.T)
    return jnp.mean(per_class)


def _require_concrete(name: str, *arrays: Array) -> None:
    if not all(is_concrete(a) for a in arrays):
        raise ValueError(
            f"{name} has one point per distinct score, a data-dependent length: call it "
            "outside jit, or pass a fixed `thresholds` array for a static-size curve"
        )


def precision_recall_curve(
    labels: ArrayLike,
    scores: ArrayLike,
    pos_label: int = 1,
    thresholds: ArrayLike | None = None,
) -> tuple[Array, Array, Array]:
    """Precision and recall at every threshold on the scores.

    At threshold ``t`` the positives are ``score >= t``: precision ``TP / (TP + FP)``,
    recall ``TP / P``. Without ``thresholds`` (host side, exact): one point per
    distinct score in increasing threshold order, followed by the end point
    (precision 1, recall 0) -- scikit-learn's ``precision_recall_curve`` output. With
    a fixed ``thresholds [T]`` (jittable): the ``T`` points only, precision 1 where
    nothing is accepted.

    Args:
        labels: ``[N]`` integer labels.
        scores: ``[N]`` float scores of the positive class.
        pos_label: the positive class.
        thresholds: optional ``[T]`` thresholds for a static-size curve.

    Returns:
        ``(precision, recall, thresholds)``: ``[M + 1]``, ``[M + 1]``, ``[M]`` for ``M``
        distinct scores, or ``[T]`` each with fixed thresholds. Recall is 1 everywhere
        when there are no positives.

    Example:
        >>> p, r, t = precision_recall_curve(jnp.array([0, 0, 1, 1]),
        ...                                  jnp.array([0.1, 0.4, 0.35, 0.8]))
        >>> r.tolist()
        [1.0, 1.0, 0.5, 0.5, 0.0]
    """
    scores, positive = _binary_inputs(labels, scores, pos_label)
    if thresholds is not None:
        thresholds = jnp.asarray(thresholds)
        check_rank("thresholds", thresholds, 1)
        accepted = scores[None, :] >= thresholds[:, None]
        hits = positive[None, :] & accepted
        tps = jnp.sum(hits.astype(jnp.float32), axis=1)
        predicted = jnp.sum(accepted.astype(jnp.float32), axis=1)
        num_positive = jnp.sum(positive.astype(jnp.float32))
        precision = jnp.where(predicted > 0, tps / jnp.maximum(predicted, 1.0), 1.0)
        recall = jnp.where(num_positive > 0, tps / jnp.maximum(num_positive, 1.0), 1.0)
        return precision, recall, thresholds
    _require_concrete("precision_recall_curve", scores, positive)
    sorted_scores, _, tps, fps, is_last = (np.asarray(a) for a in _sorted_counts(scores, positive))
    tps, fps, cut = tps[is_last], fps[is_last], sorted_scores[is_last]
    predicted = tps + fps
    precision = np.where(predicted > 0, tps / np.maximum(predicted, 1.0), 0.0)
    recall = np.ones_like(tps) if tps[-1] == 0 else tps / tps[-1]
    precision = np.concatenate([precision[::-1], [1.0]]).astype(np.float32)
    recall = np.concatenate([recall[::-1], [0.0]]).astype(np.float32)
    return jnp.asarray(precision), jnp.asarray(recall), jnp.asarray(cut[::-1])


def roc_curve(
    labels: ArrayLike,
    scores: ArrayLike,
    pos_label: int = 1,
    drop_intermediate: bool = True,
    thresholds: ArrayLike | None = None,
) -> tuple[Array, Array, Array]:
    """Receiver operating characteristic: true- against false-positive rate.

    At threshold ``t``: ``TPR = TP / P`` (recall), ``FPR = FP / N_neg``. Without
    ``thresholds`` (host side, exact): scikit-learn's ``roc_curve`` -- one point per
    distinct score in decreasing threshold order after a first point ``(0, 0)`` at
    threshold ``+inf``; ``drop_intermediate`` removes collinear points. With a fixed
    ``thresholds [T]`` (jittable): the ``T`` points only.

    Args:
        labels: ``[N]`` integer labels.
        scores: ``[N]`` float scores of the positive class.
        pos_label: the positive class.
        drop_intermediate: drop points that lie on a straight segment.
        thresholds: optional ``[T]`` thresholds for a static-size curve.

    Returns:
        ``(fpr, tpr, thresholds)``; a rate is NaN when its class is absent.

    Example:
        >>> fpr, tpr, t = roc_curve(jnp.array([0, 0, 1, 1]), jnp.array([0.1, 0.4, 0.35, 0.8]))
        >>> fpr.tolist(), tpr.tolist()
        ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0])

    Reference:
        Fawcett, "An introduction to ROC analysis", 2006.
    """
    scores, positive = _binary_inputs(labels, scores, pos_label)
    if thresholds is not None:
        thresholds = jnp.asarray(thresholds)
        check_rank("thresholds", thresholds, 1)
        accepted = scores[None, :] >= thresholds[:, None]
        tps = jnp.sum((accepted & positive[None, :]).astype(jnp.float32), axis=1)
        fps = jnp.sum((accepted & ~positive[None, :]).astype(jnp.float32), axis=1)
        num_positive = jnp.sum(positive.astype(jnp.float32))
        num_negative = scores.shape[0] - num_positive
        tpr = jnp.where(num_positive > 0, tps / jnp.maximum(num_positive, 1.0), jnp.nan)
        fpr = jnp.where(num_negative > 0, fps / jnp.maximum(num_negative, 1.0), jnp.nan)
        return fpr, tpr, thresholds
    _require_concrete("roc_curve", scores, positive)
    sorted_scores, _, tps, fps, is_last = (np.asarray(a) for a in _sorted_counts(scores, positive))
    tps, fps, cut = tps[is_last], fps[is_last], sorted_scores[is_last]
    if drop_intermediate and fps.shape[0] > 2:
        keep = np.concatenate([[True], np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), [True]])
        tps, fps, cut = tps[keep], fps[keep], cut[keep]
    tps = np.concatenate([[0.0], tps])
    fps = np.concatenate([[0.0], fps])
    cut = np.concatenate([[np.inf], cut.astype(np.float64)])
    fpr = np.full(fps.shape, np.nan) if fps[-1] <= 0 else fps / fps[-1]
    tpr = np.full(tps.shape, np.nan) if tps[-1] <= 0 else tps / tps[-1]
    return (
        jnp.asarray(fpr, dtype=jnp.float32),
        jnp.asarray(tpr, dtype=jnp.float32),
        jnp.asarray(cut, dtype=jnp.float32),
    )
