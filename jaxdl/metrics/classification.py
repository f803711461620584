"""Classification metrics: accuracy, confusion matrix, precision / recall / F, costs.

All functions are pure, jittable (with ``num_classes``, ``average``, ``beta``,
``pos_label``, ``zero_division`` static) and vmappable. Conventions follow
scikit-learn so numbers can be compared one to one:

- the confusion matrix ``C[i, j]`` counts examples of true class ``i`` predicted as
  ``j``;
- every one of the ``num_classes`` classes counts, present or not (scikit-learn with
  ``labels=range(num_classes)``), so shapes stay static under ``jit``;
- a ratio with a zero denominator takes the value ``zero_division`` (0, 1 or NaN).

Argument order: the true labels first, then the predictions, everywhere
(``accuracy(labels, predictions)``, ``precision(labels, predictions)``), as
scikit-learn does; ``predictions`` are integer labels or, where a function says so,
scores with a class axis (argmax taken).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax.numpy as jnp
import numpy as np

from jaxdl._checks import (
    check_floating,
    check_integer,
    check_labels,
    check_positive,
    check_positive_int,
    check_probabilities,
    check_shape,
    is_concrete,
)
from jaxdl.typing import Array, ArrayLike

__all__ = [
    "PRFS",
    "accuracy",
    "classification_report",
    "confusion_matrix",
    "cost_sensitive_predictions",
    "cost_weighted_error",
    "error_rate",
    "f1_score",
    "fbeta_score",
    "normalize_confusion_matrix",
    "precision",
    "precision_recall_fscore_support",
    "prfs_from_confusion_matrix",
    "recall",
    "report_from_confusion_matrix",
    "to_predictions",
]

_AVERAGES = (None, "binary", "micro", "macro", "weighted")
_NORMALIZE = (None, "true", "pred", "all")


# ---------------------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------------------


def to_predictions(
    labels: ArrayLike, predictions: ArrayLike, name: str = "predictions"
) -> tuple[Array, int | None]:
    """Predicted labels from scores ``[..., K]`` (argmax) or from integer predictions.

    Args:
        labels: integer true labels, used for the shape check.
        predictions: scores with one more (class) axis than ``labels``, or integer
            predictions with the shape of ``labels``.
        name: argument name used in error messages.

    Returns:
        ``(predictions, K)``: ``int32`` predictions and the number of score columns, or
        ``None`` when predictions were given.

    Example:
        >>> to_predictions(jnp.array([0]), jnp.array([[0.1, 0.9]]))[0].tolist()
        [1]
    """
    scores = jnp.asarray(predictions)
    labels = jnp.asarray(labels)
    if scores.ndim == labels.ndim + 1:
        check_shape(name, scores, tuple(labels.shape) + (None,))
        return jnp.argmax(scores, axis=-1).astype(jnp.int32), scores.shape[-1]
    if scores.ndim == labels.ndim:
        check_integer(name, scores)
        check_shape(name, scores, labels.shape)
        return scores.astype(jnp.int32), None
    raise ValueError(
        f"{name} must have the shape of labels {labels.shape} (predicted labels) or that "
        f"shape plus a class axis (scores), got shape {scores.shape}"
    )


def _check_zero_division(zero_division: Any) -> float:
    if zero_division == "warn":
        return 0.0
    if isinstance(zero_division, int | float | np.floating) and not isinstance(zero_division, bool):
        value = float(zero_division)
        if value in (0.0, 1.0) or math.isnan(value):
            return value
    raise ValueError(f"zero_division must be 0, 1, nan or 'warn', got {zero_division!r}")


def _safe_divide(numerator: Array, denominator: Array, zero_division: float) -> Array:
    empty = denominator == 0
    ratio = numerator / jnp.where(empty, jnp.ones_like(denominator), denominator)
    return jnp.where(empty, jnp.asarray(zero_division, ratio.dtype), ratio)


# ---------------------------------------------------------------------------------------
# Accuracy and confusion matrix
# ---------------------------------------------------------------------------------------


def accuracy(labels: ArrayLike, predictions: ArrayLike) -> Array:
    """Fraction of correct predictions: ``alpha = (TP + TN) / N = mean(pred == label)``.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: scores ``[N, K]`` (logits or probabilities, the argmax is the
            prediction) or integer predicted labels ``[N]``. Extra leading axes are
            allowed as long as they match ``labels``.

    Returns:
        Scalar ``float32`` accuracy in [0, 1].

    Example:
        >>> accuracy(jnp.array([0, 0]), jnp.array([[2.0, 0.0], [0.0, 1.0]]))
        Array(0.5, dtype=float32)
    """
    labels, predictions = _labels_and_predictions(labels, predictions)
    return jnp.mean((predictions == labels).astype(jnp.float32))


def _labels_and_predictions(labels: ArrayLike, predictions: ArrayLike) -> tuple[Array, Array]:
    """Checked integer labels and predicted classes (the argmax of ``[N, K]`` scores)."""
    labels = jnp.asarray(labels)
    check_integer("labels", labels)
    predictions, num_classes = to_predictions(labels, predictions)
    if num_classes is not None:
        check_labels("labels", labels, num_classes)
    if labels.size == 0:
        raise ValueError("labels must hold at least one example, got size 0")
    return labels, predictions


def error_rate(labels: ArrayLike, predictions: ArrayLike) -> Array:
    """Fraction of wrong predictions, ``1 - accuracy``.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: scores ``[N, K]`` or integer predictions ``[N]``.

    Returns:
        Scalar ``float32`` error rate in [0, 1].

    Example:
        >>> error_rate(jnp.array([1, 0, 0, 0]), jnp.array([1, 1, 0, 0]))
        Array(0.25, dtype=float32)
    """
    # Counted directly: ``1 - accuracy`` compiles to a fused multiply-add that can give -3e-8.
    labels, predictions = _labels_and_predictions(labels, predictions)
    return jnp.mean((labels != predictions).astype(jnp.float32))


def confusion_matrix(
    labels: ArrayLike,
    predictions: ArrayLike,
    num_classes: int,
    normalize: str | None = None,
) -> Array:
    """Counts ``C[i, j]`` of examples with true class ``i`` predicted as class ``j``.

    ``normalize`` rescales the counts: ``"true"`` divides each row by its sum (row ``i``
    holds ``P(pred = j | true = i)``, the diagonal is per-class recall), ``"pred"``
    each column (the diagonal is per-class precision), ``"all"`` the total. Empty rows
    or columns give 0 (as scikit-learn).

    Args:
        labels: ``[N]`` integer true labels in ``[0, num_classes)``.
        predictions: ``[N]`` integer predictions, or scores ``[N, num_classes]``.
        num_classes: number of classes ``K`` (static).
        normalize: ``None`` (counts), ``"true"``, ``"pred"`` or ``"all"``.

    Returns:
        ``[K, K]`` matrix, ``int32`` counts or ``float32`` when normalized.

    Example:
        >>> confusion_matrix(jnp.array([0, 1, 1]), jnp.array([0, 0, 1]), 2).tolist()
        [[1, 0], [1, 1]]
    """
    check_positive_int("num_classes", num_classes)
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {_NORMALIZE}, got {normalize!r}")
    labels = jnp.asarray(labels)
    check_labels("labels", labels, num_classes)
    predictions, score_classes = to_predictions(labels, predictions)
    if score_classes is not None and score_classes != num_classes:
        raise ValueError(
            f"predictions must have {num_classes} scores per example, "
            f"got shape {jnp.shape(predictions)}"
        )
    check_labels("predictions", predictions, num_classes)
    counts = jnp.zeros((num_classes, num_classes), jnp.int32)
    counts = counts.at[labels.ravel(), predictions.ravel()].add(1)
    return normalize_confusion_matrix(counts, normalize)


def normalize_confusion_matrix(matrix: ArrayLike, normalize: str | None) -> Array:
    """Rescale confusion counts by row (``"true"``), column (``"pred"``) or total (``"all"``).

    Args:
        matrix: ``[K, K]`` counts, rows true class, columns prediction.
        normalize: ``None`` (returned unchanged), ``"true"``, ``"pred"`` or ``"all"``;
            an empty row or column gives zeros.

    Returns:
        ``[K, K]`` ``float32`` shares (or the input counts for ``None``).

    Example:
        >>> normalize_confusion_matrix(jnp.array([[3, 1], [0, 0]]), "true").tolist()
        [[0.75, 0.25], [0.0, 0.0]]
    """
    matrix = jnp.asarray(matrix)
    if normalize is None:
        return matrix
    if normalize not in _NORMALIZE:
        raise ValueError(f"normalize must be one of {_NORMALIZE}, got {normalize!r}")
    counts = matrix.astype(jnp.float32)
    if normalize == "true":
        total = jnp.sum(counts, axis=1, keepdims=True)
    elif normalize == "pred":
        total = jnp.sum(counts, axis=0, keepdims=True)
    else:
        total = jnp.sum(counts).reshape(1, 1)
    return _safe_divide(counts, total, 0.0)


# ---------------------------------------------------------------------------------------
# Precision, recall, F-beta
# ---------------------------------------------------------------------------------------


class PRFS(NamedTuple):
    """Precision, recall, F-beta and support (``None`` once averaged, as scikit-learn)."""

    precision: Array
    recall: Array
    fbeta: Array
    support: Array | None


def _nan_average(values: Array, weights: Array | None) -> Array:
    """Weighted mean ignoring NaN entries; all weights zero falls back to a plain mean."""
    valid = ~jnp.isnan(values)
    clean = jnp.where(valid, values, 0.0)
    plain = jnp.sum(clean) / jnp.sum(valid.astype(values.dtype))
    if weights is None:
        return plain
    w = jnp.where(valid, weights.astype(values.dtype), 0.0)
    total = jnp.sum(w)
    weighted = jnp.sum(clean * w) / jnp.where(total == 0, 1.0, total)
    return jnp.where(total == 0, plain, weighted)


def prfs_from_confusion_matrix(
    matrix: ArrayLike,
    *,
    beta: float = 1.0,
    average: str | None = None,
    pos_label: int = 1,
    zero_division: float | str = 0.0,
) -> PRFS:
    """Precision, recall, F-beta and support from a ``[K, K]`` confusion matrix.

    Per class ``k``: ``TP = C[k, k]``, ``precision = TP / sum_i C[i, k]``,
    ``recall = TP / sum_j C[k, j]`` and
    ``F_beta = (1 + beta^2) P R / (beta^2 P + R) = (1 + beta^2) TP / (beta^2 (TP + FN) +
    TP + FP)``. ``average`` reduces over classes: ``"binary"`` keeps class
    ``pos_label``; ``"micro"`` pools the counts; ``"macro"`` is the plain mean;
    ``"weighted"`` weights by support; ``None`` returns one value per class.

    Args:
        matrix: ``[K, K]`` counts (rows true, columns predicted).
        beta: weight of recall, >= 0 (``beta < 1`` favours precision); ``inf`` gives
            recall.
        average: ``None``, ``"binary"``, ``"micro"``, ``"macro"`` or ``"weighted"``.
        pos_label: the positive class for ``average="binary"``.
        zero_division: value (0, 1 or NaN) of a ratio with a zero denominator; NaN
            entries are left out of macro/weighted means.

    Returns:
        :class:`PRFS`: scalars when averaged (support ``None``), else ``[K]`` arrays
        with ``int32`` support.

    Example:
        >>> C = jnp.array([[5, 1], [2, 2]])
        >>> prfs_from_confusion_matrix(C, average="binary").precision
        Array(0.6666667, dtype=float32)

    Reference:
        van Rijsbergen, "Information Retrieval", 2nd ed., 1979 (the F-measure).
    """
    matrix = jnp.asarray(matrix)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"matrix must be a square [K, K] array, got shape {matrix.shape}")
    if average not in _AVERAGES:
        raise ValueError(f"average must be one of {_AVERAGES}, got {average!r}")
    check_positive("beta", beta, allow_zero=True)
    zero_value = _check_zero_division(zero_division)
    num_classes = matrix.shape[0]
    counts = matrix.astype(jnp.float32)
    tp = jnp.diagonal(counts)
    pred_sum = jnp.sum(counts, axis=0)
    true_sum = jnp.sum(counts, axis=1)
    support = jnp.sum(matrix, axis=1).astype(jnp.int32)
    if average == "binary":
        if num_classes != 2:
            raise ValueError(
                f"average='binary' needs 2 classes, got {num_classes}; use average='macro', "
                "'micro', 'weighted' or None for multiclass"
            )
        if pos_label not in (0, 1):
            raise ValueError(f"pos_label must be 0 or 1 for binary metrics, got {pos_label!r}")
        tp, pred_sum, true_sum = tp[pos_label], pred_sum[pos_label], true_sum[pos_label]
    elif average == "micro":
        tp, pred_sum, true_sum = jnp.sum(tp), jnp.sum(pred_sum), jnp.sum(true_sum)
    precision_value = _safe_divide(tp, pred_sum, zero_value)
    recall_value = _safe_divide(tp, true_sum, zero_value)
    if math.isinf(float(beta)):
        fbeta_value = recall_value
    elif float(beta) == 0.0:
        fbeta_value = precision_value
    else:
        beta2 = float(beta) ** 2
        fbeta_value = _safe_divide((1.0 + beta2) * tp, beta2 * true_sum + pred_sum, zero_value)
    if average in ("macro", "weighted"):
        weights = true_sum if average == "weighted" else None
        return PRFS(
            _nan_average(precision_value, weights),
            _nan_average(recall_value, weights),
            _nan_average(fbeta_value, weights),
            None,
        )
    if average is None:
        return PRFS(precision_value, recall_value, fbeta_value, support)
    return PRFS(precision_value, recall_value, fbeta_value, None)


def precision_recall_fscore_support(
    labels: ArrayLike,
    predictions: ArrayLike,
    *,
    num_classes: int = 2,
    beta: float = 1.0,
    average: str | None = None,
    pos_label: int = 1,
    zero_division: float | str = 0.0,
) -> PRFS:
    """Precision, recall, F-beta and support of predictions against labels.

    See :func:`prfs_from_confusion_matrix` for the formulas and options; the matrix is
    :func:`confusion_matrix` ``(labels, predictions, num_classes)``.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: ``[N]`` integer predictions or scores ``[N, num_classes]``.
        num_classes: number of classes ``K`` (static).
        beta: weight of recall in F-beta.
        average: ``None`` (per class, the default here), ``"binary"``, ``"micro"``,
            ``"macro"`` or ``"weighted"``.
        pos_label: positive class for ``"binary"``.
        zero_division: 0, 1 or NaN for undefined ratios.

    Returns:
        :class:`PRFS`.

    Example:
        >>> prfs = precision_recall_fscore_support(jnp.array([0, 1, 2]), jnp.array([0, 2, 2]),
        ...                                        num_classes=3)
        >>> prfs.recall.tolist()
        [1.0, 0.0, 1.0]
    """
    matrix = confusion_matrix(labels, predictions, num_classes)
    return prfs_from_confusion_matrix(
        matrix, beta=beta, average=average, pos_label=pos_label, zero_division=zero_division
    )


def precision(
    labels: ArrayLike,
    predictions: ArrayLike,
    *,
    num_classes: int = 2,
    average: str | None = "binary",
    pos_label: int = 1,
    zero_division: float | str = 0.0,
) -> Array:
    """Precision ``pi = TP / (TP + FP)``: the share of detections that are right.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: ``[N]`` integer predictions or scores ``[N, num_classes]``.
        num_classes: number of classes (static).
        average: ``"binary"`` (default), ``"micro"``, ``"macro"``, ``"weighted"`` or
            ``None`` (per class ``[K]``).
        pos_label: positive class for ``"binary"``.
        zero_division: value when nothing is predicted positive (0, 1 or NaN).

    Returns:
        Scalar, or ``[K]`` when ``average=None``.

    Example:
        >>> precision(jnp.array([0, 1, 1, 0]), jnp.array([1, 1, 0, 0]))
        Array(0.5, dtype=float32)
    """
    return precision_recall_fscore_support(
        labels,
        predictions,
        num_classes=num_classes,
        average=average,
        pos_label=pos_label,
        zero_division=zero_division,
    ).precision


def recall(
    labels: ArrayLike,
    predictions: ArrayLike,
    *,
    num_classes: int = 2,
    average: str | None = "binary",
    pos_label: int = 1,
    zero_division: float | str = 0.0,
) -> Array:
    """Recall ``rho = TP / (TP + FN)``: the share of true events that are detected.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: ``[N]`` integer predictions or scores ``[N, num_classes]``.
        num_classes: number of classes (static).
        average: ``"binary"`` (default), ``"micro"``, ``"macro"``, ``"weighted"`` or
            ``None`` (per class ``[K]``).
        pos_label: positive class for ``"binary"``.
        zero_division: value when a class has no true examples (0, 1 or NaN).

    Returns:
        Scalar, or ``[K]`` when ``average=None``.

    Example:
        >>> recall(jnp.array([0, 1, 1, 0]), jnp.array([1, 1, 0, 0]))
        Array(0.5, dtype=float32)
    """
    return precision_recall_fscore_support(
        labels,
        predictions,
        num_classes=num_classes,
        average=average,
        pos_label=pos_label,
        zero_division=zero_division,
    ).recall


def fbeta_score(
    labels: ArrayLike,
    predictions: ArrayLike,
    beta: float,
    *,
    num_classes: int = 2,
    average: str | None = "binary",
    pos_label: int = 1,
    zero_division: float | str = 0.0,
) -> Array:
    """F-measure ``F_beta = (1 + beta^2) pi rho / (beta^2 pi + rho)``.

    A weighted harmonic mean of precision ``pi`` and recall ``rho``: ``beta < 1``
    emphasizes precision, ``beta > 1`` recall.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: ``[N]`` integer predictions or scores ``[N, num_classes]``.
        beta: weight of recall, >= 0.
        num_classes: number of classes (static).
        average: ``"binary"`` (default), ``"micro"``, ``"macro"``, ``"weighted"`` or
            ``None``.
        pos_label: positive class for ``"binary"``.
        zero_division: value when ``TP + FP + FN = 0`` (0, 1 or NaN).

    Returns:
        Scalar, or ``[K]`` when ``average=None``.

    Example:
        >>> fbeta_score(jnp.array([0, 1, 1, 1]), jnp.array([1, 1, 0, 0]), beta=2.0)
        Array(0.35714287, dtype=float32)

    Reference:
        van Rijsbergen, "Information Retrieval", 2nd ed., 1979.
    """
    return precision_recall_fscore_support(
        labels,
        predictions,
        num_classes=num_classes,
        beta=beta,
        average=average,
        pos_label=pos_label,
        zero_division=zero_division,
    ).fbeta


def f1_score(
    labels: ArrayLike,
    predictions: ArrayLike,
    *,
    num_classes: int = 2,
    average: str | None = "binary",
    pos_label: int = 1,
    zero_division: float | str = 0.0,
) -> Array:
    """F1 score ``2 pi rho / (pi + rho)``, the harmonic mean of precision and recall.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: ``[N]`` integer predictions or scores ``[N, num_classes]``.
        num_classes: number of classes (static).
        average: ``"binary"`` (default), ``"micro"``, ``"macro"``, ``"weighted"`` or
            ``None``.
        pos_label: positive class for ``"binary"``.
        zero_division: value when ``TP + FP + FN = 0`` (0, 1 or NaN).

    Returns:
        Scalar, or ``[K]`` when ``average=None``.

    Example:
        >>> f1_score(jnp.array([0, 1, 1, 0]), jnp.array([1, 1, 0, 0]))
        Array(0.5, dtype=float32)
    """
    return fbeta_score(
        labels,
        predictions,
        1.0,
        num_classes=num_classes,
        average=average,
        pos_label=pos_label,
        zero_division=zero_division,
    )


def classification_report(
    labels: ArrayLike,
    predictions: ArrayLike,
    num_classes: int,
    *,
    target_names: tuple[str, ...] | None = None,
    zero_division: float | str = 0.0,
) -> dict[str, Any]:
    """Per-class precision, recall, F1 and support, plus accuracy and averages.

    The same layout as scikit-learn's ``classification_report(..., output_dict=True)``:
    ``{name: {"precision", "recall", "f1-score", "support"}, ..., "accuracy": float,
    "macro avg": {...}, "weighted avg": {...}}`` with Python floats. Runs on the host
    (call it outside ``jit``); use :class:`jaxdl.metrics.ConfusionMatrix` to accumulate
    the counts on device.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: ``[N]`` integer predictions or scores ``[N, num_classes]``.
        num_classes: number of classes ``K``.
        target_names: ``K`` display names (default ``"0"``, ``"1"``, ...).
        zero_division: 0, 1 or NaN for undefined ratios.

    Returns:
        The report dictionary.

    Example:
        >>> report = classification_report(jnp.array([0, 1, 1]), jnp.array([0, 1, 0]), 2)
        >>> report["1"]["recall"], report["accuracy"]
        (0.5, 0.6666666865348816)
    """
    matrix = confusion_matrix(labels, predictions, num_classes)
    return report_from_confusion_matrix(
        matrix, target_names=target_names, zero_division=zero_division
    )


def report_from_confusion_matrix(
    matrix: ArrayLike,
    *,
    target_names: tuple[str, ...] | None = None,
    zero_division: float | str = 0.0,
) -> dict[str, Any]:
    """:func:`classification_report` from accumulated ``[K, K]`` confusion counts.

    Args:
        matrix: ``[K, K]`` counts (concrete, not traced).
        target_names: ``K`` display names (default ``"0"``, ``"1"``, ...).
        zero_division: 0, 1 or NaN for undefined ratios.

    Returns:
        The report dictionary (see :func:`classification_report`).

    Example:
        >>> report_from_confusion_matrix(jnp.array([[2, 0], [1, 1]]))["0"]["precision"]
        0.6666666865348816
    """
    matrix = jnp.asarray(matrix)
    if not is_concrete(matrix):
        raise ValueError("classification_report builds a Python dict: call it outside jit")
    num_classes = matrix.shape[0]
    if target_names is None:
        target_names = tuple(str(k) for k in range(num_classes))
    if len(target_names) != num_classes:
        raise ValueError(f"target_names must hold {num_classes} names, got {len(target_names)}")
    per_class = prfs_from_confusion_matrix(matrix, average=None, zero_division=zero_division)
    total = int(jnp.sum(matrix))
    report: dict[str, Any] = {}
    for k, name in enumerate(target_names):
        report[name] = {
            "precision": float(per_class.precision[k]),
            "recall": float(per_class.recall[k]),
            "f1-score": float(per_class.fbeta[k]),
            "support": float(per_class.support[k]),
        }
    report["accuracy"] = float(jnp.trace(matrix) / max(total, 1))
    for average in ("macro", "weighted"):
        summary = prfs_from_confusion_matrix(matrix, average=average, zero_division=zero_division)
        report[f"{average} avg"] = {
            "precision": float(summary.precision),
            "recall": float(summary.recall),
            "f1-score": float(summary.fbeta),
            "support": float(total),
        }
    return report


# ---------------------------------------------------------------------------------------
# Costs
# ---------------------------------------------------------------------------------------


def _check_cost_matrix(cost_matrix: Array, num_classes: int | None = None) -> int:
    check_floating("cost_matrix", cost_matrix)
    if cost_matrix.ndim != 2 or cost_matrix.shape[0] != cost_matrix.shape[1]:
        raise ValueError(
            f"cost_matrix must be a square [K, K] array, got shape {cost_matrix.shape}"
        )
    if num_classes is not None and cost_matrix.shape[0] != num_classes:
        raise ValueError(
            f"cost_matrix must have shape ({num_classes}, {num_classes}) to match "
            f"{num_classes} classes, got {cost_matrix.shape}"
        )
    return cost_matrix.shape[0]


def cost_weighted_error(
    labels: ArrayLike, predictions: ArrayLike, cost_matrix: ArrayLike, normalize: bool = True
) -> Array:
    """Average (or total) cost of the decisions: ``(1/N) sum_n C[y_n, yhat_n]``.

    With ``C = 1 - I`` this is the error rate; an asymmetric ``C`` charges, e.g.,
    blocking a legitimate e-mail more than letting spam through.

    Args:
        labels: ``[N]`` integer true labels.
        predictions: ``[N]`` integer predictions or scores ``[N, K]``.
        cost_matrix: ``[K, K]`` float costs, ``C[i, j]`` = cost of predicting ``j`` when
            the truth is ``i``.
        normalize: mean over examples (default) or the total.

    Returns:
        Scalar cost.

    Example:
        >>> C = jnp.array([[0.0, 10.0], [1.0, 0.0]])
        >>> cost_weighted_error(jnp.array([0, 1, 1]), jnp.array([1, 0, 1]), C)
        Array(3.6666667, dtype=float32)
    """
    cost_matrix = jnp.asarray(cost_matrix)
    num_classes = _check_cost_matrix(cost_matrix)
    labels = jnp.asarray(labels)
    check_labels("labels", labels, num_classes)
    predictions, score_classes = to_predictions(labels, predictions)
    if score_classes is not None:
        _check_cost_matrix(cost_matrix, score_classes)
    check_labels("predictions", predictions, num_classes)
    costs = cost_matrix[labels, predictions]
    return jnp.mean(costs) if normalize else jnp.sum(costs)


def cost_sensitive_predictions(probabilities: ArrayLike, cost_matrix: ArrayLike) -> Array:
    """Bayes decisions minimizing the expected cost: ``argmin_j sum_i p_i C[i, j]``.

    Args:
        probabilities: ``[N, K]`` class probabilities.
        cost_matrix: ``[K, K]`` costs (rows true class, columns decision).

    Returns:
        ``[N]`` ``int32`` decisions.

    Example:
        >>> C = jnp.array([[0.0, 10.0], [1.0, 0.0]])
        >>> cost_sensitive_predictions(jnp.array([[0.2, 0.8]]), C).tolist()
        [0]
    """
    probabilities = jnp.asarray(probabilities)
    cost_matrix = jnp.asarray(cost_matrix)
    check_floating("probabilities", probabilities)
    if probabilities.ndim != 2:
        raise ValueError(f"probabilities must have shape (N, K), got {probabilities.shape}")
    _check_cost_matrix(cost_matrix, probabilities.shape[1])
    check_probabilities("probabilities", probabilities, axis=-1)
    expected_cost = probabilities @ cost_matrix
    return jnp.argmin(expected_cost, axis=-1).astype(jnp.int32)
