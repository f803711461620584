"""Reparametrized and discrete samplers, each taking its PRNG key first.

The reparametrization trick writes a random variable as a deterministic,
differentiable function of its parameters and of parameter-free noise, e.g.
``z = mean + std * eps`` with ``eps ~ N(0, I)``. With the key
held fixed, gradients flow to the parameters (Kingma & Welling, 2014).

Discrete variables cannot be reparametrized exactly; this module offers exact
samplers (Bernoulli, categorical by inverse CDF, Gumbel-max) and two biased but
differentiable surrogates: the Gumbel-softmax relaxation and the
straight-through estimator.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_floating, check_positive, check_probabilities, is_concrete
from jaxdl._numerics import rounding_eps
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "bernoulli",
    "categorical",
    "gumbel_max",
    "gumbel_softmax",
    "multivariate_normal",
    "multivariate_normal_from_cholesky",
    "normal",
    "normal_from_log_variance",
    "straight_through",
    "straight_through_bernoulli",
    "straight_through_categorical",
]


def normal(key: Key, mean: ArrayLike, std: ArrayLike) -> Array:
    """Draw ``z ~ N(mean, std^2)`` by the reparametrization trick.

    ``z = mean + std * eps`` with ``eps ~ N(0, 1)`` elementwise, so
    ``dz/dmean = 1`` and ``dz/dstandard_deviation = eps`` for a fixed key.

    Args:
        key: PRNG key.
        mean: means, any shape ``[...]``.
        std: non-negative scales, broadcastable with ``mean``.

    Returns:
        Samples of shape ``jnp.broadcast_shapes(mean.shape, std.shape)``.

    Example:
        >>> z = normal(jax.random.key(0), jnp.zeros(3), jnp.ones(3))

    Reference: Kingma & Welling, "Auto-Encoding Variational Bayes", 2014.
    """
    mean = jnp.asarray(mean)
    std = jnp.asarray(std)
    check_floating("mean", mean)
    check_floating("std", std)
    if is_concrete(std) and np.any(np.asarray(std) < 0):
        raise ValueError(f"std must be >= 0, got minimum {float(np.min(np.asarray(std)))}")
    shape = jnp.broadcast_shapes(mean.shape, std.shape)
    dtype = jnp.result_type(mean, std)
    eps = jax.random.normal(key, shape, dtype)
    return jnp.broadcast_to(mean, shape) + jnp.broadcast_to(std, shape) * eps


def normal_from_log_variance(key: Key, mean: ArrayLike, log_variance: ArrayLike) -> Array:
    """Draw ``z ~ N(mean, exp(log_variance))``: ``z = mean + exp(log_variance / 2) * eps``.

    The parametrization VAE encoders use, since ``log_variance`` is unconstrained.

    Args:
        key: PRNG key.
        mean: means ``[...]``.
        log_variance: log variances, same shape as ``mean``.

    Returns:
        Samples with the shape of ``mean``.

    Example:
        >>> z = normal_from_log_variance(jax.random.key(0), jnp.zeros(2), jnp.zeros(2))

    Reference: Kingma & Welling, 2014.
    """
    log_variance = jnp.asarray(log_variance)
    check_floating("log_variance", log_variance)
    return normal(key, mean, jnp.exp(0.5 * log_variance))


def multivariate_normal_from_cholesky(
    key: Key, mean: ArrayLike, scale_tril: ArrayLike, shape: tuple[int, ...] = ()
) -> Array:
    """Draw ``x = mean + L z`` with ``z ~ N(0, I)`` and lower-triangular ``L``.

    Then ``Cov[x] = L L^T``.

    Args:
        key: PRNG key.
        mean: mean vector ``[D]``.
        scale_tril: lower-triangular factor ``[D, D]``.
        shape: leading sample shape; the result has shape ``shape + (D,)``.

    Returns:
        Samples ``[*shape, D]``.

    Example:
        >>> x = multivariate_normal_from_cholesky(jax.random.key(0), jnp.zeros(2), jnp.eye(2))
    """
    mean = jnp.asarray(mean)
    scale_tril = jnp.asarray(scale_tril)
    if mean.ndim != 1:
        raise ValueError(f"mean must have rank 1 [D], got shape {mean.shape}")
    dim = mean.shape[0]
    if scale_tril.shape != (dim, dim):
        raise ValueError(f"scale_tril must have shape ({dim}, {dim}), got {scale_tril.shape}")
    dtype = jnp.result_type(mean, scale_tril)
    z = jax.random.normal(key, (*shape, dim), dtype)
    return jnp.broadcast_to(mean, z.shape) + z @ scale_tril.T


def multivariate_normal(
    key: Key, mean: ArrayLike, covariance: ArrayLike, shape: tuple[int, ...] = ()
) -> Array:
    """Draw ``x ~ N(mean, covariance)`` as ``x = mean + L z`` with ``L = cholesky(covariance)``.

    Differentiable in ``mean`` and ``covariance`` for a fixed key. A covariance
    that is not symmetric positive definite raises ``ValueError`` when its values
    are concrete (under ``jit`` the Cholesky factor would silently be NaN).

    Args:
        key: PRNG key.
        mean: mean vector ``[D]``.
        covariance: symmetric positive-definite matrix ``[D, D]``.
        shape: leading sample shape.

    Returns:
        Samples ``[*shape, D]``.

    Example:
        >>> cov = jnp.array([[2.0, 0.5], [0.5, 1.0]])
        >>> x = multivariate_normal(jax.random.key(0), jnp.zeros(2), cov, shape=(100,))
    """
    covariance = jnp.asarray(covariance)
    check_floating("covariance", covariance)
    if covariance.ndim != 2 or covariance.shape[0] != covariance.shape[1]:
        raise ValueError(f"covariance must be a square matrix [D, D], got {covariance.shape}")
    if is_concrete(covariance):
        c = np.asarray(covariance, dtype=np.float64)
        if not np.allclose(c, c.T, rtol=1e-5, atol=1e-6):
            raise ValueError("covariance must be symmetric, got an asymmetric matrix")
        eigenvalues = np.linalg.eigvalsh(c)
        # A singular covariance has eigenvalues of rounding size (either sign), not 0:
        # compare with the rounding error of the covariance's own dtype at its scale.
        tolerance = c.shape[0] * rounding_eps(covariance) * np.abs(eigenvalues).max()
        if eigenvalues.min() <= tolerance:
            raise ValueError(
                "covariance must be positive definite, got smallest eigenvalue "
                f"{eigenvalues.min():.3g}"
            )
    return multivariate_normal_from_cholesky(key, mean, jnp.linalg.cholesky(covariance), shape)


def bernoulli(key: Key, probability: ArrayLike, shape: tuple[int, ...] | None = None) -> Array:
    """Draw 0/1 samples with ``P(x = 1) = probability``, in ``probability``'s dtype.

    Args:
        key: PRNG key.
        probability: success probabilities in [0, 1], any shape.
        shape: output shape (broadcast from ``probability``); defaults to its shape.

    Returns:
        Floating 0/1 array of ``shape``.

    Example:
        >>> x = bernoulli(jax.random.key(0), 0.3, shape=(5,))
    """
    probability = jnp.asarray(probability)
    if not jnp.issubdtype(probability.dtype, jnp.floating):
        probability = probability.astype(jnp.float32)
    check_probabilities("probability", probability)
    shape = probability.shape if shape is None else tuple(shape)
    u = jax.random.uniform(key, shape, probability.dtype)
    return (u < probability).astype(probability.dtype)


def categorical(key: Key, probabilities: ArrayLike, shape: tuple[int, ...] | None = None) -> Array:
    """Draw class indices from ``probabilities`` by inverting the cumulative distribution.

    ``x = min { k : sum_{j <= k} p_j > u }`` with ``u ~ U(0, 1)``.

    Args:
        key: PRNG key.
        probabilities: ``[..., K]`` probability vectors (rows sum to 1).
        shape: sample shape; must end with the batch shape ``probabilities.shape[:-1]``.
            Defaults to that batch shape.

    Returns:
        int32 indices of ``shape``.

    Example:
        >>> x = categorical(jax.random.key(0), jnp.array([0.2, 0.3, 0.5]), shape=(10,))
    """
    probabilities = jnp.asarray(probabilities)
    check_floating("probabilities", probabilities)
    check_probabilities("probabilities", probabilities, axis=-1)
    batch = probabilities.shape[:-1]
    shape = batch if shape is None else tuple(shape)
    if shape[len(shape) - len(batch) :] != batch:
        raise ValueError(f"shape must end with the batch shape {batch}, got {shape}")
    cdf = jnp.broadcast_to(jnp.cumsum(probabilities, axis=-1), (*shape, probabilities.shape[-1]))
    u = jax.random.uniform(key, shape, probabilities.dtype) * cdf[..., -1]
    index = jnp.sum(cdf <= u[..., None], axis=-1)
    return jnp.minimum(index, probabilities.shape[-1] - 1).astype(jnp.int32)


def gumbel_max(key: Key, logits: ArrayLike, shape: tuple[int, ...] | None = None) -> Array:
    """Exact categorical sampling: ``argmax_k (logits_k + g_k)`` with ``g_k ~ Gumbel(0, 1)``.

    The argmax is distributed as ``softmax(logits)``.

    Args:
        key: PRNG key.
        logits: unnormalized log-probabilities ``[..., K]``.
        shape: sample shape ending with ``logits.shape[:-1]`` (default: that batch shape).

    Returns:
        int32 indices of ``shape``.

    Example:
        >>> x = gumbel_max(jax.random.key(0), jnp.log(jnp.array([0.2, 0.8])), shape=(10,))

    Reference: Gumbel, 1954; Maddison, Tarlow & Minka, "A* Sampling", 2014.
    """
    logits = jnp.asarray(logits)
    check_floating("logits", logits)
    batch = logits.shape[:-1]
    shape = batch if shape is None else tuple(shape)
    if shape[len(shape) - len(batch) :] != batch:
        raise ValueError(f"shape must end with the batch shape {batch}, got {shape}")
    g = jax.random.gumbel(key, (*shape, logits.shape[-1]), logits.dtype)
    return jnp.argmax(jnp.broadcast_to(logits, g.shape) + g, axis=-1).astype(jnp.int32)


def gumbel_softmax(
    key: Key, logits: ArrayLike, temperature: float | ArrayLike = 1.0, *, hard: bool = False
) -> Array:
    """Relaxed one-hot sample ``softmax((logits + g) / temperature)``, ``g ~ Gumbel(0, 1)``.

    As ``temperature -> 0`` the samples approach one-hot vectors distributed as
    ``softmax(logits)``; larger temperatures give smoother, lower-variance but
    more biased gradients. With ``hard=True`` the forward value is the one-hot
    argmax and the gradient that of the relaxed sample (straight-through).

    Args:
        key: PRNG key.
        logits: ``[..., K]``.
        temperature: positive scalar.
        hard: return straight-through one-hot samples.

    Returns:
        ``[..., K]`` points of the probability simplex.

    Example:
        >>> y = gumbel_softmax(jax.random.key(0), jnp.zeros(4), temperature=0.5)

    Reference: Jang, Gu & Poole, 2017; Maddison, Mnih & Teh, 2017.
    """
    logits = jnp.asarray(logits)
    check_floating("logits", logits)
    check_positive("temperature", temperature)
    g = jax.random.gumbel(key, logits.shape, logits.dtype)
    soft = jax.nn.softmax((logits + g) / temperature, axis=-1)
    if not hard:
        return soft
    one_hot = jax.nn.one_hot(jnp.argmax(soft, axis=-1), logits.shape[-1], dtype=soft.dtype)
    return straight_through(one_hot, soft)


def straight_through(hard: ArrayLike, soft: ArrayLike) -> Array:
    """Forward ``hard``, backward through ``soft``: ``soft + stop_gradient(hard - soft)``.

    Args:
        hard: the discrete value used in the forward pass.
        soft: a differentiable surrogate of the same shape.

    Returns:
        An array equal to ``hard`` whose gradient is that of ``soft``.

    Example:
        >>> x = jnp.array([0.2, 0.7])
        >>> y = straight_through(jnp.round(x), x)  # value [0., 1.], gradient 1

    Reference: Bengio, Leonard & Courville, 2013.
    """
    hard = jnp.asarray(hard)
    soft = jnp.asarray(soft)
    if hard.shape != soft.shape:
        raise ValueError(f"hard and soft must share a shape, got {hard.shape} and {soft.shape}")
    return soft + jax.lax.stop_gradient(hard - soft)


def straight_through_bernoulli(key: Key, probability: ArrayLike) -> Array:
    """Bernoulli 0/1 sample whose gradient w.r.t. ``probability`` is the identity.

    Forward: ``x ~ Bernoulli(probability)``; backward: ``dx/dprobability = 1``.

    Args:
        key: PRNG key.
        probability: probabilities in [0, 1], any shape.

    Returns:
        0/1 array of ``probability``'s shape.

    Example:
        >>> x = straight_through_bernoulli(jax.random.key(0), jnp.full(3, 0.5))
    """
    probability = jnp.asarray(probability)
    hard = bernoulli(key, jax.lax.stop_gradient(probability))
    return straight_through(hard, probability)


def straight_through_categorical(key: Key, logits: ArrayLike) -> Array:
    """One-hot categorical sample whose gradient is that of ``softmax(logits)``.

    Args:
        key: PRNG key.
        logits: ``[..., K]``.

    Returns:
        One-hot ``[..., K]``.

    Example:
        >>> y = straight_through_categorical(jax.random.key(0), jnp.zeros(3))
    """
    logits = jnp.asarray(logits)
    probabilities = jax.nn.softmax(logits, axis=-1)
    index = gumbel_max(key, jax.lax.stop_gradient(logits))
    one_hot = jax.nn.one_hot(index, logits.shape[-1], dtype=probabilities.dtype)
    return straight_through(one_hot, probabilities)
