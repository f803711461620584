"""MCMC convergence diagnostics: effective sample size and split R-hat.

Both take draws laid out as ``[num_chains, num_draws, ...]`` and return one value
per trailing coordinate, following the definitions used by Stan, ArviZ and
BlackJAX (Gelman et al., "Bayesian Data Analysis", 3rd ed., 2013, ch. 11).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl._checks import check_floating
from jaxdl.typing import Array, ArrayLike

__all__ = ["autocorrelation", "effective_sample_size", "split_rhat"]


def _check_draws(samples: ArrayLike, min_draws: int) -> Array:
    samples = jnp.asarray(samples)
    check_floating("samples", samples)
    if samples.ndim < 2:
        raise ValueError(
            f"samples must have shape [num_chains, num_draws, ...], got shape {samples.shape}"
        )
    if samples.shape[1] < min_draws:
        raise ValueError(
            f"samples must hold at least {min_draws} draws per chain, got {samples.shape[1]}"
        )
    return samples


def autocorrelation(samples: ArrayLike) -> Array:
    """Biased sample autocorrelation of each chain along the draws axis, via FFT.

    ``rho_t = sum_{s<n-t} (x_s - m)(x_{s+t} - m) / sum_s (x_s - m)^2``.

    Args:
        samples: ``[num_chains, num_draws, ...]``.

    Returns:
        ``[num_chains, num_draws, ...]`` with ``rho_0 = 1``.

    Example:
        >>> rho = autocorrelation(jax.random.normal(jax.random.key(0), (2, 100)))
    """
    autocov = _autocovariance(_check_draws(samples, 2))
    return autocov / autocov[:, :1]


def _autocovariance(samples: Array) -> Array:
    n = samples.shape[1]
    centered = samples - jnp.mean(samples, axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = jnp.fft.rfft(centered, n=size, axis=1)
    autocov = jnp.fft.irfft(spectrum * jnp.conj(spectrum), n=size, axis=1)[:, :n]
    return autocov.astype(samples.dtype) / n


def effective_sample_size(samples: ArrayLike) -> Array:
    """Autocorrelation-based effective sample size with Geyer's initial monotone sequence.

    ``ESS = m n / tau``, ``tau = -1 + 2 sum_k P_k``, ``P_k = rho_{2k} + rho_{2k+1}``
    summed while positive and made non-increasing, where the multi-chain
    autocorrelation is ``rho_t = 1 - (W - mean_chains(acov_t)) / var_plus``.
    For iid draws ``ESS ~= m n``; for an AR(1) chain with coefficient ``phi``,
    ``ESS ~= m n (1 - phi) / (1 + phi)``.

    Args:
        samples: ``[num_chains, num_draws, ...]`` with ``num_draws >= 4``.

    Returns:
        ``[...]`` effective sample sizes.

    Example:
        >>> ess = effective_sample_size(jax.random.normal(jax.random.key(0), (4, 500)))

    Reference: Geyer, "Practical Markov Chain Monte Carlo", Statistical Science 1992;
    Vehtari et al., "Rank-normalization, folding, and localization", 2021.
    """
    return _effective_sample_size(_check_draws(samples, 4))


@jax.jit
def _effective_sample_size(samples: Array) -> Array:
    num_chains, n = samples.shape[:2]
    autocov = _autocovariance(samples)
    mean_autocov = jnp.mean(autocov, axis=0)  # [n, ...]
    within = mean_autocov[:1] * n / (n - 1)  # [1, ...]
    var_plus = within * (n - 1) / n
    if num_chains > 1:
        var_plus = var_plus + jnp.var(jnp.mean(samples, axis=1), axis=0, ddof=1)[None]
    rho = 1.0 - (within - mean_autocov) / var_plus
    rho = rho.at[0].set(1.0)
    num_pairs = n // 2
    pairs = rho[0 : 2 * num_pairs : 2] + rho[1 : 2 * num_pairs : 2]  # [n//2, ...]
    positive = jnp.cumprod((pairs > 0).astype(pairs.dtype), axis=0)
    monotone = jax.lax.cummin(pairs, axis=0)
    tau = -1.0 + 2.0 * jnp.sum(monotone * positive, axis=0)
    tau = jnp.maximum(tau, 1.0 / jnp.log10(num_chains * n))
    return num_chains * n / tau


def split_rhat(samples: ArrayLike) -> Array:
    """Split potential scale reduction factor (Gelman-Rubin R-hat).

    Each chain is cut in two halves (the middle draw dropped when ``n`` is odd),
    giving ``m' = 2m`` chains of ``n'`` draws; with ``W`` the mean within-chain
    variance and ``B/n'`` the variance of the chain means,
    ``R = sqrt(((n'-1)/n' W + B/n') / W)``. Values near 1 mean the chains agree.

    Args:
        samples: ``[num_chains, num_draws, ...]`` with ``num_draws >= 4``.

    Returns:
        ``[...]`` R-hat values.

    Example:
        >>> rhat = split_rhat(jax.random.normal(jax.random.key(0), (4, 200)))  # ~1.0

    Reference: Gelman & Rubin, Statistical Science 1992; Gelman et al., BDA3, 2013.
    """
    return _split_rhat(_check_draws(samples, 4))


@jax.jit
def _split_rhat(samples: Array) -> Array:
    half = samples.shape[1] // 2
    chains = jnp.concatenate([samples[:, :half], samples[:, -half:]], axis=0)
    within = jnp.mean(jnp.var(chains, axis=1, ddof=1), axis=0)
    between_over_n = jnp.var(jnp.mean(chains, axis=1), axis=0, ddof=1)
    var_plus = within * (half - 1) / half + between_over_n
    return jnp.sqrt(var_plus / within)
