"""Mergeable metric states for streaming evaluation (in the style of CLU's metrics).

A state is a NamedTuple of sufficient statistics (a pytree, so it can be carried
through ``lax.scan``, returned from ``jit`` and ``vmap``-ed):

- ``State.empty(...)`` (alias ``init``) is the neutral element;
- ``State.from_batch(...)`` summarizes one batch;
- ``state.update(...)`` folds a batch in: ``merge(state, from_batch(...))``;
- ``merge(a, b)`` (also ``a.merge(b)``) combines two summaries, so that
  ``merge(from_batch(b1), from_batch(b2)) == from_batch(b1 + b2)``;
- ``compute(state)`` (also ``state.compute()``) gives the metric value.

Every ``from_batch`` takes an optional ``mask [N]`` (``bool`` or float weights) that
drops padded examples, e.g. the filled-up last batch of
``jaxdl.data.shuffled_batches(..., drop_remainder=False)``.

Example:
    >>> import jax.numpy as jnp
    >>> batches = [(jnp.array([[2.0, 0.0], [0.0, 1.0]]), jnp.array([0, 0])),
    ...            (jnp.array([[0.0, 3.0]]), jnp.array([1]))]
    >>> state = Accuracy.empty()
    >>> for logits, labels in batches:
    ...     state = state.update(labels, logits)
    >>> state.compute()  # 2 of 3 right
    Array(0.6666667, dtype=float32)
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_integer, check_labels, check_positive_int, check_shape
from jaxdl.metrics.classification import (
    PRFS,
    confusion_matrix,
    normalize_confusion_matrix,
    prfs_from_confusion_matrix,
    report_from_confusion_matrix,
    to_predictions,
)
from jaxdl.typing import Array, ArrayLike

__all__ = ["MSE", "Accuracy", "Average", "ConfusionMatrix", "Mean", "compute", "merge"]


def _weights(mask: ArrayLike | None, leading: tuple[int, ...], name: str = "mask") -> Array:
    if mask is None:
        return jnp.ones(leading, jnp.float32)
    mask = jnp.asarray(mask)
    check_shape(name, mask, leading)
    return mask.astype(jnp.float32)


def merge(a: Any, b: Any) -> Any:
    """Combine two states of the same type: ``a.merge(b)``.

    Example:
        >>> merge(Mean.from_batch(jnp.array([1.0])), Mean.from_batch(jnp.array([3.0]))).compute()
        Array(2., dtype=float32)
    """
    return a.merge(b)


def compute(state: Any) -> Any:
    """The metric value of a state: ``state.compute()``.

    Example:
        >>> compute(Mean.from_batch(jnp.array([1.0, 3.0])))
        Array(2., dtype=float32)
    """
    return state.compute()


def _add(a: NamedTuple, b: NamedTuple) -> Any:
    if type(a) is not type(b):
        raise TypeError(f"cannot merge {type(a).__name__} with {type(b).__name__}")
    return jax.tree.map(jnp.add, a, b)


class Mean(NamedTuple):
    """Running weighted mean ``sum_n w_n v_n / sum_n w_n`` (losses, any scalar metric).

    Attributes:
        total: weighted sum of the values (``float32`` scalar).
        count: sum of the weights (``float32`` scalar).
    """

    total: Array
    count: Array

    @classmethod
    def empty(cls) -> Mean:
        """The neutral state: nothing seen (``compute`` gives NaN)."""
        zero = jnp.zeros((), jnp.float32)
        return cls(total=zero, count=zero)

    @classmethod
    def init(cls) -> Mean:
        """Alias of :meth:`empty`."""
        return cls.empty()

    @classmethod
    def from_batch(cls, values: ArrayLike, weights: ArrayLike | None = None) -> Mean:
        """Summarize ``values [...]`` (a scalar counts as one value) with optional weights.

        Args:
            values: float values of any shape.
            weights: same shape as ``values`` (or ``None`` for weight 1).
        """
        values = jnp.asarray(values, jnp.float32)
        w = _weights(weights, values.shape, "weights")
        return cls(total=jnp.sum(values * w), count=jnp.sum(w))

    def update(self, values: ArrayLike, weights: ArrayLike | None = None) -> Mean:
        """Fold a batch in: ``merge(self, from_batch(values, weights))``."""
        return self.merge(type(self).from_batch(values, weights))

    def merge(self, other: Mean) -> Mean:
        """Sum of the sufficient statistics of two states."""
        return _add(self, other)

    def compute(self) -> Array:
        """The weighted mean (NaN when empty)."""
        return self.total / self.count


Average = Mean
"""Alias of :class:`Mean` (CLU's name)."""


class Accuracy(NamedTuple):
    """Streaming accuracy: correct predictions over examples seen.

    Attributes:
        correct: (weighted) number of correct predictions, ``float32`` scalar.
        count: (weighted) number of examples, ``float32`` scalar.
    """

    correct: Array
    count: Array

    @classmethod
    def empty(cls) -> Accuracy:
        """The neutral state (``compute`` gives NaN)."""
        zero = jnp.zeros((), jnp.float32)
        return cls(correct=zero, count=zero)

    @classmethod
    def init(cls) -> Accuracy:
        """Alias of :meth:`empty`."""
        return cls.empty()

    @classmethod
    def from_batch(
        cls, labels: ArrayLike, predictions: ArrayLike, mask: ArrayLike | None = None
    ) -> Accuracy:
        """Summarize one batch.

        Args:
            labels: ``[N]`` integer labels.
            predictions: scores ``[N, K]`` or integer predictions ``[N]``.
            mask: optional ``[N]`` weights (0 drops an example).
        """
        labels = jnp.asarray(labels)
        check_integer("labels", labels)
        predictions, num_classes = to_predictions(labels, predictions)
        if num_classes is not None:
            check_labels("labels", labels, num_classes)
        w = _weights(mask, labels.shape)
        correct = (predictions == labels).astype(jnp.float32)
        return cls(correct=jnp.sum(correct * w), count=jnp.sum(w))

    def update(
        self, labels: ArrayLike, predictions: ArrayLike, mask: ArrayLike | None = None
    ) -> Accuracy:
        """Fold a batch in."""
        return self.merge(type(self).from_batch(labels, predictions, mask))

    def merge(self, other: Accuracy) -> Accuracy:
        """Sum of the counts of two states."""
        return _add(self, other)

    def compute(self) -> Array:
        """Accuracy ``correct / count``."""
        return self.correct / self.count


class ConfusionMatrix(NamedTuple):
    """Streaming ``[K, K]`` confusion counts, from which every set-based metric follows.

    Attributes:
        matrix: ``[K, K]`` ``int32`` counts, rows true class, columns prediction.
    """

    matrix: Array

    @classmethod
    def empty(cls, num_classes: int) -> ConfusionMatrix:
        """Zero counts for ``num_classes`` classes."""
        check_positive_int("num_classes", num_classes)
        return cls(matrix=jnp.zeros((num_classes, num_classes), jnp.int32))

    @classmethod
    def init(cls, num_classes: int) -> ConfusionMatrix:
        """Alias of :meth:`empty`."""
        return cls.empty(num_classes)

    @classmethod
    def from_batch(
        cls,
        labels: ArrayLike,
        predictions: ArrayLike,
        num_classes: int,
        mask: ArrayLike | None = None,
    ) -> ConfusionMatrix:
        """Counts of one batch.

        Args:
            labels: ``[N]`` integer labels.
            predictions: ``[N]`` integer predictions or scores ``[N, K]``.
            num_classes: ``K`` (static).
            mask: optional ``[N]`` boolean mask (``True`` keeps an example).
        """
        labels = jnp.asarray(labels)
        if mask is None:
            return cls(matrix=confusion_matrix(labels, predictions, num_classes))
        check_shape("mask", mask, labels.shape)
        predictions, _ = to_predictions(labels, predictions)
        keep = jnp.asarray(mask).astype(jnp.int32)
        check_labels("labels", labels, num_classes)
        check_labels("predictions", predictions, num_classes)
        matrix = jnp.zeros((num_classes, num_classes), jnp.int32)
        matrix = matrix.at[labels.ravel(), predictions.ravel()].add(keep.ravel())
        return cls(matrix=matrix)

    def update(
        self, labels: ArrayLike, predictions: ArrayLike, mask: ArrayLike | None = None
    ) -> ConfusionMatrix:
        """Fold a batch in."""
        num_classes = self.matrix.shape[0]
        return self.merge(type(self).from_batch(labels, predictions, num_classes, mask))

    def merge(self, other: ConfusionMatrix) -> ConfusionMatrix:
        """Sum of the counts."""
        if self.matrix.shape != other.matrix.shape:
            raise ValueError(
                f"cannot merge confusion matrices of shapes {self.matrix.shape} and "
                f"{other.matrix.shape}"
            )
        return _add(self, other)

    def compute(self, normalize: str | None = None) -> Array:
        """The counts, optionally normalized (``"true"``, ``"pred"``, ``"all"``)."""
        return normalize_confusion_matrix(self.matrix, normalize)

    def accuracy(self) -> Array:
        """Trace over total."""
        counts = self.matrix.astype(jnp.float32)
        return jnp.trace(counts) / jnp.sum(counts)

    def prfs(
        self,
        *,
        beta: float = 1.0,
        average: str | None = None,
        pos_label: int = 1,
        zero_division: float | str = 0.0,
    ) -> PRFS:
        """Precision, recall, F-beta, support (see ``prfs_from_confusion_matrix``)."""
        return prfs_from_confusion_matrix(
            self.matrix,
            beta=beta,
            average=average,
            pos_label=pos_label,
            zero_division=zero_division,
        )

    def precision(self, average: str | None = "macro", **kwargs: Any) -> Array:
        """Precision with the given averaging (default macro)."""
        return self.prfs(average=average, **kwargs).precision

    def recall(self, average: str | None = "macro", **kwargs: Any) -> Array:
        """Recall with the given averaging (default macro)."""
        return self.prfs(average=average, **kwargs).recall

    def fbeta(self, beta: float, average: str | None = "macro", **kwargs: Any) -> Array:
        """F-beta with the given averaging (default macro)."""
        return self.prfs(beta=beta, average=average, **kwargs).fbeta

    def f1(self, average: str | None = "macro", **kwargs: Any) -> Array:
        """F1 with the given averaging (default macro)."""
        return self.prfs(beta=1.0, average=average, **kwargs).fbeta

    def report(self, **kwargs: Any) -> dict[str, Any]:
        """scikit-learn-style classification report dict (host side)."""
        return report_from_confusion_matrix(self.matrix, **kwargs)


class MSE(NamedTuple):
    """Streaming mean squared error over all target entries.

    Attributes:
        sum_squared_error: weighted sum of squared errors, ``float32`` scalar.
        count: weighted number of target entries, ``float32`` scalar.
    """

    sum_squared_error: Array
    count: Array

    @classmethod
    def empty(cls) -> MSE:
        """The neutral state (``compute`` gives NaN)."""
        zero = jnp.zeros((), jnp.float32)
        return cls(sum_squared_error=zero, count=zero)

    @classmethod
    def init(cls) -> MSE:
        """Alias of :meth:`empty`."""
        return cls.empty()

    @classmethod
    def from_batch(
        cls, targets: ArrayLike, predictions: ArrayLike, mask: ArrayLike | None = None
    ) -> MSE:
        """Summarize one batch.

        Args:
            targets: same shape.
            predictions: ``[N, ...]`` float predictions.
            mask: optional ``[N]`` per-example weights.
        """
        predictions = jnp.asarray(predictions, jnp.float32)
        targets = jnp.asarray(targets, jnp.float32)
        check_shape("predictions", predictions, targets.shape)
        if targets.ndim == 0:
            raise ValueError("targets must have a leading example axis, got a scalar")
        squared = jnp.square(predictions - targets).reshape(targets.shape[0], -1)
        w = _weights(mask, targets.shape[:1])
        return cls(
            sum_squared_error=jnp.sum(squared * w[:, None]),
            count=jnp.sum(w) * squared.shape[1],
        )

    def update(
        self, targets: ArrayLike, predictions: ArrayLike, mask: ArrayLike | None = None
    ) -> MSE:
        """Fold a batch in."""
        return self.merge(type(self).from_batch(targets, predictions, mask))

    def merge(self, other: MSE) -> MSE:
        """Sum of the statistics."""
        return _add(self, other)

    def compute(self) -> Array:
        """Mean squared error over all entries seen."""
        return self.sum_squared_error / self.count

    def rmse(self) -> Array:
        """Square root of the pooled MSE."""
        return jnp.sqrt(self.compute())
