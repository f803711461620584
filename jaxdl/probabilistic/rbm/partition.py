"""The RBM partition function: exact ``log Z`` by enumeration, and AIS as a kernel.

Annealed importance sampling follows the kernel contract of :mod:`jaxdl.sampling`:
:func:`ais_init` ``(key, params, num_runs) -> AISState`` draws the runs from the
base-rate model, :func:`ais_kernel` ``(key, state, params, betas) -> (AISState,
AISInfo)`` moves every run one step up the temperature ladder, and
:func:`ais_log_partition` drives it with :func:`jaxdl.sampling.sample_chain` and turns
the importance weights into an estimate of ``log Z``.

Reference: R. Salakhutdinov, I. Murray, "On the quantitative analysis of deep belief
networks", ICML 2008; R. Neal, "Annealed importance sampling", 2001.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxdl._checks import check_positive_int, check_rank, check_shape, is_concrete
from jaxdl.probabilistic.rbm.gibbs import RBMGibbsState, _gibbs_kernel
from jaxdl.probabilistic.rbm.model import (
    AnyRBMParams,
    GaussianRBMParams,
    RBMParams,
    _bernoulli,
    _check_params,
    _free_energy,
    _is_gaussian,
    _row,
    _sample_visible_given_mean,
    free_energy,
)
from jaxdl.sampling.chain import sample_chain
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "AISInfo",
    "AISResult",
    "AISState",
    "ais_init",
    "ais_kernel",
    "ais_log_partition",
    "log_likelihood",
    "log_partition_function",
]


def _binary_configurations(num_bits: int, dtype) -> Array:
    """All ``2**num_bits`` binary vectors, ``[2**num_bits, num_bits]``."""
    codes = jnp.arange(2**num_bits, dtype=jnp.int32)
    bits = jnp.arange(num_bits, dtype=jnp.int32)
    return ((codes[:, None] >> bits[None, :]) & 1).astype(dtype)


def _log_unnormalized_hidden_marginal(params: AnyRBMParams, hidden: Array) -> Array:
    """``log sum_v exp(-E(v, h))`` for a batch of hidden configurations ``[M, H]``."""
    shift = hidden @ params.weights.T  # (W h), [M, V]
    hidden_term = hidden @ params.hidden_bias
    if _is_gaussian(params):
        var = jnp.exp(params.log_variance)
        b = params.visible_bias[None, :]
        quadratic = (2.0 * b * shift + shift * shift) / (2.0 * var[None, :])
        normalizer = 0.5 * jnp.sum(jnp.log(2.0 * math.pi * var))
        return hidden_term + jnp.sum(quadratic, axis=-1) + normalizer
    pre = shift + params.visible_bias[None, :]
    return hidden_term + jnp.sum(jax.nn.softplus(pre), axis=-1)


def log_partition_function(params: AnyRBMParams, *, max_enumerated_units: int = 24) -> Array:
    """Exact ``log Z`` by enumerating the smaller layer and summing out the other one.

    For Bernoulli RBMs with ``H <= V``:
    ``log Z = logsumexp_h [c.h + sum_i softplus(b_i + (W h)_i)]``; otherwise
    ``log Z = logsumexp_v [-F(v)]``. Gaussian RBMs always enumerate ``h`` and integrate
    ``v`` in closed form: ``sum_i [log sqrt(2 pi s_i) + (2 b_i m_i + m_i^2) / (2 s_i)]`` with
    ``m = W h``. The cost is ``2**min(V, H)`` terms, processed in chunks with ``lax.map``.

    Args:
        params: RBM parameters.
        max_enumerated_units: refuse to enumerate more than ``2**max_enumerated_units``
            states.

    Returns:
        Scalar ``log Z``.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 10, 6)
        >>> log_partition_function(params).shape
        ()
    """
    num_visible, num_hidden = _check_params(params)
    enumerate_hidden = _is_gaussian(params) or num_hidden <= num_visible
    num_bits = num_hidden if enumerate_hidden else num_visible
    if num_bits > max_enumerated_units:
        raise ValueError(
            f"exact log Z needs 2**{num_bits} terms; min(num_visible, num_hidden) must be "
            f"<= max_enumerated_units={max_enumerated_units}, got {num_bits}"
        )
    return _log_partition(params, enumerate_hidden, num_bits)


@functools.partial(jax.jit, static_argnames=("enumerate_hidden", "num_bits"))
def _log_partition(params: AnyRBMParams, enumerate_hidden: bool, num_bits: int) -> Array:
    dtype = params.weights.dtype
    num_low = min(num_bits, 12)
    low = _binary_configurations(num_low, dtype)  # [2**num_low, num_low]
    high = _binary_configurations(num_bits - num_low, dtype)  # [2**rest, rest]

    def chunk_log_sum(high_bits):
        tiled = jnp.broadcast_to(high_bits[None, :], (low.shape[0], high_bits.shape[0]))
        configs = jnp.concatenate([low, tiled], axis=1)
        if enumerate_hidden:
            terms = _log_unnormalized_hidden_marginal(params, configs)
        else:
            terms = -_free_energy(params, configs)
        return jax.nn.logsumexp(terms)

    return jax.nn.logsumexp(lax.map(chunk_log_sum, high))


def log_likelihood(params: AnyRBMParams, visible: ArrayLike, log_partition: ArrayLike) -> Array:
    """``log P(v) = -F(v) - log Z`` given an (exact or estimated) ``log Z``.

    Args:
        params: RBM parameters.
        visible: ``[V]`` or ``[N, V]``.
        log_partition: scalar ``log Z`` from :func:`log_partition_function` or
            :func:`ais_log_partition`.

    Returns:
        ``[]`` or ``[N]`` log-probabilities (log-densities for Gaussian RBMs).

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 4, 3)
        >>> v = jnp.ones((2, 4))
        >>> log_likelihood(params, v, log_partition_function(params)).shape
        (2,)
    """
    log_partition = jnp.asarray(log_partition)
    check_rank("log_partition", log_partition, 0)
    return -free_energy(params, visible) - log_partition


class AISResult(NamedTuple):
    """Result of :func:`ais_log_partition`.

    Attributes:
        log_partition: the estimate ``log Z_A + log mean_r w_r``.
        log_partition_std: delta-method standard error of the estimate,
            ``std_r(w) / (mean_r(w) sqrt(R))``.
        log_weights: ``[num_runs]`` importance log-weights ``log w_r``.
        log_partition_base: exact ``log Z`` of the base-rate model (with ``H`` free hidden
            units, so it includes ``H log 2``).
    """

    log_partition: Array
    log_partition_std: Array
    log_weights: Array
    log_partition_base: Array


class AISState(NamedTuple):
    """State of ``R`` annealing runs.

    Attributes:
        visible: ``[R, V]`` current samples, one run per row.
        log_weights: ``[R]`` accumulated importance log-weights ``log w_r``.
        step: index ``k`` of the current inverse temperature ``beta_k`` (int32).
    """

    visible: Array
    log_weights: Array
    step: Array


class AISInfo(NamedTuple):
    """What one annealing step did.

    Attributes:
        beta: the inverse temperature ``beta_k`` the runs moved to.
        log_weight_increments: ``[R]`` ``F_{k-1}(v) - F_k(v)`` added to the log-weights.
    """

    beta: Array
    log_weight_increments: Array


def _interpolate(params: AnyRBMParams, base_visible_bias: Array, beta: Array) -> AnyRBMParams:
    """The RBM whose free energy is ``(1 - beta) F_A(v) + beta F_B(v)`` (up to H log 2)."""
    if _is_gaussian(params):
        return GaussianRBMParams(
            weights=beta * params.weights,
            visible_bias=params.visible_bias,
            hidden_bias=beta * params.hidden_bias,
            log_variance=params.log_variance,
        )
    visible_bias = (1.0 - beta) * base_visible_bias + beta * params.visible_bias
    return RBMParams(beta * params.weights, visible_bias, beta * params.hidden_bias)


def _base_bias(params: AnyRBMParams, base_visible_bias: ArrayLike | None) -> Array:
    """The base-rate model's visible logits (Bernoulli) or means (Gaussian), checked."""
    num_visible, _ = _check_params(params)
    dtype = params.weights.dtype
    if _is_gaussian(params):
        if base_visible_bias is not None:
            raise ValueError(
                "base_visible_bias applies to Bernoulli RBMs only; the Gaussian base model "
                "is N(visible_bias, exp(log_variance))"
            )
        return params.visible_bias
    if base_visible_bias is None:
        return jnp.zeros((num_visible,), dtype)
    base = jnp.asarray(base_visible_bias, dtype)
    check_shape("base_visible_bias", base, (num_visible,))
    return base


