"""Preprocessing: standardization, hold-out splits, minibatching and one-hot labels.

The device-side functions (``standardize``, ``train_test_split``, ``shuffled_batches``,
``one_hot``) are pure and jittable with their sizes static; :func:`iterate_batches` is a
host-side Python iterator for code outside ``jit``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import (
    check_floating,
    check_in_range,
    check_integer,
    check_labels,
    check_nonempty,
    check_positive,
    check_positive_int,
    check_same_leading,
    is_concrete,
)
from jaxdl._numerics import negligible_variance, refined_mean
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "Split",
    "StandardizeStats",
    "apply_standardize",
    "iterate_batches",
    "one_hot",
    "shuffled_batches",
    "standardize",
    "train_test_split",
    "unstandardize",
]


# ---------------------------------------------------------------------------------------
# Standardization
# ---------------------------------------------------------------------------------------


class StandardizeStats(NamedTuple):
    """Per-feature statistics fitted on the training inputs.

    Attributes:
        mean: ``[...feature shape]`` mean over the examples.
        std: ``[...feature shape]`` standard deviation; features whose spread is only
            rounding error (a constant column) get 1 so that they pass through centred
            but unscaled (as scikit-learn does).
    """

    mean: Array
    std: Array


def standardize(
    x_train: ArrayLike, *others: ArrayLike, eps: float = 0.0
) -> tuple[StandardizeStats, tuple[Array, ...]]:
    """Z-score features with statistics of the training set only.

    ``z = (x - mu) / sigma`` with ``mu``, ``sigma`` the per-feature mean and (population)
    standard deviation over the examples (axis 0) of ``x_train``; the same ``mu``,
    ``sigma`` transform every array in ``others`` (validation, test), so no test
    information leaks into preprocessing.

    Args:
        x_train: ``[n, ...]`` floating training inputs, ``n >= 1``.
        *others: further arrays ``[m, ...]`` with the same feature shape.
        eps: added to ``sigma`` before dividing, >= 0.

    Returns:
        ``(stats, (x_train_z, *others_z))``.

    Example:
        >>> stats, (train_z, test_z) = standardize(jnp.array([[1.0], [3.0]]), jnp.array([[5.0]]))
        >>> train_z.ravel().tolist(), test_z.ravel().tolist()
        ([-1.0, 1.0], [3.0])
    """
    x_train = jnp.asarray(x_train)
    check_floating("x_train", x_train)
    check_nonempty("x_train", x_train)
    check_positive("eps", eps, allow_zero=True)
    mean = refined_mean(x_train, axis=0)
    variance = jnp.mean(jnp.square(x_train - mean[None]), axis=0)
    # A constant column has a float variance of rounding size, not 0: compare against
    # the rounding error of the data's scale (scikit-learn's test), never against 0.
    constant = negligible_variance(variance, mean)
    std = jnp.where(constant, jnp.ones_like(variance), jnp.sqrt(variance)) + eps
    stats = StandardizeStats(mean=mean, std=std)
    outputs = [apply_standardize(stats, x_train)]
    for index, other in enumerate(others):
        other = jnp.asarray(other)
        check_floating(f"others[{index}]", other)
        if other.shape[1:] != x_train.shape[1:]:
            raise ValueError(
                f"others[{index}] must have feature shape {x_train.shape[1:]} like x_train, "
                f"got shape {other.shape}"
            )
        outputs.append(apply_standardize(stats, other))
    return stats, tuple(outputs)


def apply_standardize(stats: StandardizeStats, x: ArrayLike) -> Array:
    """Apply fitted statistics: ``(x - mean) / std``.

    Args:
        stats: from :func:`standardize`.
        x: ``[m, ...]`` inputs with the fitted feature shape.

    Returns:
        The standardized array, same shape as ``x``.

    Example:
        >>> stats, _ = standardize(jnp.array([[0.0], [2.0]]))
        >>> apply_standardize(stats, jnp.array([[4.0]])).tolist()
        [[3.0]]
    """
    x = jnp.asarray(x)
    return (x - stats.mean[None]) / stats.std[None]


def unstandardize(stats: StandardizeStats, z: ArrayLike) -> Array:
    """Invert :func:`apply_standardize`: ``z * std + mean`` (e.g. to report predictions).

    Args:
        stats: from :func:`standardize`.
        z: ``[m, ...]`` standardized values.

    Returns:
        Values in the original units, same shape as ``z``.

    Example:
        >>> stats, (z,) = standardize(jnp.array([[1.0], [3.0]]))
        >>> unstandardize(stats, z).ravel().tolist()
        [1.0, 3.0]
    """
    z = jnp.asarray(z)
    return z * stats.std[None] + stats.mean[None]


# ---------------------------------------------------------------------------------------
# Hold-out split
# ---------------------------------------------------------------------------------------


class Split(NamedTuple):
    """A train/test split, in the same order as :class:`jaxdl.data.Dataset`."""

    x_train: Array
    y_train: Array
    x_test: Array
    y_test: Array


def _num_test(num_samples: int, test_fraction: float) -> int:
    num_test = math.ceil(test_fraction * num_samples)
    if num_test < 1 or num_test > num_samples - 1:
        raise ValueError(
            f"test_fraction={test_fraction} leaves {num_test} test and "
            f"{num_samples - num_test} training examples out of {num_samples}; "
            "both parts must be non-empty"
        )
    return num_test


def _stratified_test_mask(key: Key, y: Array, num_test: int, num_classes: int) -> Array:
    """Boolean mask selecting ``num_test`` examples, class shares as in ``y``.

    Class ``c`` with ``n_c`` examples gets ``floor(num_test n_c / n)`` test slots; the
    remaining slots go to the classes with the largest fractional parts. Within a
    class, the examples are picked uniformly at random.
    """
    n = y.shape[0]
    rank_key, tie_key = jax.random.split(key)
    counts = jnp.zeros((num_classes,), jnp.int32).at[y].add(1)
    exact = num_test * counts.astype(jnp.float32) / n
    quota = jnp.floor(exact).astype(jnp.int32)
    remainder = num_test - jnp.sum(quota)
    # Random tie-break among equal fractional parts; classes without examples never win.
    fraction = jnp.where(counts > 0, exact - quota.astype(jnp.float32), -1.0)
    jitter = jax.random.uniform(tie_key, (num_classes,), maxval=1e-3)
    order = jnp.argsort(-(fraction + jitter))
    bonus = (
        jnp.zeros((num_classes,), jnp.int32)
        .at[order]
        .set((jnp.arange(num_classes) < remainder).astype(jnp.int32))
    )
    quota = jnp.minimum(quota + bonus, counts)
    # Rank of each example among its class in a random order.
    priority = jax.random.uniform(rank_key, (n,))
    order = jnp.lexsort((priority, y))
    sorted_y = y[order]
    first_of_class = jnp.searchsorted(sorted_y, sorted_y, side="left")
    rank_sorted = jnp.arange(n) - first_of_class
    rank = jnp.zeros((n,), jnp.int32).at[order].set(rank_sorted.astype(jnp.int32))
    return rank < quota[y]


def train_test_split(
    key: Key,
    x: ArrayLike,
    y: ArrayLike,
    test_fraction: float = 0.2,
    *,
    stratify: bool = False,
    num_classes: int | None = None,
) -> Split:
    """Random hold-out split into a training and a test part.

    ``ceil(test_fraction * n)`` examples go to the test part (as in scikit-learn). With
    ``stratify=True`` every class keeps (up to rounding) its share in both parts.
    Jittable with ``test_fraction`` (and ``num_classes`` when stratifying) static.

    Args:
        key: PRNG key.
        x: ``[n, ...]`` inputs.
        y: ``[n, ...]`` targets (``int`` labels ``[n]`` when ``stratify``).
        test_fraction: share of examples for the test part, in (0, 1).
        stratify: keep the class proportions of ``y`` in both parts.
        num_classes: number of classes for stratification; inferred as
            ``max(y) + 1`` on concrete input, required under ``jit``.

    Returns:
        :class:`Split` ``(x_train, y_train, x_test, y_test)``; within each part the
        examples keep their original relative order.

    Example:
        >>> x, y = jnp.arange(10.0)[:, None], jnp.arange(10) % 2
        >>> split = train_test_split(jax.random.key(0), x, y, 0.2, stratify=True)
        >>> split.x_train.shape, split.y_test.tolist().count(1)
        ((8, 1), 1)
    """
    x = jnp.asarray(x)
    y = jnp.asarray(y)
    check_nonempty("x", x)
    check_nonempty("y", y)
    check_same_leading(("x", "y"), x, y)
    check_in_range(
        "test_fraction", test_fraction, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    n = x.shape[0]
    num_test = _num_test(n, test_fraction)
    if stratify:
        check_integer("y", y)
        if y.ndim != 1:
            raise ValueError(f"y must have rank 1 to stratify, got shape {y.shape}")
        if num_classes is None:
            if not is_concrete(y):
                raise ValueError("num_classes must be given to stratify under jit/vmap")
            num_classes = int(jnp.max(y)) + 1
        check_positive_int("num_classes", num_classes)
        check_labels("y", y, num_classes)
        is_test = _stratified_test_mask(key, y, num_test, num_classes)
    else:
        ranks = jnp.argsort(jax.random.permutation(key, n))
        is_test = ranks < num_test
    # Stable sort puts the selected examples first and keeps their original order.
    order = jnp.argsort(~is_test, stable=True)
    test_index, train_index = order[:num_test], order[num_test:]
    return Split(x[train_index], y[train_index], x[test_index], y[test_index])


# ---------------------------------------------------------------------------------------
# Minibatches
# ---------------------------------------------------------------------------------------


def _check_batching(x: Array, y: Array | None, batch_size: int) -> int:
    check_nonempty("x", x)
    if y is not None:
        check_same_leading(("x", "y"), x, y)
    check_positive_int("batch_size", batch_size)
    n = x.shape[0]
    if batch_size > n:
        raise ValueError(f"batch_size must be <= the number of examples {n}, got {batch_size}")
    return n


def shuffled_batches(
    key: Key, x: ArrayLike, y: ArrayLike | None, batch_size: int, drop_remainder: bool = True
) -> tuple[Array, Array | None]:
    """One epoch of shuffled minibatches stacked for ``lax.scan``.

    A random permutation of the ``n`` examples, reshaped to
    ``[num_batches, batch_size, ...]``. With ``drop_remainder`` the last ``n mod
    batch_size`` permuted examples are left out (``num_batches = n // batch_size``);
    otherwise the last batch is filled up with the first examples of the permutation
    (``num_batches = ceil(n / batch_size)``), so every example is seen at least once
    and batches keep a static shape. Jittable with ``batch_size`` and
    ``drop_remainder`` static.

    Args:
        key: PRNG key.
        x: ``[n, ...]`` inputs.
        y: ``[n, ...]`` targets, or ``None``.
        batch_size: examples per batch, ``1 <= batch_size <= n``.
        drop_remainder: drop the incomplete last batch (default) or fill it up.

    Returns:
        ``(x_batches [num_batches, batch_size, ...], y_batches or None)``.

    Example:
        >>> xb, yb = shuffled_batches(jax.random.key(0), jnp.ones((10, 3)), jnp.zeros(10), 4)
        >>> xb.shape, yb.shape
        ((2, 4, 3), (2, 4))
    """
    x = jnp.asarray(x)
    y = None if y is None else jnp.asarray(y)
    n = _check_batching(x, y, batch_size)
    if drop_remainder:
        num_batches = n // batch_size
    else:
        num_batches = -(-n // batch_size)
    permutation = jax.random.permutation(key, n)
    index = jnp.take(permutation, jnp.arange(num_batches * batch_size) % n)
    index = index.reshape(num_batches, batch_size)
    x_batches = x[index]
    y_batches = None if y is None else y[index]
    return x_batches, y_batches


def iterate_batches(
    key: Key | None,
    x: ArrayLike,
    y: ArrayLike | None,
    batch_size: int,
    drop_remainder: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Host-side iterator over minibatches (NumPy arrays), for code outside ``jit``.

    Unlike :func:`shuffled_batches`, the last batch may be smaller than
    ``batch_size`` (unless ``drop_remainder``), so every example is seen exactly once.

    Args:
        key: PRNG key for the shuffle, or ``None`` to keep the input order (evaluation).
        x: ``[n, ...]`` inputs.
        y: ``[n, ...]`` targets, or ``None``.
        batch_size: examples per batch, ``1 <= batch_size <= n``.
        drop_remainder: skip the incomplete last batch.

    Yields:
        ``(x_batch, y_batch or None)`` NumPy arrays.

    Example:
        >>> sizes = [len(xb) for xb, _ in iterate_batches(None, np.zeros((10, 2)), None, 4)]
        >>> sizes
        [4, 4, 2]
    """
    x = np.asarray(x)
    y = None if y is None else np.asarray(y)
    n = _check_batching(x, y, batch_size)
    order = np.arange(n) if key is None else np.asarray(jax.random.permutation(key, n))
    stop = n - n % batch_size if drop_remainder else n
    for start in range(0, stop, batch_size):
        index = order[start : start + batch_size]
        yield x[index], (None if y is None else y[index])


# ---------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------


def one_hot(labels: ArrayLike, num_classes: int, dtype: jnp.dtype = jnp.float32) -> Array:
    """One-hot encode integer labels: ``e[..., k] = 1 if labels == k else 0``.

    Args:
        labels: ``[...]`` integer labels in ``[0, num_classes)``.
        num_classes: number of classes ``K`` (static).
        dtype: output dtype.

    Returns:
        ``[..., K]`` array of 0/1.

    Example:
        >>> one_hot(jnp.array([0, 2]), 3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    labels = jnp.asarray(labels)
    check_positive_int("num_classes", num_classes)
    check_labels("labels", labels, num_classes)
    return jax.nn.one_hot(labels, num_classes, dtype=dtype)
