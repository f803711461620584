"""Argument checks shared by every public boundary.

Each check raises ``ValueError`` (or ``TypeError`` for dtypes) with a message that
names the argument, what was expected and what came, e.g.::

    ValueError: learning_rate must be > 0, got -0.1

Shape, rank and dtype checks are chex's (``chex.assert_shape``, ``assert_rank``,
``assert_type``), wrapped so the message names the argument (chex's says "input 0").
Checks look only at static information (shapes, dtypes, Python numbers), so they
are free under ``jit``. Value checks on traced arrays are skipped under tracing
(``is_concrete``) rather than failing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np


def is_concrete(x: Any) -> bool:
    """True when ``x`` holds actual values (not a tracer inside jit/vmap/grad).

    Example:
        >>> seen = []
        >>> _ = jax.jit(lambda x: seen.append(is_concrete(x)) or x)(jnp.ones(2))
        >>> is_concrete(jnp.ones(2)), seen
        (True, [False])
    """
    return not isinstance(x, jax.core.Tracer)


def _array_like(x: Any) -> Any:
    """``x`` itself when it has a shape (arrays, tracers), else as a NumPy array for chex."""
    return x if hasattr(x, "shape") and hasattr(x, "dtype") else np.asarray(x)


def check_positive(name: str, value: Any, *, allow_zero: bool = False) -> None:
    """Raise if a scalar hyperparameter is not > 0 (or >= 0 with ``allow_zero``).

    Example:
        >>> check_positive("weight_decay", 0.0, allow_zero=True)
        >>> check_positive("learning_rate", -0.1)
        Traceback (most recent call last):
        ...
        ValueError: learning_rate must be > 0, got -0.1
    """
    if not is_concrete(value) or callable(value):
        return
    v = float(np.asarray(value))
    ok = v >= 0 if allow_zero else v > 0
    if not ok or math.isnan(v):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be {bound}, got {value!r}")


def check_positive_int(name: str, value: Any, *, allow_zero: bool = False) -> None:
    """Raise unless ``value`` is a Python/NumPy integer > 0 (or >= 0).

    Example:
        >>> check_positive_int("num_epochs", 2.0)
        Traceback (most recent call last):
        ...
        TypeError: num_epochs must be an int, got float 2.0
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    check_positive(name, value, allow_zero=allow_zero)