def _log_partition_base(params: AnyRBMParams, base_bias: Array) -> Array:
    if _is_gaussian(params):
        log_z = 0.5 * jnp.sum(math.log(2.0 * math.pi) + params.log_variance)
    else:
        log_z = jnp.sum(jax.nn.softplus(base_bias))
    return log_z + params.weights.shape[1] * math.log(2.0)


def ais_init(
    key: Key, params: AnyRBMParams, num_runs: int, *, base_visible_bias: ArrayLike | None = None
) -> AISState:
    """Start ``num_runs`` AIS runs with exact draws ``v_0 ~ P_A`` from the base-rate model.

    Args:
        key: PRNG key.
        params: the RBM whose ``log Z`` is wanted.
        num_runs: number of runs ``R``.
        base_visible_bias: ``[V]`` logits of the base-rate model (Bernoulli RBMs only;
            default zeros). Gaussian RBMs use ``N(visible_bias, exp(log_variance))``.

    Returns:
        An :class:`AISState` at step 0 with zero log-weights.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 10, 6)
        >>> ais_init(jax.random.key(1), params, 16).visible.shape
        (16, 10)
    """
    check_positive_int("num_runs", num_runs)
    base_bias = _base_bias(params, base_visible_bias)
    base_mean = _row(base_bias, 2) * jnp.ones((num_runs, 1), base_bias.dtype)
    if _is_gaussian(params):
        v0 = _sample_visible_given_mean(key, params, base_mean)
    else:
        v0 = _bernoulli(key, jax.nn.sigmoid(base_mean))
    return AISState(v0, jnp.zeros((num_runs,), v0.dtype), jnp.zeros((), jnp.int32))


