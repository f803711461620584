"""Penalties on representations: sparsity of a code and contraction of an encoder.

Regularised autoencoders add one of these to the reconstruction loss:

- sparse:      ``Omega(h) = sum_j |h_j|`` (:func:`l1_code_penalty`) or
  ``sum_j KL(rho || rho_hat_j)`` on the mean activations (:func:`kl_sparsity_penalty`);
- contractive: ``||J_f(x)||_F^2``, the squared Frobenius norm of the encoder Jacobian,
  exact (:func:`jacobian_frobenius_squared`) or by Hutchinson's estimator
  (:func:`hutchinson_jacobian_frobenius_squared`).

Reference: Goodfellow, Bengio & Courville, *Deep Learning* (2016), chapter 14;
Rifai et al., "Contractive auto-encoders" (2011).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp

from jaxdl._checks import check_floating, check_in_range, check_positive_int, check_rank
from jaxdl.typing import Array, Key

__all__ = [
    "bernoulli_kl",
    "hutchinson_jacobian_frobenius_squared",
    "jacobian_frobenius_squared",
    "kl_sparsity_penalty",
    "l1_code_penalty",
]


# --------------------------------------------------------------------------------------
# Sparsity penalties on the code
# --------------------------------------------------------------------------------------


def l1_code_penalty(code: Array) -> Array:
    """L1 sparsity penalty of each code, ``Omega(h) = sum_j |h_j|``.

    Args:
        code: codes, shape ``[..., H]``.

    Returns:
        The penalty per example, shape ``[...]``.

    Example:
        >>> l1_code_penalty(jnp.array([[1.0, -2.0], [0.0, 0.5]]))
        Array([3. , 0.5], dtype=float32)

    Reference: Goodfellow, Bengio & Courville, *Deep Learning* (2016), section 14.2.1.
    """
    check_floating("code", code)
    check_rank("code", code, tuple(range(1, 8)))
    return jnp.sum(jnp.abs(code), axis=-1)


def bernoulli_kl(target: float | Array, mean_activation: Array) -> Array:
    """Elementwise KL between Bernoulli distributions, ``KL(rho || rho_hat)``.

    ``rho log(rho / rho_hat) + (1 - rho) log((1 - rho) / (1 - rho_hat))``.

    Args:
        target: the target activation ``rho`` in (0, 1), scalar or broadcastable.
        mean_activation: ``rho_hat`` in (0, 1), any shape.

    Returns:
        The divergence, shape of ``mean_activation``.

    Example:
        >>> float(bernoulli_kl(0.5, jnp.array(0.5)))
        0.0
    """
    check_in_range("target", target, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    rho = jnp.asarray(target, dtype=mean_activation.dtype)
    return rho * (jnp.log(rho) - jnp.log(mean_activation)) + (1.0 - rho) * (
        jnp.log1p(-rho) - jnp.log1p(-mean_activation)
    )


def kl_sparsity_penalty(code: Array, target: float, *, epsilon: float = 1e-6) -> Array:
    """KL sparsity penalty, ``sum_j KL(rho || rho_hat_j)`` with ``rho_hat_j = mean_i h_ij``.

    Pushes the average activation of every code unit (over the batch) towards a small
    target ``rho``; the codes should lie in (0, 1), e.g. after a sigmoid.

    Args:
        code: codes in (0, 1), shape ``[B, H]``.
        target: the target mean activation ``rho`` in (0, 1), e.g. 0.05.
        epsilon: ``rho_hat`` is clipped into ``[epsilon, 1 - epsilon]``.

    Returns:
        A scalar.

    Example:
        >>> h = jax.nn.sigmoid(jnp.zeros((4, 3)))
        >>> round(float(kl_sparsity_penalty(h, 0.5)), 6)
        0.0

    Reference: Ng, "Sparse autoencoder", CS294A lecture notes (2011).
    """
    check_floating("code", code)
    check_rank("code", code, 2)
    check_in_range("target", target, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    check_in_range("epsilon", epsilon, 0.0, 0.5, low_inclusive=False, high_inclusive=False)
    mean_activation = jnp.clip(jnp.mean(code, axis=0), epsilon, 1.0 - epsilon)
    return jnp.sum(bernoulli_kl(target, mean_activation))


# --------------------------------------------------------------------------------------
# Contractive penalty: squared Frobenius norm of the encoder Jacobian
# --------------------------------------------------------------------------------------


def jacobian_frobenius_squared(fn: Callable[[Array], Array], x: Array) -> Array:
    """Exact squared Frobenius norm of the Jacobian of ``fn`` at each example.

    ``||J_f(x)||_F^2 = sum_{j,i} (d f_j / d x_i)^2``, computed with ``jax.jacfwd``
    (``D`` forward passes per example): use it for small inputs.

    Args:
        fn: a map of one example ``[D] -> [H]`` (e.g. an encoder); it is applied
            example by example with ``vmap``.
        x: inputs, shape ``[..., D]``.

    Returns:
        The squared norms, shape ``[...]``.

    Example:
        >>> W = jnp.array([[1.0, 2.0], [0.0, 3.0]])
        >>> float(jacobian_frobenius_squared(lambda v: W @ v, jnp.zeros(2)))
        14.0

    Reference: Rifai et al., "Contractive auto-encoders" (2011).
    """
    check_floating("x", x)
    check_rank("x", x, tuple(range(1, 8)))
    flat = jnp.reshape(x, (-1, x.shape[-1]))
    jacobians = jax.vmap(jax.jacfwd(fn))(flat)  # [N, H, D]
    norms = jnp.sum(jnp.square(jacobians), axis=(-2, -1))
    return jnp.reshape(norms, x.shape[:-1])


def hutchinson_jacobian_frobenius_squared(
    key: Key,
    fn: Callable[[Array], Array],
    x: Array,
    *,
    num_probes: int = 1,
    probe: str = "rademacher",
) -> Array:
    """Hutchinson estimate of ``||J_f(x)||_F^2`` from Jacobian-vector products.

    For probes ``v`` with ``E[v v^T] = I``, ``E ||J v||^2 = tr(J^T J) = ||J||_F^2``; the
    estimate averages ``||J v_p||^2`` over ``num_probes`` probes, each costing one
    forward-mode pass regardless of ``D``. Its variance is
    ``2 (||J^T J||_F^2 - sum_i (J^T J)_ii^2) / P`` for Rademacher probes and
    ``2 ||J^T J||_F^2 / P`` for Gaussian probes.

    Args:
        key: PRNG key for the probes.
        fn: a map of one example ``[D] -> [H]`` (e.g. an encoder).
        x: inputs, shape ``[..., D]``.
        num_probes: number of probe vectors ``P`` per example.
        probe: ``"rademacher"`` (entries +-1) or ``"gaussian"`` (standard normal).

    Returns:
        The unbiased estimates, shape ``[...]``.

    Example:
        >>> W = jnp.array([[1.0, 2.0], [0.0, 3.0]])
        >>> est = hutchinson_jacobian_frobenius_squared(
        ...     jax.random.key(0), lambda v: W @ v, jnp.zeros(2), num_probes=64)
        >>> est.shape
        ()

    Reference: Hutchinson, "A stochastic estimator of the trace of the influence
    matrix for Laplacian smoothing splines" (1990).
    """
    check_floating("x", x)
    check_rank("x", x, tuple(range(1, 8)))
    check_positive_int("num_probes", num_probes)
    flat = jnp.reshape(x, (-1, x.shape[-1]))
    shape = (num_probes, *flat.shape)
    if probe == "rademacher":
        probes = jax.random.rademacher(key, shape, dtype=flat.dtype)
    elif probe == "gaussian":
        probes = jax.random.normal(key, shape, dtype=flat.dtype)
    else:
        raise ValueError(f"probe must be 'rademacher' or 'gaussian', got {probe!r}")

    def jvp_one(point: Array, direction: Array) -> Array:
        return jax.jvp(fn, (point,), (direction,))[1]

    products = jax.vmap(jax.vmap(jvp_one), in_axes=(None, 0))(flat, probes)  # [P, N, H]
    estimates = jnp.mean(jnp.sum(jnp.square(products), axis=-1), axis=0)
    return jnp.reshape(estimates, x.shape[:-1])
