"""Weight initializers of the course, as flax-style ``init(key, shape, dtype)`` callables.

Each public function here is a *factory* (like ``flax.linen.initializers.lecun_uniform()``):
call it with its hyperparameters and pass the result as ``kernel_init``/``bias_init``::

    nn.Dense(16, kernel_init=lecun_uniform_course(), bias_init=constant(0.0))

Random initial weights exist to *break the symmetry* between the units of a layer: with
equal initial weights every unit of a layer computes the same function and receives the
same gradient, so they stay equal forever (see ``tests/nn/test_initializers.py``).

For a kernel of shape ``(..., m, n)`` (flax's Dense ``(in, out)`` and Conv ``HWIO``), the
fan-in is ``m`` times the receptive field (product of the leading axes) and the fan-out
is ``n`` times the receptive field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive
from jaxdl.typing import Array, Key

__all__ = [
    "constant",
    "fans",
    "glorot_uniform_normalized",
    "lecun_uniform_course",
    "small_uniform",
]


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """Fan-in and fan-out of a kernel of shape ``(*receptive_field, m, n)``.

    Args:
        shape: kernel shape with at least two axes; the last two are (inputs, outputs).

    Returns:
        ``(fan_in, fan_out) = (m r, n r)`` with ``r`` the product of the leading axes.

    Raises:
        ValueError: if ``shape`` has fewer than two axes.

    Example:
        >>> fans((3, 3, 4, 8))
        (36, 72)
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        raise ValueError(
            f"shape must have at least 2 axes (inputs, outputs) to define a fan-in, got {shape}"
        )
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def _uniform(key: Key, shape: Sequence[int], dtype, limit: float) -> Array:
    return jax.random.uniform(key, tuple(shape), dtype, minval=-limit, maxval=limit)


def lecun_uniform_course():
    """Uniform ``U(-1/sqrt(m), 1/sqrt(m))`` with ``m`` the fan-in (variance ``1 / (3 m)``).

    The heuristic of Goodfellow et al. (2016, sec. 8.4): larger layers get smaller
    weights, so a unit's net input keeps a similar scale whatever its fan-in.

    Returns:
        ``init(key, shape, dtype=float32) -> Array`` for kernels of rank >= 2.

    Example:
        >>> w = lecun_uniform_course()(jax.random.key(0), (100, 3))
        >>> bool(jnp.all(jnp.abs(w) <= 0.1))
        True
    """

    def init(key: Key, shape: Sequence[int], dtype=jnp.float32) -> Array:
        fan_in, _ = fans(shape)
        return _uniform(key, shape, dtype, 1.0 / math.sqrt(fan_in))

    return init


def glorot_uniform_normalized():
    """Normalized (Glorot) initialization ``U(-sqrt(6/(m+n)), sqrt(6/(m+n)))``.

    Variance ``2 / (m + n)``: a compromise between keeping the forward activations
    (fan-in ``m``) and the backward gradients (fan-out ``n``) at the same scale
    (Glorot & Bengio, 2010). Identical to ``jax.nn.initializers.glorot_uniform()``.

    Returns:
        ``init(key, shape, dtype=float32) -> Array`` for kernels of rank >= 2.

    Example:
        >>> w = glorot_uniform_normalized()(jax.random.key(0), (4, 2))
        >>> bool(jnp.all(jnp.abs(w) <= 1.0))
        True
    """

    def init(key: Key, shape: Sequence[int], dtype=jnp.float32) -> Array:
        fan_in, fan_out = fans(shape)
        return _uniform(key, shape, dtype, math.sqrt(6.0 / (fan_in + fan_out)))

    return init


def small_uniform(scale: float = 0.5):
    """Small uniform weights ``U(-scale, scale)`` (the classic backprop recipe: +-0.5).

    Args:
        scale: half-width of the interval (> 0).

    Returns:
        ``init(key, shape, dtype=float32) -> Array`` for any shape (also biases).

    Raises:
        ValueError: if ``scale <= 0``.

    Example:
        >>> w = small_uniform(0.1)(jax.random.key(0), (5,))
        >>> bool(jnp.all(jnp.abs(w) <= 0.1))
        True
    """
    check_positive("scale", scale)

    def init(key: Key, shape: Sequence[int], dtype=jnp.float32) -> Array:
        return _uniform(key, shape, dtype, float(scale))

    return init


def constant(value: float):
    """Every entry equal to ``value`` (for biases; for weights it cannot break symmetry).

    Args:
        value: the constant.

    Returns:
        ``init(key, shape, dtype=float32) -> Array``; the key is ignored.

    Example:
        >>> constant(0.1)(jax.random.key(0), (2,)).tolist()
        [0.10000000149011612, 0.10000000149011612]
    """
    if not isinstance(value, int | float):
        value = float(jnp.asarray(value))

    def init(key: Key, shape: Sequence[int], dtype=jnp.float32) -> Array:
        del key
        return jnp.full(tuple(shape), value, dtype)

    return init