def ais_kernel(
    key: Key,
    state: AISState,
    params: AnyRBMParams,
    betas: ArrayLike,
    *,
    base_visible_bias: ArrayLike | None = None,
) -> tuple[AISState, AISInfo]:
    """One AIS step from ``beta_{k-1}`` to ``beta_k``: weight update, then a Gibbs sweep.

    With ``k = state.step + 1``, adds ``F_{k-1}(v) - F_k(v)`` to each run's log-weight
    (``F_k`` is the free energy of the RBM with weights ``beta_k W``, interpolated from
    the base-rate model), then moves ``v`` with one block Gibbs sweep that leaves
    ``P_k`` invariant. ``len(betas) - 1`` calls (e.g. ``sample_chain(..., 1,
    thin=len(betas) - 1)``) take the runs from the base model to the RBM; further calls
    (the ladder index is clamped at its end) add nothing to the weights and keep
    sampling the RBM itself.

    Args:
        key: PRNG key.
        state: :class:`AISState` from :func:`ais_init` or a previous step.
        params: the RBM.
        betas: ``[K + 1]`` increasing schedule from 0 to 1.
        base_visible_bias: as in :func:`ais_init` (the same one).

    Returns:
        ``(new_state, info)``.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 10, 6)
        >>> state = ais_init(jax.random.key(1), params, 16)
        >>> state, info = ais_kernel(jax.random.key(2), state, params, jnp.linspace(0, 1, 5))
        >>> int(state.step), info.log_weight_increments.shape
        (1, (16,))
    """
    base_bias = _base_bias(params, base_visible_bias)
    betas = jnp.asarray(betas, params.weights.dtype)
    check_rank("betas", betas, 1)
    previous = _interpolate(params, base_bias, betas[state.step])
    beta = betas[state.step + 1]
    current = _interpolate(params, base_bias, beta)
    increments = _free_energy(previous, state.visible) - _free_energy(current, state.visible)
    hidden = jnp.zeros(state.visible.shape[:-1] + params.weights.shape[1:], state.visible.dtype)
    chains = RBMGibbsState(state.visible, hidden)
    moved, _ = _gibbs_kernel(key, chains, current, 1)
    new_state = AISState(moved.visible, state.log_weights + increments, state.step + 1)
    return new_state, AISInfo(beta, increments)


