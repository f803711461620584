"""Noise and corruption primitives, key first: the one copy every room uses.

- :func:`gaussian_noise`: additive isotropic Gaussian noise ``x + std * eps`` (input
  noise, target noise, denoising autoencoders, distorted copies for pretext tasks);
- :func:`masking_noise`: each entry set to 0 with probability ``rate``, no rescaling
  (denoising autoencoders; unlike dropout, the kept entries keep their value);
- :func:`salt_and_pepper_noise`: entries replaced by ``low`` or ``high``;
- :func:`flip_labels`: classification label noise, a flipped label is another class;
- :func:`mask_random_spans`: contiguous spans of features hidden (masked prediction).

Every function takes the PRNG ``key`` first, works under ``jit`` and ``vmap`` and is
differentiable in ``x`` where that makes sense (a fixed key is a fixed corruption).

Reference: Vincent et al., "Extracting and composing robust features with denoising
autoencoders" (2008); Bishop, "Training with noise is equivalent to Tikhonov
regularization" (1995).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl._checks import (
    check_floating,
    check_in_range,
    check_labels,
    check_positive,
    check_positive_int,
)
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "flip_labels",
    "gaussian_noise",
    "mask_random_spans",
    "masking_noise",
    "salt_and_pepper_noise",
]


def gaussian_noise(key: Key, x: ArrayLike, std: ArrayLike) -> Array:
    """Additive isotropic Gaussian noise, ``x~ = x + std * eps`` with ``eps ~ N(0, I)``.

    Args:
        key: PRNG key.
        x: floating array of any shape (inputs or regression targets).
        std: noise standard deviation ``>= 0`` (a number or a traced scalar).

    Returns:
        The noisy copy, shape and dtype of ``x``.

    Example:
        >>> gaussian_noise(jax.random.key(0), jnp.zeros(3), 0.1).shape
        (3,)

    Reference: Bishop, "Training with noise is equivalent to Tikhonov regularization" (1995).
    """
    check_positive("std", std, allow_zero=True)
    x = jnp.asarray(x)
    check_floating("x", x)
    noise = jax.random.normal(key, x.shape, x.dtype)
    return x + (std * noise).astype(x.dtype)


def masking_noise(key: Key, x: ArrayLike, rate: float) -> Array:
    """Masking corruption: each entry of ``x`` is set to 0 with probability ``rate``.

    Unlike dropout the kept entries are not rescaled: a denoising autoencoder must fill
    in the missing values.

    Args:
        key: PRNG key.
        x: floating inputs, any shape.
        rate: probability of zeroing an entry, in [0, 1).

    Returns:
        The corrupted copy ``x~``, shape of ``x``.

    Example:
        >>> masking_noise(jax.random.key(0), jnp.ones((2, 3)), 0.5).shape
        (2, 3)

    Reference: Vincent et al., "Extracting and composing robust features with
    denoising autoencoders" (2008).
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    check_in_range("rate", rate, 0.0, 1.0, high_inclusive=False)
    keep = jax.random.bernoulli(key, 1.0 - rate, x.shape)
    return jnp.where(keep, x, jnp.zeros_like(x))


def salt_and_pepper_noise(
    key: Key, x: ArrayLike, rate: float, *, low: float = 0.0, high: float = 1.0
) -> Array:
    """Salt-and-pepper corruption: with probability ``rate`` an entry becomes ``low`` or ``high``.

    Args:
        key: PRNG key.
        x: floating inputs, any shape.
        rate: probability of corrupting an entry, in [0, 1].
        low: value of "pepper".
        high: value of "salt" (each with probability ``rate / 2``).

    Returns:
        The corrupted copy, shape of ``x``.

    Example:
        >>> salt_and_pepper_noise(jax.random.key(0), jnp.full((4,), 0.5), 1.0).shape
        (4,)
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    check_in_range("rate", rate, 0.0, 1.0)
    corrupt_key, value_key = jax.random.split(key)
    corrupt = jax.random.bernoulli(corrupt_key, rate, x.shape)
    salt = jax.random.bernoulli(value_key, 0.5, x.shape)
    noise = jnp.where(salt, jnp.full_like(x, high), jnp.full_like(x, low))
    return jnp.where(corrupt, noise, x)


def flip_labels(key: Key, labels: ArrayLike, num_classes: int, rate: ArrayLike) -> Array:
    """Classification label noise: with probability ``rate`` replace a label by another class.

    Each label is kept with probability ``1 - rate``; otherwise it becomes one of the
    other ``k - 1`` classes, chosen uniformly (so a flipped label always differs).

    Args:
        key: PRNG key.
        labels: integer labels ``[...]`` in ``[0, k)``.
        num_classes: ``k >= 2``.
        rate: flip probability in ``[0, 1]``.

    Returns:
        Noisy labels, same shape and dtype.

    Example:
        >>> flip_labels(jax.random.key(1), jnp.array([0, 1, 2]), 3, 0.1).shape
        (3,)
    """
    check_positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    check_in_range("rate", rate, 0.0, 1.0)
    labels = jnp.asarray(labels)
    check_labels("labels", labels, num_classes)
    flip_key, class_key = jax.random.split(key)
    flip = jax.random.bernoulli(flip_key, rate, labels.shape)
    offset = jax.random.randint(class_key, labels.shape, 1, num_classes, dtype=labels.dtype)
    return jnp.where(flip, (labels + offset) % num_classes, labels)


def mask_random_spans(
    key: Key,
    x: ArrayLike,
    span_length: int,
    num_spans: int = 1,
    mask_value: float = 0.0,
) -> tuple[Array, Array]:
    """Hide random contiguous spans of features, for a masked-prediction pretext task.

    For each example independently, ``num_spans`` start positions are drawn uniformly
    from ``[0, d - span_length]`` and the features ``start .. start + span_length - 1``
    are replaced by ``mask_value`` (spans may overlap).

    Args:
        key: PRNG key.
        x: floating inputs ``[..., d]``.
        span_length: length of each span, ``1 <= span_length <= d``.
        num_spans: spans per example, ``>= 1``.
        mask_value: the value written into the hidden positions.

    Returns:
        ``(masked_x, mask)``: ``masked_x`` like ``x``; ``mask`` bool ``[..., d]``, True
        where a feature was hidden (the positions the model must predict).

    Example:
        >>> masked, mask = mask_random_spans(jax.random.key(1), jnp.ones((4, 10)), 3)
        >>> mask.sum(axis=-1).tolist()  # one span of 3 features hidden per example
        [3, 3, 3, 3]
        >>> bool(jnp.all(jnp.where(mask, masked == 0.0, masked == 1.0)))
        True
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    if x.ndim == 0:
        raise ValueError("x must have a feature axis, got a scalar")
    check_positive_int("span_length", span_length)
    check_positive_int("num_spans", num_spans)
    d = x.shape[-1]
    if span_length > d:
        raise ValueError(f"span_length must be <= the number of features {d}, got {span_length}")
    flat = x.reshape((-1, d))
    keys = jax.random.split(key, flat.shape[0])
    positions = jnp.arange(d)

    def one(k: Key) -> Array:
        starts = jax.random.randint(k, (num_spans,), 0, d - span_length + 1)
        inside = (positions[None, :] >= starts[:, None]) & (
            positions[None, :] < starts[:, None] + span_length
        )
        return jnp.any(inside, axis=0)

    mask = jax.vmap(one)(keys).reshape(x.shape)
    masked = jnp.where(mask, jnp.asarray(mask_value, x.dtype), x)
    return masked, mask
