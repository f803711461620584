"""Toy datasets drawn from a PRNG key: XOR, moons, spirals, blobs, separable, ring.

Every generator takes the key first, returns ``x [num_samples, d] float32`` and labels
``y [num_samples] int32``, and is jittable with its sizes static, e.g.
``jax.jit(moons, static_argnums=1)(key, 200, 0.1)``. Classes are balanced: example
``i`` belongs to class ``i % num_classes`` before the final shuffle.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_positive, check_positive_int, check_rank
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "SeparableData",
    "blobs",
    "gaussian_mixture_2d",
    "gaussian_mixture_2d_centers",
    "linearly_separable",
    "moons",
    "spirals",
    "xor",
]


def _balanced_labels(key: Key, num_samples: int, num_classes: int) -> Array:
    """Shuffled labels with class counts differing by at most one."""
    labels = jnp.arange(num_samples, dtype=jnp.int32) % num_classes
    return jax.random.permutation(key, labels)


def xor(key: Key, num_samples: int, noise: float = 0.0) -> tuple[Array, Array]:
    """The XOR problem: the four corners of the unit square, labelled ``x1 XOR x2``.

    ``x = c + noise * eps`` with corner ``c`` in ``{0, 1}^2`` drawn uniformly and
    ``eps ~ N(0, I)``; ``y = c_1 XOR c_2``. Not linearly separable: a perceptron fails,
    a network with one hidden layer of two units succeeds.

    Args:
        key: PRNG key.
        num_samples: number of points (static).
        noise: standard deviation of the Gaussian jitter, >= 0.

    Returns:
        ``(x [num_samples, 2] float32, y [num_samples] int32)`` with ``y`` in {0, 1}.

    Example:
        >>> x, y = xor(jax.random.key(0), 8, noise=0.1)
        >>> x.shape, y.shape
        ((8, 2), (8,))

    Reference:
        Minsky & Papert, "Perceptrons", 1969.
    """
    check_positive_int("num_samples", num_samples)
    check_positive("noise", noise, allow_zero=True)
    corner_key, noise_key = jax.random.split(key)
    corners = jax.random.bernoulli(corner_key, 0.5, (num_samples, 2)).astype(jnp.int32)
    y = corners[:, 0] ^ corners[:, 1]
    x = corners.astype(jnp.float32) + noise * jax.random.normal(noise_key, (num_samples, 2))
    return x, y


def moons(key: Key, num_samples: int, noise: float = 0.1) -> tuple[Array, Array]:
    """Two interleaving half circles.

    Class 0: ``(cos t, sin t)``; class 1: ``(1 - cos t, 1/2 - sin t)``, ``t ~ U[0, pi]``,
    plus ``N(0, noise^2 I)`` jitter (the shape of scikit-learn's ``make_moons``).

    Args:
        key: PRNG key.
        num_samples: number of points (static).
        noise: standard deviation of the Gaussian jitter, >= 0.

    Returns:
        ``(x [num_samples, 2] float32, y [num_samples] int32)``, classes balanced.

    Example:
        >>> x, y = moons(jax.random.key(0), 100, noise=0.05)
        >>> int(y.sum())
        50
    """
    check_positive_int("num_samples", num_samples)
    check_positive("noise", noise, allow_zero=True)
    label_key, angle_key, noise_key = jax.random.split(key, 3)
    y = _balanced_labels(label_key, num_samples, 2)
    t = jax.random.uniform(angle_key, (num_samples,), maxval=math.pi)
    outer = jnp.stack([jnp.cos(t), jnp.sin(t)], axis=1)
    inner = jnp.stack([1.0 - jnp.cos(t), 0.5 - jnp.sin(t)], axis=1)
    x = jnp.where((y == 1)[:, None], inner, outer)
    x = x + noise * jax.random.normal(noise_key, (num_samples, 2))
    return x, y


def spirals(
    key: Key, num_samples: int, num_classes: int = 2, noise: float = 0.0, turns: float = 1.0
) -> tuple[Array, Array]:
    """Interleaved Archimedean spirals, one arm per class.

    Arm ``k`` at parameter ``t ~ U[0, 1]``: radius ``r = t`` and angle
    ``theta = 2 pi (k / K + turns * t)``, i.e. ``x = r (cos theta, sin theta)``, plus
    ``N(0, noise^2 I)`` jitter.

    Args:
        key: PRNG key.
        num_samples: number of points (static).
        num_classes: number of arms ``K`` >= 2 (static).
        noise: standard deviation of the Gaussian jitter, >= 0.
        turns: number of full turns of each arm, > 0.

    Returns:
        ``(x [num_samples, 2] float32, y [num_samples] int32)`` with ``y`` in
        ``[0, num_classes)``, classes balanced.

    Example:
        >>> x, y = spirals(jax.random.key(0), 300, num_classes=3, noise=0.02)
        >>> x.shape
        (300, 2)
    """
    check_positive_int("num_samples", num_samples)
    check_positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    check_positive("noise", noise, allow_zero=True)
    check_positive("turns", turns)
    label_key, radius_key, noise_key = jax.random.split(key, 3)
    y = _balanced_labels(label_key, num_samples, num_classes)
    t = jax.random.uniform(radius_key, (num_samples,))
    theta = 2.0 * math.pi * (y.astype(jnp.float32) / num_classes + turns * t)
    x = t[:, None] * jnp.stack([jnp.cos(theta), jnp.sin(theta)], axis=1)
    x = x + noise * jax.random.normal(noise_key, (num_samples, 2))
    return x, y


def blobs(
    key: Key,
    num_samples: int,
    centers: int | ArrayLike = 3,
    std: float = 1.0,
    *,
    dim: int = 2,
    box: tuple[float, float] = (-10.0, 10.0),
) -> tuple[Array, Array]:
    """Isotropic Gaussian clusters: ``x | y=k ~ N(mu_k, std^2 I)``.

    Args:
        key: PRNG key.
        num_samples: number of points (static).
        centers: either the number of clusters ``K`` (centres then drawn uniformly in
            ``box^dim``) or an array of centres ``[K, dim]``.
        std: cluster standard deviation, >= 0.
        dim: input dimension when ``centers`` is an int (static).
        box: ``(low, high)`` range of randomly drawn centres.

    Returns:
        ``(x [num_samples, dim] float32, y [num_samples] int32)``, classes balanced.

    Example:
        >>> x, y = blobs(jax.random.key(0), 90, centers=jnp.array([[0.0, 0.0], [5.0, 5.0]]))
        >>> x.shape, int(y.max())
        ((90, 2), 1)
    """
    check_positive_int("num_samples", num_samples)
    check_positive("std", std, allow_zero=True)
    random_centers = isinstance(centers, int | np.integer)
    if random_centers:
        check_positive_int("centers", centers)
        check_positive_int("dim", dim)
        low, high = box
        if not low < high:
            raise ValueError(f"box must satisfy low < high, got {box}")
    else:
        means = jnp.asarray(centers, dtype=jnp.float32)
        check_rank("centers", means, 2)
        if means.shape[0] == 0:
            raise ValueError(f"centers must hold at least one centre, got shape {means.shape}")
    label_key, center_key, noise_key = jax.random.split(key, 3)
    if random_centers:
        means = jax.random.uniform(center_key, (centers, dim), minval=low, maxval=high)
    num_classes, num_features = means.shape
    y = _balanced_labels(label_key, num_samples, num_classes)
    x = means[y] + std * jax.random.normal(noise_key, (num_samples, num_features))
    return x, y


class SeparableData(NamedTuple):
    """Output of :func:`linearly_separable`.

    Attributes:
        x: inputs ``[n, dim]`` in the cube ``[-1 - margin, 1 + margin]^dim``.
        y: labels ``[n]`` in ``{-1, +1}`` (``int32``), ``y = sign(w_star . x)``.
        w_star: the unit-norm separating direction ``[dim]``.
    """

    x: Array
    y: Array
    w_star: Array


def linearly_separable(
    key: Key, num_samples: int, dim: int = 2, margin: float = 0.1
) -> SeparableData:
    """Points split by a random hyperplane through the origin with a guaranteed margin.

    Draw a unit vector ``w*`` and points ``u ~ U[-1, 1]^dim``; move each point along
    ``w*`` so that ``|w* . x| = |w* . u| + margin``. Then ``y (w* . x) >= margin`` for
    all points, so the perceptron makes at most ``(R / margin)^2`` mistakes with
    ``R = max ||x||`` (Novikoff's bound).

    Args:
        key: PRNG key.
        num_samples: number of points (static).
        dim: input dimension (static).
        margin: minimal distance of every point to the hyperplane, > 0.

    Returns:
        :class:`SeparableData` ``(x [n, dim] float32, y [n] int32 in {-1, +1},
        w_star [dim] float32)``.

    Example:
        >>> data = linearly_separable(jax.random.key(0), 50, dim=3, margin=0.2)
        >>> bool(jnp.all(data.y * (data.x @ data.w_star) >= 0.2 - 1e-6))
        True

    Reference:
        Novikoff, "On convergence proofs on perceptrons", 1962.
    """
    check_positive_int("num_samples", num_samples)
    check_positive_int("dim", dim)
    check_positive("margin", margin)
    direction_key, point_key = jax.random.split(key)
    w = jax.random.normal(direction_key, (dim,))
    w_star = w / jnp.linalg.norm(w)
    u = jax.random.uniform(point_key, (num_samples, dim), minval=-1.0, maxval=1.0)
    s = u @ w_star
    side = jnp.where(s >= 0, 1.0, -1.0)
    x = u + (side * margin)[:, None] * w_star[None, :]
    y = side.astype(jnp.int32)
    return SeparableData(x=x, y=y, w_star=w_star)


def gaussian_mixture_2d_centers(num_modes: int = 8, radius: float = 2.0) -> Array:
    """Centres of :func:`gaussian_mixture_2d`: ``radius (cos 2 pi k/M, sin 2 pi k/M)``.

    Args:
        num_modes: number of modes ``M``.
        radius: radius of the ring, > 0.

    Returns:
        ``[num_modes, 2] float32`` centres.

    Example:
        >>> gaussian_mixture_2d_centers(4, 1.0)[0].tolist()
        [1.0, 0.0]
    """
    check_positive_int("num_modes", num_modes)
    check_positive("radius", radius)
    angles = 2.0 * math.pi * jnp.arange(num_modes, dtype=jnp.float32) / num_modes
    return radius * jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=1)


def gaussian_mixture_2d(
    key: Key, num_samples: int, num_modes: int = 8, radius: float = 2.0, std: float = 0.02
) -> tuple[Array, Array]:
    """A ring of equally weighted Gaussians, the standard GAN mode-collapse test.

    ``k ~ U{0..M-1}``, ``x ~ N(mu_k, std^2 I)`` with ``mu_k`` from
    :func:`gaussian_mixture_2d_centers`.

    Args:
        key: PRNG key.
        num_samples: number of points (static).
        num_modes: number of modes ``M`` (static).
        radius: radius of the ring, > 0.
        std: standard deviation of each mode, >= 0.

    Returns:
        ``(x [num_samples, 2] float32, mode [num_samples] int32)``.

    Example:
        >>> x, mode = gaussian_mixture_2d(jax.random.key(0), 64)
        >>> x.shape
        (64, 2)

    Reference:
        Metz et al., "Unrolled generative adversarial networks", 2017.
    """
    check_positive_int("num_samples", num_samples)
    check_positive("std", std, allow_zero=True)
    centers = gaussian_mixture_2d_centers(num_modes, radius)
    mode_key, noise_key = jax.random.split(key)
    mode = jax.random.randint(mode_key, (num_samples,), 0, num_modes, dtype=jnp.int32)
    x = centers[mode] + std * jax.random.normal(noise_key, (num_samples, 2))
    return x, mode