def check_in_range(
    name: str,
    value: Any,
    low: float,
    high: float,
    *,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> None:
    """Raise unless ``low <(=) value <(=) high`` for a concrete scalar.

    Example:
        >>> check_in_range("rate", 0.5, 0.0, 1.0, high_inclusive=False)
        >>> check_in_range("rate", 1.0, 0.0, 1.0, high_inclusive=False)
        Traceback (most recent call last):
        ...
        ValueError: rate must lie in [0.0, 1.0), got 1.0
    """
    if not is_concrete(value):
        return
    v = float(np.asarray(value))
    ok_low = v >= low if low_inclusive else v > low
    ok_high = v <= high if high_inclusive else v < high
    if not (ok_low and ok_high) or math.isnan(v):
        lb = "[" if low_inclusive else "("
        hb = "]" if high_inclusive else ")"
        raise ValueError(f"{name} must lie in {lb}{low}, {high}{hb}, got {value!r}")


def check_rank(name: str, x: Any, rank: int | Sequence[int]) -> None:
    """Raise unless ``x.ndim`` equals ``rank`` (or is one of several ranks).

    Example:
        >>> check_rank("x", jnp.ones((2, 3)), (1, 2))
        >>> check_rank("x", jnp.ones(3), 2)
        Traceback (most recent call last):
        ...
        ValueError: x must have rank 2, got rank 1 with shape (3,)
    """
    ranks = (rank,) if isinstance(rank, int) else tuple(rank)
    try:
        chex.assert_rank(_array_like(x), set(ranks))
    except AssertionError:
        want = ranks[0] if len(ranks) == 1 else " or ".join(map(str, ranks))
        raise ValueError(
            f"{name} must have rank {want}, got rank {jnp.ndim(x)} with shape {jnp.shape(x)}"
        ) from None


def check_shape(name: str, x: Any, expected: Sequence[int | None]) -> None:
    """Raise unless ``x.shape`` matches ``expected``; ``None`` entries match any size.

    Example:
        >>> check_shape("kernel", jnp.ones((4, 3)), (None, 3))
        >>> check_shape("kernel", jnp.ones((4, 3)), (None, 2))
        Traceback (most recent call last):
        ...
        ValueError: kernel must have shape (*, 2), got (4, 3)
    """
    expected = tuple(expected)
    try:
        chex.assert_shape(_array_like(x), expected)
    except AssertionError:
        want = "(" + ", ".join("*" if e is None else str(e) for e in expected) + ")"
        raise ValueError(f"{name} must have shape {want}, got {tuple(jnp.shape(x))}") from None


def check_same_leading(names: Sequence[str], *arrays: Any) -> None:
    """Raise unless all arrays share the same leading (example) dimension.

    Example:
        >>> check_same_leading(("x", "y"), jnp.ones((4, 2)), jnp.ones(3))
        Traceback (most recent call last):
        ...
        ValueError: x and y must have the same number of rows, got x: 4, y: 3
    """
    sizes = [jnp.shape(a)[0] if jnp.ndim(a) else None for a in arrays]
    if len(set(sizes)) != 1:
        pairs = ", ".join(f"{n}: {s}" for n, s in zip(names, sizes, strict=True))
        raise ValueError(f"{' and '.join(names)} must have the same number of rows, got {pairs}")


def check_floating(name: str, x: Any) -> None:
    """Raise ``TypeError`` unless ``x`` has a floating dtype.

    Example:
        >>> check_floating("x", jnp.arange(3))
        Traceback (most recent call last):
        ...
        TypeError: x must have a floating dtype, got int32
    """
    try:
        chex.assert_type(_array_like(x), float)
    except AssertionError:
        raise TypeError(f"{name} must have a floating dtype, got {jnp.result_type(x)}") from None


def check_integer(name: str, x: Any) -> None:
    """Raise ``TypeError`` unless ``x`` has an integer dtype.

    Example:
        >>> check_integer("labels", jnp.ones(3))
        Traceback (most recent call last):
        ...
        TypeError: labels must have an integer dtype, got float32
    """
    try:
        chex.assert_type(_array_like(x), int)
    except AssertionError:
        raise TypeError(f"{name} must have an integer dtype, got {jnp.result_type(x)}") from None


def check_labels(name: str, labels: Any, num_classes: int) -> None:
    """Raise unless integer ``labels`` lie in ``[0, num_classes)`` (checked when concrete).

    Example:
        >>> check_labels("labels", jnp.array([0, 3]), 3)
        Traceback (most recent call last):
        ...
        ValueError: labels must lie in [0, 3), got values in [0, 3]
    """
    check_integer(name, labels)
    if not is_concrete(labels):
        return
    arr = np.asarray(labels)
    if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(
            f"{name} must lie in [0, {num_classes}), got values in [{arr.min()}, {arr.max()}]"
        )


def check_nonempty(name: str, x: Any) -> None:
    """Raise unless the leading dimension of ``x`` is non-zero.

    Example:
        >>> check_nonempty("x", jnp.ones((0, 2)))
        Traceback (most recent call last):
        ...
        ValueError: x must hold at least one example, got shape (0, 2)
    """
    if jnp.ndim(x) == 0 or jnp.shape(x)[0] == 0:
        raise ValueError(f"{name} must hold at least one example, got shape {jnp.shape(x)}")


def check_probabilities(name: str, p: Any, *, axis: int | None = None, atol: float = 1e-5) -> None:
    """Raise unless ``p`` lies in [0, 1] (and sums to 1 along ``axis`` when given).

    Example:
        >>> check_probabilities("p", jnp.array([[0.2, 0.8], [0.5, 0.5]]), axis=-1)
        >>> check_probabilities("p", jnp.array([0.5, 1.5]))
        Traceback (most recent call last):
        ...
        ValueError: p must hold probabilities in [0, 1], got values in [0.5, 1.5]
    """
    if not is_concrete(p):
        return
    arr = np.asarray(p, dtype=np.float64)
    if arr.size and (np.any(arr < -atol) or np.any(arr > 1 + atol) or np.any(np.isnan(arr))):
        raise ValueError(
            f"{name} must hold probabilities in [0, 1], got values in [{arr.min()}, {arr.max()}]"
        )
    if axis is not None and arr.size:
        sums = arr.sum(axis=axis)
        bad = np.abs(sums - 1) > max(atol, 1e-6 * arr.shape[axis])
        if np.any(bad):
            worst = sums.reshape(-1)[np.argmax(np.abs(sums - 1).reshape(-1))]
            raise ValueError(f"{name} must sum to 1 along axis {axis}, got a sum of {worst}")
