"""Monte Carlo estimation and importance sampling.

A sum or integral ``s = E_p[f(x)]`` is estimated by the sample average
``s_n = (1/n) sum_i f(x_i)``, ``x_i ~ p``, with standard error
``sqrt(Var[f] / n)``. Importance sampling rewrites ``p f = q (p f / q)`` and
averages ``p(x) f(x) / q(x)`` over ``x ~ q``; the proposal with the smallest
variance is ``q*(x) = p(x) |f(x)| / Z`` (zero variance when ``f`` has one sign).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_floating, check_positive_int, check_probabilities
from jaxdl.typing import Array, ArrayLike, Key, PyTree

__all__ = [
    "ImportanceEstimate",
    "MonteCarloEstimate",
    "importance_sampling",
    "importance_weights",
    "monte_carlo",
    "optimal_proposal",
    "sample_mean",
    "weights_effective_sample_size",
]


class MonteCarloEstimate(NamedTuple):
    """A Monte Carlo average with its uncertainty.

    Attributes:
        mean: the estimate ``s_n``.
        standard_error: ``sqrt(sample variance / n)``.
        variance: unbiased sample variance of the averaged terms.
        num_samples: ``n``.
    """

    mean: Array
    standard_error: Array
    variance: Array
    num_samples: int


class ImportanceEstimate(NamedTuple):
    """An importance-sampling estimate.

    Attributes:
        mean: the estimate of ``E_p[f]``.
        standard_error: its (delta-method, for the self-normalized form) standard error.
        effective_sample_size: ``(sum w)^2 / sum w^2`` of the importance weights.
        log_weights: ``log p(x_i) - log q(x_i)``, ``[n]``.
    """

    mean: Array
    standard_error: Array
    effective_sample_size: Array
    log_weights: Array


def sample_mean(values: ArrayLike) -> MonteCarloEstimate:
    """Average ``values [n, ...]`` over the first axis, with standard error.

    ``s_n = mean_i v_i`` and ``SE = sqrt(sum_i (v_i - s_n)^2 / ((n - 1) n))``.

    Args:
        values: ``[n, ...]`` independent draws of ``f(x)``, ``n >= 2``.

    Returns:
        :class:`MonteCarloEstimate` with ``[...]``-shaped fields.

    Example:
        >>> est = sample_mean(jnp.array([1.0, 2.0, 3.0]))  # mean 2, SE 1/sqrt(3)
    """
    values = jnp.asarray(values)
    check_floating("values", values)
    if values.ndim == 0 or values.shape[0] < 2:
        raise ValueError(f"values must hold at least 2 draws, got shape {values.shape}")
    n = values.shape[0]
    mean = jnp.mean(values, axis=0)
    variance = jnp.var(values, axis=0, ddof=1)
    return MonteCarloEstimate(mean, jnp.sqrt(variance / n), variance, n)


def monte_carlo(
    key: Key,
    f: Callable[[PyTree], Array],
    sample_fn: Callable[[Key, int], PyTree],
    num_samples: int,
) -> MonteCarloEstimate:
    """Estimate ``E_p[f(x)]`` from ``num_samples`` draws ``x ~ p``.

    Args:
        key: PRNG key passed to ``sample_fn``.
        f: maps one sample to a value ``[...]``; vmapped over the draws.
        sample_fn: ``sample_fn(key, n)`` returns ``n`` draws stacked on axis 0.
        num_samples: ``n >= 2``.

    Returns:
        :class:`MonteCarloEstimate`.

    Example:
        >>> sample = lambda k, n: jax.random.normal(k, (n,))
        >>> est = monte_carlo(jax.random.key(0), lambda x: x**2, sample, 1000)  # ~1
    """
    check_positive_int("num_samples", num_samples)
    samples = sample_fn(key, num_samples)
    return sample_mean(jax.vmap(f)(samples))


def importance_weights(log_p: ArrayLike, log_q: ArrayLike, *, normalize: bool = False) -> Array:
    """Importance weights ``w_i = p(x_i) / q(x_i)`` (optionally normalized to sum to 1).

    Args:
        log_p: ``[n]`` target log-densities (possibly unnormalized).
        log_q: ``[n]`` proposal log-densities.
        normalize: return ``w / sum(w)`` (computed stably with a softmax).

    Returns:
        ``[n]`` weights.

    Example:
        >>> log_p, log_q = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.25, 0.75]))
        >>> importance_weights(log_p, log_q).round(4)
        Array([2.    , 0.6667], dtype=float32)
    """
    log_p = jnp.asarray(log_p)
    log_q = jnp.asarray(log_q)
    check_floating("log_p", log_p)
    check_floating("log_q", log_q)
    if log_p.shape != log_q.shape or log_p.ndim != 1:
        raise ValueError(
            f"log_p and log_q must be vectors of one shape [n], got {log_p.shape} and {log_q.shape}"
        )
    log_w = log_p - log_q
    return jax.nn.softmax(log_w) if normalize else jnp.exp(log_w)


def weights_effective_sample_size(log_weights: ArrayLike) -> Array:
    """Kish's effective sample size of importance weights: ``(sum w)^2 / sum w^2``.

    Equals ``n`` for equal weights and 1 when one weight dominates.

    Args:
        log_weights: ``[n]`` log importance weights (any additive constant).

    Returns:
        Scalar in ``[1, n]``.

    Example:
        >>> weights_effective_sample_size(jnp.zeros(10))  # 10.0
        Array(10., dtype=float32)

    Reference: Kish, "Survey Sampling", 1965.
    """
    log_weights = jnp.asarray(log_weights)
    check_floating("log_weights", log_weights)
    normalized = jax.nn.softmax(log_weights)
    return 1.0 / jnp.sum(normalized**2)


def importance_sampling(
    key: Key,
    f: Callable[[PyTree], Array],
    log_p: Callable[[PyTree], Array],
    proposal_sample: Callable[[Key, int], PyTree],
    proposal_log_prob: Callable[[PyTree], Array],
    num_samples: int,
    *,
    self_normalized: bool = False,
) -> ImportanceEstimate:
    """Estimate ``E_p[f(x)]`` with draws from a proposal ``q``.

    Plain: ``s = (1/n) sum_i w_i f(x_i)`` with ``w_i = p(x_i)/q(x_i)`` (needs a
    normalized ``p``). Self-normalized: ``s = sum_i w_i f(x_i) / sum_i w_i``,
    valid for an unnormalized ``p`` (biased, consistent).

    Args:
        key: PRNG key passed to ``proposal_sample``.
        f: scalar function of one sample (vmapped).
        log_p: target log-density of one sample (vmapped).
        proposal_sample: ``proposal_sample(key, n)`` -> ``n`` draws from ``q``.
        proposal_log_prob: proposal log-density of one sample (vmapped).
        num_samples: ``n >= 2``.
        self_normalized: use the self-normalized estimator.

    Returns:
        :class:`ImportanceEstimate`.

    Example:
        >>> q_sample = lambda k, n: 2.0 * jax.random.normal(k, (n,))
        >>> log_q = lambda x: jax.scipy.stats.norm.logpdf(x, scale=2.0)
        >>> est = importance_sampling(jax.random.key(0), lambda x: x**2,
        ...                           jax.scipy.stats.norm.logpdf, q_sample, log_q, 1000)

    Reference: Goodfellow, Bengio & Courville, "Deep Learning", 2016, sec. 17.2.
    """
    check_positive_int("num_samples", num_samples)
    if num_samples < 2:
        raise ValueError(f"num_samples must be >= 2, got {num_samples}")
    x = proposal_sample(key, num_samples)
    values = jax.vmap(f)(x)
    log_w = jax.vmap(log_p)(x) - jax.vmap(proposal_log_prob)(x)
    ess = weights_effective_sample_size(log_w)
    if self_normalized:
        w = jax.nn.softmax(log_w)
        mean = jnp.sum(w * values)
        standard_error = jnp.sqrt(jnp.sum(w**2 * (values - mean) ** 2))
    else:
        terms = jnp.exp(log_w) * values
        estimate = sample_mean(terms)
        mean, standard_error = estimate.mean, estimate.standard_error
    return ImportanceEstimate(mean, standard_error, ess, log_w)


def optimal_proposal(probabilities: ArrayLike, values: ArrayLike) -> Array:
    """The variance-minimizing proposal ``q*(x) = p(x) |f(x)| / Z`` over discrete states.

    With ``f >= 0`` every importance term ``p f / q* = Z`` is the same constant,
    so the estimator has zero variance.

    Args:
        probabilities: ``[K]`` target distribution ``p``.
        values: ``[K]`` values ``f(x)`` of each state (not all zero where ``p > 0``).

    Returns:
        ``[K]`` proposal probabilities.

    Example:
        >>> optimal_proposal(jnp.array([0.5, 0.5]), jnp.array([1.0, 3.0]))  # [0.25, 0.75]
        Array([0.25, 0.75], dtype=float32)

    Reference: Goodfellow, Bengio & Courville, "Deep Learning", 2016, eq. 17.13.
    """
    probabilities = jnp.asarray(probabilities)
    values = jnp.asarray(values)
    check_floating("probabilities", probabilities)
    check_floating("values", values)
    check_probabilities("probabilities", probabilities, axis=-1)
    if probabilities.shape != values.shape or probabilities.ndim != 1:
        raise ValueError(
            "probabilities and values must be vectors of one shape [K], got "
            f"{probabilities.shape} and {values.shape}"
        )
    unnormalized = probabilities * jnp.abs(values)
    return unnormalized / jnp.sum(unnormalized)