def ais_log_partition(
    key: Key,
    params: AnyRBMParams,
    *,
    num_runs: int = 100,
    num_betas: int = 1000,
    betas: ArrayLike | None = None,
    base_visible_bias: ArrayLike | None = None,
) -> AISResult:
    """Annealed importance sampling estimate of ``log Z`` (Salakhutdinov & Murray, 2008).

    The base-rate model ``A`` has no couplings: ``P_A(v)`` is independent Bernoulli with
    logits ``base_visible_bias`` (Bernoulli RBMs; default zeros, better
    :func:`~jaxdl.probabilistic.rbm.base_rate_visible_bias` of the training data) or
    ``N(b, s)`` (Gaussian RBMs, whose quadratic term is shared by both ends).
    Intermediate models have free energy ``F_k = (1 - beta_k) F_A + beta_k F_B``, which
    is again an RBM with weights ``beta_k W``. Each run draws ``v_0 ~ P_A`` exactly
    (:func:`ais_init`), then :func:`ais_kernel` runs ``K`` steps up the ladder, driven by
    :func:`jaxdl.sampling.sample_chain` (only the final state is kept).
    ``log Z_B ~ log Z_A + log mean_r w_r``. The estimate of ``Z`` is unbiased, so that of
    ``log Z`` tends to be low.

    Args:
        key: PRNG key.
        params: the RBM whose ``log Z`` is wanted.
        num_runs: number of independent annealing runs ``R``.
        num_betas: number of inverse temperatures, ``linspace(0, 1, num_betas)``; ignored
            when ``betas`` is given.
        betas: explicit increasing schedule from 0 to 1, shape ``[K + 1]``.
        base_visible_bias: ``[V]`` logits of the base-rate model (Bernoulli RBMs only).

    Returns:
        An :class:`AISResult`.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 10, 6)
        >>> result = ais_log_partition(jax.random.key(1), params, num_runs=16, num_betas=100)
        >>> result.log_weights.shape
        (16,)

    Reference: R. Salakhutdinov, I. Murray, "On the quantitative analysis of deep belief
    networks", ICML 2008; R. Neal, "Annealed importance sampling", 2001.
    """
    _check_params(params)
    check_positive_int("num_runs", num_runs)
    dtype = params.weights.dtype
    if betas is None:
        check_positive_int("num_betas", num_betas)
        if num_betas < 2:
            raise ValueError(f"num_betas must be >= 2, got {num_betas}")
        betas = jnp.linspace(0.0, 1.0, num_betas, dtype=dtype)
    else:
        betas = jnp.asarray(betas, dtype)
        check_rank("betas", betas, 1)
        if betas.shape[0] < 2:
            raise ValueError(f"betas must hold at least 2 values, got shape {betas.shape}")
        if is_concrete(betas):
            values = np.asarray(betas)
            if values[0] != 0.0 or values[-1] != 1.0 or np.any(np.diff(values) < 0):
                raise ValueError(
                    f"betas must increase from 0 to 1, got values from {values[0]} to {values[-1]}"
                )
    base_bias = _base_bias(params, base_visible_bias)
    return _ais(key, params, betas, base_bias, num_runs)


@functools.partial(jax.jit, static_argnames=("num_runs",))
def _ais(key, params, betas, base_bias, num_runs):
    init_key, run_key = jax.random.split(key)
    # the Gaussian base model is fixed by the params; ais_init/ais_kernel refuse a bias
    given = None if _is_gaussian(params) else base_bias
    state = ais_init(init_key, params, num_runs, base_visible_bias=given)
    kernel = functools.partial(ais_kernel, params=params, betas=betas, base_visible_bias=given)
    final, _ = sample_chain(run_key, kernel, state, 1, thin=betas.shape[0] - 1)
    log_w = final.log_weights
    log_z_base = _log_partition_base(params, base_bias)
    log_mean_w = jax.nn.logsumexp(log_w) - math.log(num_runs)
    w = jnp.exp(log_w - jnp.max(log_w))
    std = jnp.std(w) / (jnp.mean(w) * math.sqrt(num_runs))
    return AISResult(log_z_base + log_mean_w, std, log_w, log_z_base)
