"""Resampling schemes for model selection: hold-out, k-fold, stratified k-fold, LOO, bootstrap.

Every split is returned as boolean masks with static shapes, one row per fold:
``train_mask [K, N]`` and ``test_mask [K, N]``. Folds whose training sets differ in
size by one example still stack, so a whole cross-validation runs as one ``vmap``
(``fit_many(..., data_axis=0)``) with the train mask as per-example weights. The
bootstrap gives resample *counts* per example (weights of the weighted loss) and the
out-of-bag mask.

For ``shuffle``-free folds (``key=None``) the partitions are the ones scikit-learn's
``KFold``, ``StratifiedKFold`` and ``LeaveOneOut`` give.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_in_range, check_integer, check_positive_int, check_rank
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "Bootstrap",
    "Folds",
    "bootstrap",
    "fold_indices",
    "holdout",
    "kfold",
    "leave_one_out",
    "stratified_kfold",
]


class Folds(NamedTuple):
    """Train/test partitions as stacked boolean masks.

    Attributes:
        train_mask: ``[K, N]`` bool, ``True`` where example ``n`` trains fold ``k``.
        test_mask: ``[K, N]`` bool, the complement of ``train_mask`` (each example is in
            the test part of exactly one fold for k-fold schemes).
    """

    train_mask: Array
    test_mask: Array

    @property
    def num_folds(self) -> int:
        """The number of folds ``K``."""
        return int(self.train_mask.shape[0])

    @property
    def train_weights(self) -> Array:
        """``[K, N]`` float32 per-example weights (1 in the training part, 0 elsewhere)."""
        return self.train_mask.astype(jnp.float32)


class Bootstrap(NamedTuple):
    """Bootstrap resamples as counts.

    Attributes:
        counts: ``[B, N]`` int32, how many times example ``n`` was drawn in resample ``b``
            (each row sums to ``N``).
        out_of_bag: ``[B, N]`` bool, examples never drawn in resample ``b``.
    """

    counts: Array
    out_of_bag: Array

    @property
    def weights(self) -> Array:
        """``[B, N]`` float32 counts, the per-example weights of a weighted loss."""
        return self.counts.astype(jnp.float32)


def _check_num_examples(num_examples: int) -> None:
    check_positive_int("num_examples", num_examples)


def _check_num_folds(num_folds: int, num_examples: int) -> None:
    check_positive_int("num_folds", num_folds)
    if num_folds < 2:
        raise ValueError(f"num_folds must be >= 2, got {num_folds}")
    if num_folds > num_examples:
        raise ValueError(
            f"num_folds must be <= the number of examples ({num_examples}), got {num_folds}"
        )


def _folds_from_assignment(fold_of: Array, num_folds: int) -> Folds:
    test_mask = fold_of[None, :] == jnp.arange(num_folds, dtype=fold_of.dtype)[:, None]
    return Folds(train_mask=~test_mask, test_mask=test_mask)


def holdout(key: Key, num_examples: int, test_fraction: float) -> Folds:
    """A single random train/test split (one fold) of ``N`` examples.

    The test part holds ``ceil(test_fraction * N)`` examples chosen uniformly at
    random, the rule of scikit-learn's ``train_test_split``.

    Args:
        key: PRNG key for the permutation.
        num_examples: ``N``.
        test_fraction: share of the examples held out, in ``(0, 1)``.

    Returns:
        :class:`Folds` with ``K = 1``.

    Example:
        >>> folds = holdout(jax.random.key(0), 10, 0.3)
        >>> int(folds.test_mask.sum())
        3
    """
    _check_num_examples(num_examples)
    check_in_range(
        "test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    num_test = math.ceil(test_fraction * num_examples)
    if num_test >= num_examples:
        raise ValueError(
            f"test_fraction {test_fraction} leaves no training example out of {num_examples}"
        )
    order = jax.random.permutation(key, num_examples)
    test = jnp.zeros(num_examples, jnp.bool_).at[order[:num_test]].set(True)
    return Folds(train_mask=~test[None, :], test_mask=test[None, :])


def kfold(key: Key | None, num_examples: int, num_folds: int) -> Folds:
    """K-fold cross-validation: ``N`` examples cut into ``K`` contiguous test folds.

    The first ``N mod K`` folds hold ``floor(N/K) + 1`` examples, the others
    ``floor(N/K)`` (scikit-learn's ``KFold``). With a key the examples are permuted first.

    Args:
        key: PRNG key to shuffle the examples, or ``None`` for the order as given.
        num_examples: ``N``.
        num_folds: ``K``, between 2 and ``N``.

    Returns:
        :class:`Folds` with masks ``[K, N]``.

    Example:
        >>> folds = kfold(None, 5, 2)
        >>> folds.test_mask.astype(int).tolist()
        [[1, 1, 1, 0, 0], [0, 0, 0, 1, 1]]
    """
    _check_num_examples(num_examples)
    _check_num_folds(num_folds, num_examples)
    sizes = np.full(num_folds, num_examples // num_folds)
    sizes[: num_examples % num_folds] += 1
    fold_at_position = jnp.asarray(np.repeat(np.arange(num_folds), sizes), jnp.int32)
    if key is None:
        fold_of = fold_at_position
    else:
        order = jax.random.permutation(key, num_examples)
        fold_of = jnp.zeros(num_examples, jnp.int32).at[order].set(fold_at_position)
    return _folds_from_assignment(fold_of, num_folds)


@functools.partial(jax.jit, static_argnums=(2, 3))
def _stratified_assignment(key: Key | None, labels: Array, num_folds: int, num_classes: int):
    num_examples = labels.shape[0]
    positions = jnp.arange(num_examples, dtype=jnp.int32)
    # Encode classes by order of first appearance (absent classes go last).
    first_seen = jnp.full(num_classes, num_examples, jnp.int32).at[labels].min(positions)
    class_rank = jnp.argsort(jnp.argsort(first_seen, stable=True), stable=True)
    encoded = class_rank[labels].astype(jnp.int32)
    # Allocation: the sorted encoded labels dealt round-robin to the folds.
    sorted_encoded = jnp.sort(encoded)
    dealt_to = positions % num_folds
    allocation = jnp.zeros((num_folds, num_classes), jnp.int32).at[dealt_to, sorted_encoded].add(1)
    # Rank of each example within its class (in data order, or shuffled by the key).
    tiebreak = positions if key is None else jax.random.permutation(key, num_examples)
    order = jnp.lexsort((tiebreak, encoded))
    class_counts = jnp.zeros(num_classes, jnp.int32).at[encoded].add(1)
    class_start = jnp.cumsum(class_counts) - class_counts
    rank_in_class = jnp.zeros(num_examples, jnp.int32).at[order].set(positions)
    rank_in_class = rank_in_class - class_start[encoded]
    # Fold = number of cumulative allocation bounds of its class that the rank passes.
    bounds = jnp.cumsum(allocation, axis=0)[:, encoded]  # [K, N]
    fold_of = jnp.sum(bounds <= rank_in_class[None, :], axis=0).astype(jnp.int32)
    return fold_of


def stratified_kfold(key: Key | None, labels: ArrayLike, num_folds: int, num_classes: int) -> Folds:
    """K-fold with each class spread over the folds in proportion to its frequency.

    Classes are ranked by first appearance; the sorted label sequence is dealt
    round-robin to the folds, which fixes how many examples of each class each test
    fold gets (scikit-learn's ``StratifiedKFold`` allocation); the examples of a class
    then fill its folds in order (or in random order with a key). Every test fold's
    class counts differ from ``N_c / K`` by less than one.

    Args:
        key: PRNG key to shuffle within classes, or ``None``.
        labels: ``[N]`` integer class labels in ``[0, num_classes)``.
        num_folds: ``K``, between 2 and ``N``.
        num_classes: number of classes ``C`` (static).

    Returns:
        :class:`Folds` with masks ``[K, N]``.

    Example:
        >>> folds = stratified_kfold(None, jnp.array([0, 0, 1, 1]), 2, 2)
        >>> folds.test_mask.astype(int).tolist()
        [[1, 0, 1, 0], [0, 1, 0, 1]]
    """
    labels = jnp.asarray(labels)
    check_rank("labels", labels, 1)
    check_integer("labels", labels)
    num_examples = int(labels.shape[0])
    if num_examples == 0:
        raise ValueError("labels must hold at least one example, got shape (0,)")
    check_positive_int("num_classes", num_classes)
    _check_num_folds(num_folds, num_examples)
    if not isinstance(labels, jax.core.Tracer):
        counts = np.bincount(np.asarray(labels), minlength=num_classes)
        if counts.max() < num_folds:
            raise ValueError(
                f"num_folds ({num_folds}) must not exceed the size of the largest class "
                f"({counts.max()})"
            )
    fold_of = _stratified_assignment(key, labels, num_folds, num_classes)
    return _folds_from_assignment(fold_of, num_folds)


def leave_one_out(num_examples: int) -> Folds:
    """Leave-one-out: ``N`` folds, fold ``n`` tests on example ``n`` alone.

    Args:
        num_examples: ``N`` (at least 2).

    Returns:
        :class:`Folds` with masks ``[N, N]`` (``test_mask`` is the identity).

    Example:
        >>> leave_one_out(3).test_mask.astype(int).tolist()
        [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    """
    _check_num_examples(num_examples)
    if num_examples < 2:
        raise ValueError(f"num_examples must be >= 2 for leave-one-out, got {num_examples}")
    test_mask = jnp.eye(num_examples, dtype=jnp.bool_)
    return Folds(train_mask=~test_mask, test_mask=test_mask)


def bootstrap(key: Key, num_examples: int, num_resamples: int) -> Bootstrap:
    """Bootstrap resamples: ``N`` draws with replacement, ``B`` times, as counts.

    The expected share of out-of-bag examples is ``(1 - 1/N)^N -> e^{-1} ~ 0.368``.

    Args:
        key: PRNG key.
        num_examples: ``N``.
        num_resamples: ``B``.

    Returns:
        :class:`Bootstrap` with ``counts [B, N]`` and ``out_of_bag [B, N]``.

    Example:
        >>> boot = bootstrap(jax.random.key(0), 100, 4)
        >>> boot.counts.sum(axis=1).tolist()
        [100, 100, 100, 100]

    Reference: Efron, "Bootstrap methods: another look at the jackknife", 1979.
    """
    _check_num_examples(num_examples)
    check_positive_int("num_resamples", num_resamples)
    draws = jax.random.randint(key, (num_resamples, num_examples), 0, num_examples)
    rows = jnp.arange(num_resamples)[:, None]
    counts = jnp.zeros((num_resamples, num_examples), jnp.int32).at[rows, draws].add(1)
    return Bootstrap(counts=counts, out_of_bag=counts == 0)


def fold_indices(mask: ArrayLike) -> list[np.ndarray]:
    """Host-side index lists of a ``[K, N]`` mask (one sorted array per fold).

    Example:
        >>> [i.tolist() for i in fold_indices(kfold(None, 4, 2).test_mask)]
        [[0, 1], [2, 3]]
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must have rank 2 [K, N], got shape {mask.shape}")
    return [np.flatnonzero(row) for row in mask]
