"""Restricted Boltzmann machines: energies, block Gibbs sampling, CD/PCD training, log Z.

An RBM is an energy-based model over visible units ``v`` and binary hidden units ``h``
joined by a bipartite graph (no visible-visible or hidden-hidden edges):

    P(v, h) = exp(-E(v, h)) / Z,        Z = sum_v sum_h exp(-E(v, h)).

Two visible types are provided, selected by the type of the parameter NamedTuple:

- :class:`RBMParams`, Bernoulli-Bernoulli (binary visible units),
  ``E(v, h) = -b.v - c.h - v^T W h``;
- :class:`GaussianRBMParams`, Gaussian-Bernoulli (real visible units with per-unit variance
  ``s_i = exp(log_variance_i)``, in the parametrization of Cho, Ilin & Raiko, 2011),
  ``E(v, h) = sum_i (v_i - b_i)^2 / (2 s_i) - c.h - (v / s)^T W h``.
  Keep ``log_variance`` at zero and train with ``learn_variance=False`` for the common
  unit-variance model (inputs standardized first); with ``learn_variance=True`` the
  variances are learned with the other parameters.

Because the graph is bipartite the conditionals factorize,
``P(h_j = 1 | v) = sigmoid(c_j + sum_i W_ij v_i)`` and ``P(v_i = 1 | h) =
sigmoid(b_i + sum_j W_ij h_j)``, so whole layers are sampled at once (block Gibbs).
Summing out ``h`` gives the free energy ``F(v) = -log sum_h exp(-E(v, h))``, with
``P(v) = exp(-F(v)) / Z``.

Energies, conditionals and the Gibbs kernel accept one example ``[V]`` or a batch
``[N, V]`` (chains are rows, so a batch of chains is the vmapped single-chain sampler);
training and monitoring functions take batches ``[N, V]``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxdl._checks import (
    check_nonempty,
    check_positive,
    check_positive_int,
    check_probabilities,
    check_rank,
    check_shape,
    is_concrete,
)
from jaxdl.typing import Array, ArrayLike, Key

# ----------------------------------------------------------------------------------------
# Parameters
# ----------------------------------------------------------------------------------------


class RBMParams(NamedTuple):
    """Parameters of a Bernoulli-Bernoulli RBM.

    Attributes:
        weights: ``W``, shape ``[num_visible, num_hidden]``.
        visible_bias: ``b``, shape ``[num_visible]``.
        hidden_bias: ``c``, shape ``[num_hidden]``.
    """

    weights: Array
    visible_bias: Array
    hidden_bias: Array


class GaussianRBMParams(NamedTuple):
    """Parameters of a Gaussian-Bernoulli RBM (real visible units, binary hidden units).

    Attributes:
        weights: ``W``, shape ``[num_visible, num_hidden]``.
        visible_bias: ``b``, the visible mean when all hidden units are off, ``[num_visible]``.
        hidden_bias: ``c``, shape ``[num_hidden]``.
        log_variance: ``log s``, the log variance of each visible unit, ``[num_visible]``.
    """

    weights: Array
    visible_bias: Array
    hidden_bias: Array
    log_variance: Array


AnyRBMParams = RBMParams | GaussianRBMParams


def init(
    key: Key,
    num_visible: int,
    num_hidden: int,
    *,
    weight_scale: float = 0.01,
    visible_bias: ArrayLike | None = None,
    dtype: jnp.dtype = jnp.float32,
) -> RBMParams:
    """Initialize a Bernoulli-Bernoulli RBM: small Gaussian weights, zero biases.

    ``W_ij ~ N(0, weight_scale^2)``, ``c = 0`` and ``b = 0`` unless ``visible_bias`` is
    given (e.g. :func:`base_rate_visible_bias` of the training data, Hinton's advice).

    Args:
        key: PRNG key for the weights.
        num_visible: number of visible units ``V``.
        num_hidden: number of hidden units ``H``.
        weight_scale: standard deviation of the initial weights.
        visible_bias: optional initial visible bias, shape ``[V]``.
        dtype: floating dtype of the parameters.

    Returns:
        An :class:`RBMParams` with ``weights [V, H]``, ``visible_bias [V]``,
        ``hidden_bias [H]``.

    Example:
        >>> params = init(jax.random.key(0), 64, 16)
        >>> params.weights.shape
        (64, 16)

    Reference: G. Hinton, "A practical guide to training restricted Boltzmann machines", 2010.
    """
    weights, b, c = _init_common(key, num_visible, num_hidden, weight_scale, visible_bias, dtype)
    return RBMParams(weights=weights, visible_bias=b, hidden_bias=c)


def init_gaussian(
    key: Key,
    num_visible: int,
    num_hidden: int,
    *,
    weight_scale: float = 0.01,
    visible_bias: ArrayLike | None = None,
    log_variance: float = 0.0,
    dtype: jnp.dtype = jnp.float32,
) -> GaussianRBMParams:
    """Initialize a Gaussian-Bernoulli RBM: small weights, zero biases, equal variances.

    Args:
        key: PRNG key for the weights.
        num_visible: number of visible units ``V``.
        num_hidden: number of hidden units ``H``.
        weight_scale: standard deviation of the initial weights.
        visible_bias: optional initial visible mean ``b``, shape ``[V]`` (e.g. the data mean).
        log_variance: initial ``log s_i`` for every visible unit (0 for unit variance).
        dtype: floating dtype of the parameters.

    Returns:
        A :class:`GaussianRBMParams`.

    Example:
        >>> params = init_gaussian(jax.random.key(0), 4, 3)
        >>> params.log_variance.shape
        (4,)

    Reference: K. Cho, A. Ilin, T. Raiko, "Improved learning of Gaussian-Bernoulli
    restricted Boltzmann machines", ICANN 2011.
    """
    weights, b, c = _init_common(key, num_visible, num_hidden, weight_scale, visible_bias, dtype)
    log_var = jnp.full((num_visible,), log_variance, dtype)
    return GaussianRBMParams(weights=weights, visible_bias=b, hidden_bias=c, log_variance=log_var)


def _init_common(key, num_visible, num_hidden, weight_scale, visible_bias, dtype):
    check_positive_int("num_visible", num_visible)
    check_positive_int("num_hidden", num_hidden)
    check_positive("weight_scale", weight_scale, allow_zero=True)
    if visible_bias is None:
        b = jnp.zeros((num_visible,), dtype)
    else:
        b = jnp.asarray(visible_bias, dtype)
        check_shape("visible_bias", b, (num_visible,))
    weights = weight_scale * jax.random.normal(key, (num_visible, num_hidden), dtype)
    return weights, b, jnp.zeros((num_hidden,), dtype)


def base_rate_visible_bias(data: ArrayLike, *, pseudocount: float = 1.0) -> Array:
    """Visible biases of the independent ("base-rate") model fitted to binary data.

    ``b_i = log(p_i / (1 - p_i))`` with the smoothed marginal
    ``p_i = (sum_n v_ni + pseudocount) / (N + 2 pseudocount)``, so that
    ``sigmoid(b_i)`` reproduces the data's on-frequency of unit ``i``.

    Args:
        data: binary (or [0, 1]) data, shape ``[N, V]``.
        pseudocount: additive smoothing that keeps the biases finite.

    Returns:
        ``[V]`` visible biases.

    Example:
        >>> base_rate_visible_bias(jnp.array([[1.0, 0.0], [1.0, 1.0]])).shape
        (2,)

    Reference: R. Salakhutdinov, I. Murray, "On the quantitative analysis of deep belief
    networks", ICML 2008.
    """
    data = jnp.asarray(data)
    check_rank("data", data, 2)
    check_nonempty("data", data)
    check_probabilities("data", data)
    check_positive("pseudocount", pseudocount, allow_zero=True)
    count = jnp.sum(data, axis=0)
    p = (count + pseudocount) / (data.shape[0] + 2.0 * pseudocount)
    return jnp.log(p) - jnp.log1p(-p)


# ----------------------------------------------------------------------------------------
# Checks and small helpers
# ----------------------------------------------------------------------------------------


def _is_gaussian(params: AnyRBMParams) -> bool:
    return isinstance(params, GaussianRBMParams)


def _check_params(params: AnyRBMParams) -> tuple[int, int]:
    if not isinstance(params, RBMParams | GaussianRBMParams):
        raise TypeError(
            f"params must be RBMParams or GaussianRBMParams, got {type(params).__name__}"
        )
    check_rank("params.weights", params.weights, 2)
    num_visible, num_hidden = jnp.shape(params.weights)
    check_shape("params.visible_bias", params.visible_bias, (num_visible,))
    check_shape("params.hidden_bias", params.hidden_bias, (num_hidden,))
    if _is_gaussian(params):
        check_shape("params.log_variance", params.log_variance, (num_visible,))
    return num_visible, num_hidden


def _check_layer(name: str, x: Array, size: int, *, binary: bool = False) -> None:
    check_rank(name, x, (1, 2))
    if jnp.shape(x)[-1] != size:
        raise ValueError(
            f"{name} must have last dimension {size} (the layer size), got shape {jnp.shape(x)}"
        )
    if binary:
        check_probabilities(name, x)


def _check_visible(name: str, params: AnyRBMParams, visible: Array) -> None:
    num_visible, _ = _check_params(params)
    _check_layer(name, visible, num_visible, binary=not _is_gaussian(params))


def _check_hidden(name: str, params: AnyRBMParams, hidden: Array) -> None:
    _, num_hidden = _check_params(params)
    _check_layer(name, hidden, num_hidden, binary=True)


def _row(bias: Array, ndim: int) -> Array:
    """Give a ``[D]`` vector the rank of a ``[..., D]`` array (explicit broadcasting)."""
    return jnp.reshape(bias, (1,) * (ndim - 1) + bias.shape)


@jax.jit
def _bernoulli(key: Key, probabilities: Array) -> Array:
    """0/1 samples in the dtype of ``probabilities``."""
    u = jax.random.uniform(key, probabilities.shape, probabilities.dtype)
    return (u < probabilities).astype(probabilities.dtype)


def _scaled_visible(params: AnyRBMParams, visible: Array) -> Array:
    """``v`` for binary units, ``v / s`` for Gaussian ones (what multiplies ``W``)."""
    if _is_gaussian(params):
        return visible * _row(jnp.exp(-params.log_variance), visible.ndim)
    return visible


def _hidden_preactivation(params: AnyRBMParams, visible: Array) -> Array:
    x = _scaled_visible(params, visible)
    return x @ params.weights + _row(params.hidden_bias, visible.ndim)


@jax.jit
def _hidden_probabilities(params: AnyRBMParams, visible: Array) -> Array:
    return jax.nn.sigmoid(_hidden_preactivation(params, visible))


@jax.jit
def _visible_mean(params: AnyRBMParams, hidden: Array) -> Array:
    pre = hidden @ params.weights.T + _row(params.visible_bias, hidden.ndim)
    return pre if _is_gaussian(params) else jax.nn.sigmoid(pre)


@jax.jit
def _sample_visible_given_mean(key: Key, params: AnyRBMParams, mean: Array) -> Array:
    if _is_gaussian(params):
        std = _row(jnp.exp(0.5 * params.log_variance), mean.ndim)
        return mean + std * jax.random.normal(key, mean.shape, mean.dtype)
    return _bernoulli(key, mean)


# ----------------------------------------------------------------------------------------
# Energies and conditionals
# ----------------------------------------------------------------------------------------


def energy(params: AnyRBMParams, visible: ArrayLike, hidden: ArrayLike) -> Array:
    """Energy of joint configurations.

    Bernoulli: ``E(v, h) = -b.v - c.h - v^T W h``. Gaussian:
    ``E(v, h) = sum_i (v_i - b_i)^2 / (2 s_i) - c.h - (v / s)^T W h``.

    Args:
        params: :class:`RBMParams` or :class:`GaussianRBMParams`.
        visible: ``[V]`` or ``[N, V]``.
        hidden: ``[H]`` or ``[N, H]`` (same leading shape as ``visible``).

    Returns:
        Energies, shape ``[]`` or ``[N]``.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> energy(params, jnp.ones(3), jnp.zeros(2)).shape
        ()
    """
    visible, hidden = jnp.asarray(visible), jnp.asarray(hidden)
    _check_visible("visible", params, visible)
    _check_hidden("hidden", params, hidden)
    if visible.shape[:-1] != hidden.shape[:-1]:
        raise ValueError(
            "visible and hidden must have the same leading shape, got "
            f"{visible.shape} and {hidden.shape}"
        )
    return _energy(params, visible, hidden)


@jax.jit
def _energy(params: AnyRBMParams, visible: Array, hidden: Array) -> Array:
    interaction = jnp.sum((_scaled_visible(params, visible) @ params.weights) * hidden, axis=-1)
    hidden_term = hidden @ params.hidden_bias
    if _is_gaussian(params):
        diff = visible - _row(params.visible_bias, visible.ndim)
        inv_var = _row(jnp.exp(-params.log_variance), visible.ndim)
        visible_term = -0.5 * jnp.sum(diff * diff * inv_var, axis=-1)
    else:
        visible_term = visible @ params.visible_bias
    return -visible_term - hidden_term - interaction


def free_energy(params: AnyRBMParams, visible: ArrayLike) -> Array:
    """Free energy ``F(v) = -log sum_h exp(-E(v, h))``, so that ``P(v) = exp(-F(v)) / Z``.

    Bernoulli: ``F(v) = -b.v - sum_j softplus(c_j + (v W)_j)``. Gaussian:
    ``F(v) = sum_i (v_i - b_i)^2 / (2 s_i) - sum_j softplus(c_j + ((v / s) W)_j)``.

    Args:
        params: RBM parameters.
        visible: ``[V]`` or ``[N, V]``.

    Returns:
        ``[]`` or ``[N]`` free energies.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> free_energy(params, jnp.ones((5, 3))).shape
        (5,)
    """
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    return _free_energy(params, visible)


@jax.jit
def _free_energy(params: AnyRBMParams, visible: Array) -> Array:
    hidden_term = jnp.sum(jax.nn.softplus(_hidden_preactivation(params, visible)), axis=-1)
    if _is_gaussian(params):
        diff = visible - _row(params.visible_bias, visible.ndim)
        inv_var = _row(jnp.exp(-params.log_variance), visible.ndim)
        return 0.5 * jnp.sum(diff * diff * inv_var, axis=-1) - hidden_term
    return -(visible @ params.visible_bias) - hidden_term


def hidden_probabilities(params: AnyRBMParams, visible: ArrayLike) -> Array:
    """Factorized posterior ``P(h_j = 1 | v) = sigmoid(c_j + sum_i W_ij v_i)``.

    For Gaussian visible units ``v_i`` is replaced by ``v_i / s_i``. These are also the
    features ``E[h | v]`` an RBM extracts.

    Args:
        params: RBM parameters.
        visible: ``[V]`` or ``[N, V]``.

    Returns:
        ``[H]`` or ``[N, H]`` probabilities.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> hidden_probabilities(params, jnp.ones(3)).shape
        (2,)
    """
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    return _hidden_probabilities(params, visible)


def visible_mean(params: AnyRBMParams, hidden: ArrayLike) -> Array:
    """Mean of the factorized ``P(v | h)``.

    Bernoulli: ``P(v_i = 1 | h) = sigmoid(b_i + sum_j W_ij h_j)``. Gaussian:
    ``v_i | h ~ N(b_i + sum_j W_ij h_j, s_i)``, and the mean is returned.

    Args:
        params: RBM parameters.
        hidden: ``[H]`` or ``[N, H]``.

    Returns:
        ``[V]`` or ``[N, V]`` means.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> visible_mean(params, jnp.zeros(2))
        Array([0.5, 0.5, 0.5], dtype=float32)
    """
    hidden = jnp.asarray(hidden)
    _check_hidden("hidden", params, hidden)
    return _visible_mean(params, hidden)


def sample_hidden(key: Key, params: AnyRBMParams, visible: ArrayLike) -> Array:
    """Draw ``h ~ P(h | v)`` (all hidden units at once).

    Args:
        key: PRNG key.
        params: RBM parameters.
        visible: ``[V]`` or ``[N, V]``.

    Returns:
        0/1 samples ``[H]`` or ``[N, H]`` in the parameters' dtype.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> sample_hidden(jax.random.key(1), params, jnp.ones(3)).shape
        (2,)
    """
    return _bernoulli(key, hidden_probabilities(params, visible))


def sample_visible(key: Key, params: AnyRBMParams, hidden: ArrayLike) -> Array:
    """Draw ``v ~ P(v | h)`` (all visible units at once).

    Args:
        key: PRNG key.
        params: RBM parameters.
        hidden: ``[H]`` or ``[N, H]``.

    Returns:
        ``[V]`` or ``[N, V]``: 0/1 samples (Bernoulli) or real samples (Gaussian).

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> sample_visible(jax.random.key(1), params, jnp.ones(2)).shape
        (3,)
    """
    return _sample_visible_given_mean(key, params, visible_mean(params, hidden))


# ----------------------------------------------------------------------------------------
# Block Gibbs sampling
# ----------------------------------------------------------------------------------------


class GibbsState(NamedTuple):
    """State of block Gibbs chains.

    Attributes:
        visible: current visible configuration, ``[V]`` or ``[num_chains, V]``.
        hidden: hidden layer that produced ``visible`` (after :func:`gibbs_init`, the
            probabilities ``P(h = 1 | visible)``), ``[H]`` or ``[num_chains, H]``.
    """

    visible: Array
    hidden: Array


class GibbsInfo(NamedTuple):
    """What one sweep computed on the way.

    Attributes:
        hidden_probabilities: ``P(h = 1 | v_old)``, used to sample the new hidden layer.
        visible_mean: mean of ``P(v | h_new)``, used to sample the new visible layer.
    """

    hidden_probabilities: Array
    visible_mean: Array


def gibbs_init(params: AnyRBMParams, visible: ArrayLike) -> GibbsState:
    """Start Gibbs chains at ``visible`` (one chain per row).

    Args:
        params: RBM parameters.
        visible: initial visible layer, ``[V]`` or ``[num_chains, V]``.

    Returns:
        A :class:`GibbsState` whose ``hidden`` holds ``P(h = 1 | visible)``.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> gibbs_init(params, jnp.zeros((4, 3))).hidden.shape
        (4, 2)
    """
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    return GibbsState(visible=visible, hidden=_hidden_probabilities(params, visible))


def gibbs_step(key: Key, state: GibbsState, params: AnyRBMParams) -> tuple[GibbsState, GibbsInfo]:
    """One block Gibbs sweep: ``h ~ P(h | v)``, then ``v' ~ P(v | h)``.

    Each half-step samples a whole layer at once because units within a layer are
    conditionally independent given the other layer. The kernel leaves the RBM's joint
    distribution invariant; the chain converges to ``P(v, h)``.

    Args:
        key: PRNG key for this sweep.
        state: current :class:`GibbsState` (one chain ``[V]`` or a batch ``[C, V]``).
        params: RBM parameters.

    Returns:
        ``(new_state, info)``.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> state = gibbs_init(params, jnp.zeros((4, 3)))
        >>> state, info = gibbs_step(jax.random.key(1), state, params)
        >>> state.visible.shape
        (4, 3)

    Reference: S. Geman, D. Geman, "Stochastic relaxation, Gibbs distributions, and the
    Bayesian restoration of images", 1984.
    """
    _check_visible("state.visible", params, state.visible)
    return _gibbs_step(key, state, params)


@jax.jit
def _gibbs_step(key: Key, state: GibbsState, params: AnyRBMParams) -> tuple[GibbsState, GibbsInfo]:
    key_hidden, key_visible = jax.random.split(key)
    p_hidden = jax.nn.sigmoid(_hidden_preactivation(params, state.visible))
    hidden = _bernoulli(key_hidden, p_hidden)
    mean = _visible_mean(params, hidden)
    visible = _sample_visible_given_mean(key_visible, params, mean)
    return GibbsState(visible=visible, hidden=hidden), GibbsInfo(p_hidden, mean)


def run_gibbs(key: Key, state: GibbsState, params: AnyRBMParams, num_steps: int) -> GibbsState:
    """Run ``num_steps`` block Gibbs sweeps inside one ``lax.scan``.

    The noise of all sweeps (or of chunks of them, for very long runs) is drawn in one call
    before the scan, which is much cheaper than per-sweep draws.

    Args:
        key: PRNG key.
        state: initial :class:`GibbsState`.
        params: RBM parameters.
        num_steps: number of sweeps (>= 0).

    Returns:
        The final :class:`GibbsState`.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> state = gibbs_init(params, jnp.zeros((4, 3)))
        >>> run_gibbs(jax.random.key(1), state, params, 10).visible.shape
        (4, 3)
    """
    check_positive_int("num_steps", num_steps, allow_zero=True)
    _check_visible("state.visible", params, state.visible)
    return _run_gibbs(key, state, params, num_steps)


@functools.partial(jax.jit, static_argnames=("num_steps",))
def _run_gibbs(key: Key, state: GibbsState, params: AnyRBMParams, num_steps: int) -> GibbsState:
    def body(carry, inputs):
        _, (hidden_uniform, visible_noise) = inputs
        p_hidden = jax.nn.sigmoid(_hidden_preactivation(params, carry.visible))
        hidden = (hidden_uniform < p_hidden).astype(p_hidden.dtype)
        mean = _visible_mean(params, hidden)
        if _is_gaussian(params):
            visible = mean + _row(jnp.exp(0.5 * params.log_variance), mean.ndim) * visible_noise
        else:
            visible = (visible_noise < mean).astype(mean.dtype)
        return GibbsState(visible=visible, hidden=hidden), None

    rows = state.visible.shape[:-1]
    return _scan_with_chunked_noise(body, state, None, num_steps, key, params, rows)


def sample(
    key: Key,
    params: AnyRBMParams,
    num_samples: int,
    num_steps: int,
    *,
    init_visible: ArrayLike | None = None,
) -> Array:
    """Draw visible samples from ``num_samples`` independent Gibbs chains.

    Chains start at ``init_visible`` or, when it is ``None``, at uniform random bits
    (Bernoulli) or at ``N(b, s)`` draws (Gaussian), and run ``num_steps`` sweeps.

    Args:
        key: PRNG key.
        params: RBM parameters.
        num_samples: number of chains.
        num_steps: sweeps per chain.
        init_visible: optional ``[num_samples, V]`` starting configurations.

    Returns:
        ``[num_samples, V]`` visible samples after the last sweep.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> sample(jax.random.key(1), params, 5, 20).shape
        (5, 3)
    """
    num_visible, _ = _check_params(params)
    check_positive_int("num_samples", num_samples)
    init_key, run_key = jax.random.split(key)
    dtype = params.weights.dtype
    if init_visible is None:
        if _is_gaussian(params):
            mean = jnp.broadcast_to(params.visible_bias, (num_samples, num_visible))
            v0 = _sample_visible_given_mean(init_key, params, mean)
        else:
            v0 = _bernoulli(init_key, jnp.full((num_samples, num_visible), 0.5, dtype))
    else:
        v0 = jnp.asarray(init_visible, dtype)
        check_shape("init_visible", v0, (num_samples, num_visible))
    return run_gibbs(run_key, gibbs_init(params, v0), params, num_steps).visible


# ----------------------------------------------------------------------------------------
# Contrastive divergence
# ----------------------------------------------------------------------------------------


class ContrastiveDivergenceInfo(NamedTuple):
    """Side results of :func:`contrastive_divergence`.

    Attributes:
        chains: visible state of the negative chains after ``k`` sweeps, ``[C, V]``; pass
            it back as ``chains`` for persistent CD.
        positive_phase: ``E_data[-dF/dtheta]``, a pytree shaped like the parameters.
        negative_phase: ``E_chains[-dF/dtheta]``, the same shape.
    """

    chains: Array
    positive_phase: AnyRBMParams
    negative_phase: AnyRBMParams


def _mean_free_energy_gradient(
    params: AnyRBMParams, visible: Array, p_hidden: Array
) -> AnyRBMParams:
    """Closed-form ``mean_n dF(v_n)/dtheta`` given ``p_hidden = P(h = 1 | v)``."""
    n = visible.shape[0]
    if _is_gaussian(params):
        inv_var = jnp.exp(-params.log_variance)
        scaled = visible * inv_var[None, :]
        diff = visible - params.visible_bias[None, :]
        back = p_hidden @ params.weights.T
        d_log_variance = jnp.mean(-0.5 * diff * diff * inv_var[None, :] + scaled * back, axis=0)
        return GaussianRBMParams(
            weights=-(scaled.T @ p_hidden) / n,
            visible_bias=-jnp.mean(diff, axis=0) * inv_var,
            hidden_bias=-jnp.mean(p_hidden, axis=0),
            log_variance=d_log_variance,
        )
    return RBMParams(
        weights=-(visible.T @ p_hidden) / n,
        visible_bias=-jnp.mean(visible, axis=0),
        hidden_bias=-jnp.mean(p_hidden, axis=0),
    )


def contrastive_divergence(
    key: Key,
    params: AnyRBMParams,
    visible: ArrayLike,
    *,
    k: int = 1,
    chains: ArrayLike | None = None,
) -> tuple[AnyRBMParams, ContrastiveDivergenceInfo]:
    """CD-k / persistent-CD estimate of the negative log-likelihood gradient.

    The log-likelihood gradient of an RBM is a difference of two expectations,

        d log P(v) / dtheta = E_data[-dF/dtheta] - E_model[-dF/dtheta]
                            = positive phase   - negative phase,

    and the intractable model expectation is replaced by an average over Gibbs chains run
    ``k`` sweeps from the data (CD-k, Hinton 2002) or from persistent chains carried across
    updates (PCD, Tieleman 2008). Hidden units enter both phases through their
    probabilities ``P(h | v)`` (lower variance than samples). The returned gradient is
    ``negative phase - positive phase``: the gradient of the loss, ready for any optax
    optimizer (which descends).

    Args:
        key: PRNG key for the negative chains.
        params: RBM parameters.
        visible: data minibatch ``[B, V]`` (binary or in [0, 1] for Bernoulli units).
        k: number of Gibbs sweeps (>= 1).
        chains: ``None`` for CD-k (chains start at ``visible``), or the persistent chains'
            visible state ``[C, V]`` for PCD.

    Returns:
        ``(grads, info)``: ``grads`` shaped like ``params``; ``info`` a
        :class:`ContrastiveDivergenceInfo` with the new chain state and both phases.

    Example:
        >>> params = init(jax.random.key(0), 4, 3)
        >>> v = jnp.array([[1.0, 0.0, 1.0, 0.0]])
        >>> grads, info = contrastive_divergence(jax.random.key(1), params, v, k=1)
        >>> grads.weights.shape
        (4, 3)

    Reference: G. Hinton, "Training products of experts by minimizing contrastive
    divergence", Neural Computation 2002; T. Tieleman, "Training restricted Boltzmann
    machines using approximations to the likelihood gradient", ICML 2008.
    """
    check_positive_int("k", k)
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    check_rank("visible", visible, 2)
    check_nonempty("visible", visible)
    if chains is not None:
        chains = jnp.asarray(chains, visible.dtype)
        _check_visible("chains", params, chains)
        check_rank("chains", chains, 2)
        check_nonempty("chains", chains)
    return _contrastive_divergence(key, params, visible, k, chains)


@functools.partial(jax.jit, static_argnames=("k",))
def _contrastive_divergence(key, params, visible, k, chains):
    rows = visible.shape[0] if chains is None else chains.shape[0]
    noise = _draw_gibbs_noise(key, params, (k, rows))
    return _contrastive_divergence_from_noise(params, visible, chains, noise)


def _draw_gibbs_noise(key: Key, params: AnyRBMParams, leading: tuple[int, ...]):
    """All the randomness of ``leading`` block Gibbs sweeps, drawn in two calls.

    Returns ``(hidden_uniforms [*leading, H], visible_noise [*leading, V])``; the visible
    noise is uniform for Bernoulli units and standard normal for Gaussian ones. Drawing a
    whole block at once is much cheaper on CPU than many tiny per-sweep draws. The bits
    come from JAX's non-partitionable threefry derivation (the same generator and
    distribution, another stream; about twice as fast on one device, which is where these
    sequential updates run); the keys themselves are split as configured.
    """
    num_visible, num_hidden = params.weights.shape
    dtype = params.weights.dtype
    hidden_key, visible_key = jax.random.split(key)
    draw = jax.random.normal if _is_gaussian(params) else jax.random.uniform
    with jax.threefry_partitionable(False):
        hidden_noise = jax.random.uniform(hidden_key, (*leading, num_hidden), dtype)
        visible_noise = draw(visible_key, (*leading, num_visible), dtype)
    return hidden_noise, visible_noise


def _gibbs_sweep_from_noise(params, p_hidden, hidden_uniform, visible_noise):
    """One block Gibbs sweep ``h ~ P(h | v)``, ``v ~ P(v | h)`` from pre-drawn noise."""
    hidden = (hidden_uniform < p_hidden).astype(p_hidden.dtype)
    mean = _visible_mean(params, hidden)
    if _is_gaussian(params):
        v = mean + _row(jnp.exp(0.5 * params.log_variance), mean.ndim) * visible_noise
    else:
        v = (visible_noise < mean).astype(mean.dtype)
    return v, jax.nn.sigmoid(_hidden_preactivation(params, v))


def _contrastive_divergence_from_noise(params, visible, chains, noise):
    """CD-k / PCD from pre-drawn noise ``(hidden [k, C, H], visible [k, C, V])``."""
    p_positive = jax.nn.sigmoid(_hidden_preactivation(params, visible))
    if chains is None:
        v_start, p_start = visible, p_positive
    else:
        v_start, p_start = chains, jax.nn.sigmoid(_hidden_preactivation(params, chains))

    def sweep(carry, sweep_noise):
        _, p_hidden = carry
        return _gibbs_sweep_from_noise(params, p_hidden, *sweep_noise), None

    k = noise[0].shape[0]
    (v_negative, p_negative), _ = lax.scan(sweep, (v_start, p_start), noise, unroll=min(k, 4))
    positive = jax.tree.map(jnp.negative, _mean_free_energy_gradient(params, visible, p_positive))
    negative = jax.tree.map(
        jnp.negative, _mean_free_energy_gradient(params, v_negative, p_negative)
    )
    grads = jax.tree.map(jnp.subtract, negative, positive)
    return grads, ContrastiveDivergenceInfo(v_negative, positive, negative)


# ----------------------------------------------------------------------------------------
# Monitoring
# ----------------------------------------------------------------------------------------


def reconstruction_error(params: AnyRBMParams, visible: ArrayLike) -> Array:
    """Mean-field reconstruction error ``mean_n sum_i (v_ni - E[v_i | h = P(h | v_n)])^2``.

    A cheap training monitor (not the objective CD optimizes): the data are passed up to
    hidden probabilities and back down to visible means.

    Args:
        params: RBM parameters.
        visible: ``[N, V]`` (or ``[V]``).

    Returns:
        Scalar mean squared reconstruction error (summed over visible units).

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> reconstruction_error(params, jnp.zeros((2, 3))).shape
        ()
    """
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    return _reconstruction_error(params, visible)


@jax.jit
def _reconstruction_error(params: AnyRBMParams, visible: Array) -> Array:
    diff = visible - _visible_mean(params, _hidden_probabilities(params, visible))
    return jnp.mean(jnp.sum(diff * diff, axis=-1))


def _require_bernoulli(params: AnyRBMParams, what: str) -> None:
    if _is_gaussian(params):
        raise TypeError(f"{what} needs binary visible units (RBMParams), got GaussianRBMParams")


def pseudo_log_likelihood(key: Key, params: RBMParams, visible: ArrayLike) -> Array:
    """Stochastic pseudo-log-likelihood: one random bit flipped per example.

    For each example one visible index ``i`` is drawn uniformly and
    ``V * log sigmoid(F(v~) - F(v))`` is returned, where ``v~`` is ``v`` with bit ``i``
    flipped. Since ``log P(v_i | v_-i) = log sigmoid(F(v~) - F(v))``, this is an unbiased
    estimate of ``sum_i log P(v_i | v_-i)`` (:func:`exact_pseudo_log_likelihood`); it is
    the quantity scikit-learn's ``BernoulliRBM.score_samples`` reports.

    Args:
        key: PRNG key choosing the flipped bits.
        params: Bernoulli RBM parameters.
        visible: binary data, ``[N, V]``.

    Returns:
        ``[N]`` pseudo-log-likelihoods (<= 0).

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> pseudo_log_likelihood(jax.random.key(1), params, jnp.ones((4, 3))).shape
        (4,)

    Reference: J. Besag, "Statistical analysis of non-lattice data", 1975.
    """
    _require_bernoulli(params, "pseudo_log_likelihood")
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    check_rank("visible", visible, 2)
    return _pseudo_log_likelihood(key, params, visible)


@jax.jit
def _pseudo_log_likelihood(key: Key, params: RBMParams, visible: Array) -> Array:
    num_visible = visible.shape[-1]
    index = jax.random.randint(key, (visible.shape[0],), 0, num_visible)
    flip = jax.nn.one_hot(index, num_visible, dtype=visible.dtype)
    flipped = visible + flip - 2.0 * visible * flip
    delta = _free_energy(params, flipped) - _free_energy(params, visible)
    return num_visible * jax.nn.log_sigmoid(delta)


def exact_pseudo_log_likelihood(params: RBMParams, visible: ArrayLike) -> Array:
    """Pseudo-log-likelihood ``sum_i log P(v_i | v_-i)`` summed over every visible bit.

    ``log P(v_i | v_-i) = log sigmoid(F(v with bit i flipped) - F(v))``. Costs ``V`` free
    energies per example (memory ``N * V * H``), so meant for small ``V``.

    Args:
        params: Bernoulli RBM parameters.
        visible: binary data, ``[N, V]``.

    Returns:
        ``[N]`` pseudo-log-likelihoods.

    Example:
        >>> params = init(jax.random.key(0), 3, 2)
        >>> exact_pseudo_log_likelihood(params, jnp.ones((4, 3))).shape
        (4,)

    Reference: J. Besag, "Statistical analysis of non-lattice data", 1975.
    """
    _require_bernoulli(params, "exact_pseudo_log_likelihood")
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    check_rank("visible", visible, 2)
    return _exact_pseudo_log_likelihood(params, visible)


@jax.jit
def _exact_pseudo_log_likelihood(params: RBMParams, visible: Array) -> Array:
    pre = _hidden_preactivation(params, visible)  # [N, H]
    sign = 1.0 - 2.0 * visible  # +1 where a bit turns on, -1 where it turns off; [N, V]
    # Flipping bit i changes the pre-activations by sign_i * W_i: and b.v by sign_i * b_i.
    pre_flipped = pre[:, None, :] + sign[:, :, None] * params.weights[None, :, :]  # [N, V, H]
    free_flipped = -(visible @ params.visible_bias)[:, None] - sign * params.visible_bias[None, :]
    free_flipped = free_flipped - jnp.sum(jax.nn.softplus(pre_flipped), axis=-1)
    free = -(visible @ params.visible_bias) - jnp.sum(jax.nn.softplus(pre), axis=-1)
    return jnp.sum(jax.nn.log_sigmoid(free_flipped - free[:, None]), axis=-1)


# ----------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------


class RBMTrainHistory(NamedTuple):
    """Per-epoch monitors of :func:`train_rbm`, each of shape ``[num_epochs]``.

    Attributes:
        reconstruction_error: :func:`reconstruction_error` on the monitor data.
        pseudo_log_likelihood: mean stochastic :func:`pseudo_log_likelihood` on the monitor
            data (NaN for Gaussian RBMs, where it is not defined).
        free_energy: mean free energy of the monitor data.
    """

    reconstruction_error: Array
    pseudo_log_likelihood: Array
    free_energy: Array


class RBMTrainResult(NamedTuple):
    """What :func:`train_rbm` returns.

    Attributes:
        params: trained parameters.
        chains: final persistent chains ``[num_chains, V]`` (PCD) or ``None`` (CD).
        opt_state: final optimizer state (to resume training).
        history: :class:`RBMTrainHistory` (empty arrays when ``monitor=False``).
    """

    params: AnyRBMParams
    chains: Array | None
    opt_state: optax.OptState
    history: RBMTrainHistory


def train_rbm(
    key: Key,
    params: AnyRBMParams,
    data: ArrayLike,
    num_epochs: int,
    batch_size: int,
    learning_rate: float | None = None,
    k: int = 1,
    persistent: bool = False,
    *,
    optimizer: optax.GradientTransformation | None = None,
    num_chains: int | None = None,
    learn_variance: bool = True,
    monitor: bool = True,
    monitor_data: ArrayLike | None = None,
    chains: ArrayLike | None = None,
    opt_state: optax.OptState | None = None,
) -> RBMTrainResult:
    """Train an RBM by CD-k or persistent CD; the whole run is one compiled program.

    Every epoch shuffles the data, splits it into ``N // batch_size`` minibatches (the
    remainder is dropped) and runs a ``lax.scan`` of updates over them, each update being
    ``optimizer.update(contrastive_divergence(...))``; epochs run in an outer ``lax.scan``.
    Epoch ``e`` uses ``fold_in(key, e)``; the Gibbs noise (uniforms for the Bernoulli
    draws ``u < p``, normals for Gaussian visible units) of a whole epoch, or of a chunk of
    it for very large data, is drawn in one call before the scan over its minibatches, which
    on CPU is much cheaper than many tiny per-update draws. With ``persistent=True`` the
    negative chains (``num_chains`` of them, default ``batch_size``, started at random
    training rows) carry over from one update to the next. A run resumes from a previous
    :class:`RBMTrainResult` by passing its ``params``, ``chains`` and ``opt_state``.

    Args:
        key: PRNG key.
        params: initial parameters (:func:`init` or :func:`init_gaussian`).
        data: training data ``[N, V]``.
        num_epochs: passes over the data.
        batch_size: examples per update.
        learning_rate: step size of plain SGD (default 0.1) when ``optimizer`` is ``None``.
        k: Gibbs sweeps per update.
        persistent: PCD instead of CD-k.
        optimizer: any optax transformation (then ``learning_rate`` must be ``None``).
        num_chains: number of persistent chains (PCD only).
        learn_variance: for Gaussian RBMs, whether ``log_variance`` is trained.
        monitor: compute the per-epoch monitors.
        monitor_data: data for the monitors ``[M, V]`` (default: ``data``).
        chains: persistent chains ``[C, V]`` to start from (PCD only; default: random
            training rows).
        opt_state: optimizer state to resume from (default: ``optimizer.init(params)``).

    Returns:
        An :class:`RBMTrainResult`.

    Example:
        >>> data = jnp.array([[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]] * 8)
        >>> params = init(jax.random.key(0), 3, 4)
        >>> result = train_rbm(jax.random.key(1), params, data, 2, 4, 0.1)
        >>> result.history.pseudo_log_likelihood.shape
        (2,)

    Reference: G. Hinton, "A practical guide to training restricted Boltzmann machines", 2010.
    """
    num_visible, _ = _check_params(params)
    data = jnp.asarray(data, params.weights.dtype)
    check_rank("data", data, 2)
    check_nonempty("data", data)
    _check_visible("data", params, data)
    check_positive_int("num_epochs", num_epochs)
    check_positive_int("batch_size", batch_size)
    check_positive_int("k", k)
    if batch_size > data.shape[0]:
        raise ValueError(
            f"batch_size must be <= the number of examples ({data.shape[0]}), got {batch_size}"
        )
    if optimizer is not None and learning_rate is not None:
        raise ValueError("pass either learning_rate (plain SGD) or optimizer, not both")
    if optimizer is None:
        learning_rate = 0.1 if learning_rate is None else learning_rate
        check_positive("learning_rate", learning_rate)
    if (num_chains is not None or chains is not None) and not persistent:
        raise ValueError("num_chains and chains are only used with persistent=True")
    if num_chains is not None:
        check_positive_int("num_chains", num_chains)
    if monitor_data is None:
        monitor_data = data
    else:
        monitor_data = jnp.asarray(monitor_data, params.weights.dtype)
        check_rank("monitor_data", monitor_data, 2)
        check_nonempty("monitor_data", monitor_data)
        _check_visible("monitor_data", params, monitor_data)
    if chains is not None:
        chains = jnp.asarray(chains, params.weights.dtype)
        check_rank("chains", chains, 2)
        _check_visible("chains", params, chains)
        if num_chains is not None and chains.shape[0] != num_chains:
            raise ValueError(f"chains must have {num_chains} rows, got shape {chains.shape}")
    if opt_state is None:
        # The state's structure does not depend on the learning rate; building it here keeps
        # one compiled program for fresh and resumed runs.
        opt_state = (optax.sgd(1.0) if optimizer is None else optimizer).init(params)
    chain_key, train_key = jax.random.split(key)
    if chains is None and persistent:
        count = batch_size if num_chains is None else num_chains
        rows = jax.random.choice(chain_key, data.shape[0], (count,), replace=count > len(data))
        chains = data[rows]
    return _train_loop(
        train_key,
        params,
        opt_state,
        chains,
        data,
        monitor_data,
        learning_rate,
        num_epochs=num_epochs,
        batch_size=batch_size,
        k=k,
        optimizer=optimizer,
        learn_variance=jnp.asarray(bool(learn_variance)),
        monitor=monitor,
    )


@functools.partial(
    jax.jit,
    static_argnames=("num_epochs", "batch_size", "k", "optimizer", "monitor"),
)
def _train_loop(
    key,
    params,
    opt_state,
    chains,
    data,
    monitor_data,
    learning_rate,
    *,
    num_epochs,
    batch_size,
    k,
    optimizer,
    learn_variance,
    monitor,
):
    tx = optax.sgd(learning_rate) if optimizer is None else optimizer
    num_batches = data.shape[0] // batch_size
    gaussian = _is_gaussian(params)
    chain_rows = batch_size if chains is None else chains.shape[0]

    def update(carry, inputs):
        params, opt_state, chains = carry
        batch, noise = inputs
        grads, info = _contrastive_divergence_from_noise(params, batch, chains, noise)
        if gaussian:
            # learn_variance is traced (one program for both settings).
            zero = jnp.zeros_like(grads.log_variance)
            grads = grads._replace(log_variance=jnp.where(learn_variance, grads.log_variance, zero))
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
        return (params, opt_state, None if chains is None else info.chains), None

    def epoch(carry, epoch_index):
        epoch_key = jax.random.fold_in(key, epoch_index)
        perm_key, step_key, monitor_key = jax.random.split(epoch_key, 3)
        order = jax.random.permutation(perm_key, data.shape[0])[: num_batches * batch_size]
        batches = data[order].reshape(num_batches, batch_size, data.shape[1])
        carry = _scan_with_chunked_noise(
            update, carry, batches, num_batches, step_key, carry[0], (k, chain_rows)
        )
        if not monitor:
            del monitor_key
            return carry, None
        params = carry[0]
        if gaussian:
            del monitor_key
            pll = jnp.full((), jnp.nan, params.weights.dtype)
        else:
            pll = jnp.mean(pseudo_log_likelihood(monitor_key, params, monitor_data))
        stats = (
            reconstruction_error(params, monitor_data),
            pll,
            jnp.mean(_free_energy(params, monitor_data)),
        )
        return carry, stats

    init_carry = (params, opt_state, chains)
    (params, opt_state, chains), stats = lax.scan(epoch, init_carry, jnp.arange(num_epochs))
    if stats is None:
        empty = jnp.zeros((0,), params.weights.dtype)
        stats = (empty, empty, empty)
    return RBMTrainResult(params, chains, opt_state, RBMTrainHistory(*stats))


# Noise drawn at once per chunk of steps: at most this many numbers (4 MiB in float32).
# Measured on CPU: larger blocks stop paying off once they leave the caches.
_NOISE_CHUNK_NUMBERS = 1 << 20


def _scan_with_chunked_noise(body, carry, xs, length, key, params, rows):
    """``lax.scan`` of ``body`` over ``length`` steps with the Gibbs noise drawn per chunk.

    ``body(carry, (x, noise))`` gets step ``t``'s slice of ``xs`` (a pytree with leading
    axis ``length``, or ``None``) and its noise ``(hidden [*rows, H], visible [*rows, V])``
    (see :func:`_draw_gibbs_noise`). The steps are grouped into chunks of ``chunk``
    consecutive steps (as many as fit in :data:`_NOISE_CHUNK_NUMBERS`, usually all of
    them); chunk ``c`` draws the noise of all its steps in one call from
    ``fold_in(key, c)`` and an inner scan consumes it. A last, shorter chunk takes the
    remainder.
    """
    if length == 0:
        return carry
    num_visible, num_hidden = params.weights.shape
    per_step = math.prod(rows) * (num_visible + num_hidden)
    chunk = max(1, min(length, _NOISE_CHUNK_NUMBERS // per_step))
    num_chunks, remainder = divmod(length, chunk)

    def run_chunk(carry, chunk_xs, chunk_key, size):
        noise = _draw_gibbs_noise(chunk_key, params, (size, *rows))
        carry, _ = lax.scan(body, carry, (chunk_xs, noise))
        return carry

    def take(start, stop, shape):
        return jax.tree.map(lambda x: x[start:stop].reshape(*shape, *x.shape[1:]), xs)

    if num_chunks == 1:
        carry = run_chunk(carry, take(0, chunk, (chunk,)), jax.random.fold_in(key, 0), chunk)
    else:

        def outer(carry, inputs):
            index, chunk_xs = inputs
            return run_chunk(carry, chunk_xs, jax.random.fold_in(key, index), chunk), None

        full = take(0, num_chunks * chunk, (num_chunks, chunk))
        carry, _ = lax.scan(outer, carry, (jnp.arange(num_chunks), full))
    if remainder:
        carry = run_chunk(
            carry,
            take(num_chunks * chunk, length, (remainder,)),
            jax.random.fold_in(key, num_chunks),
            remainder,
        )
    return carry


# ----------------------------------------------------------------------------------------
# Partition function: exact enumeration and annealed importance sampling
# ----------------------------------------------------------------------------------------


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
        >>> params = init(jax.random.key(0), 10, 6)
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
        >>> params = init(jax.random.key(0), 4, 3)
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
    :func:`base_rate_visible_bias` of the training data) or ``N(b, s)`` (Gaussian RBMs,
    whose quadratic term is shared by both ends). Intermediate models have free energy
    ``F_k = (1 - beta_k) F_A + beta_k F_B``, which is again an RBM with weights
    ``beta_k W``. Each run draws ``v_0 ~ P_A`` exactly, then for ``k = 1..K`` adds
    ``F_{k-1}(v_{k-1}) - F_k(v_{k-1})`` to its log-weight and moves ``v`` with one block
    Gibbs sweep that leaves ``P_k`` invariant. ``log Z_B ~ log Z_A + log mean_r w_r``;
    ``num_runs`` runs go in parallel (chains are rows) inside one ``lax.scan`` over
    ``beta``. The estimate of ``Z`` is unbiased, so that of ``log Z`` tends to be low.

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
        >>> params = init(jax.random.key(0), 10, 6)
        >>> result = ais_log_partition(jax.random.key(1), params, num_runs=16, num_betas=100)
        >>> result.log_weights.shape
        (16,)

    Reference: R. Salakhutdinov, I. Murray, "On the quantitative analysis of deep belief
    networks", ICML 2008; R. Neal, "Annealed importance sampling", 2001.
    """
    num_visible, num_hidden = _check_params(params)
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
    if _is_gaussian(params):
        if base_visible_bias is not None:
            raise ValueError(
                "base_visible_bias applies to Bernoulli RBMs only; the Gaussian base model "
                "is N(visible_bias, exp(log_variance))"
            )
        base_bias = params.visible_bias
    else:
        if base_visible_bias is None:
            base_bias = jnp.zeros((num_visible,), dtype)
        else:
            base_bias = jnp.asarray(base_visible_bias, dtype)
            check_shape("base_visible_bias", base_bias, (num_visible,))
    return _ais(key, params, betas, base_bias, num_runs)


@functools.partial(jax.jit, static_argnames=("num_runs",))
def _ais(key, params, betas, base_bias, num_runs):
    init_key, run_key = jax.random.split(key)
    num_hidden = params.weights.shape[1]
    if _is_gaussian(params):
        log_z_base = 0.5 * jnp.sum(math.log(2.0 * math.pi) + params.log_variance)
    else:
        log_z_base = jnp.sum(jax.nn.softplus(base_bias))
    log_z_base = log_z_base + num_hidden * math.log(2.0)
    base_mean = _row(base_bias, 2) * jnp.ones((num_runs, 1), base_bias.dtype)
    if _is_gaussian(params):
        v0 = _sample_visible_given_mean(init_key, params, base_mean)
    else:
        v0 = _bernoulli(init_key, jax.nn.sigmoid(base_mean))

    def body(carry, inputs):
        v, log_w = carry
        beta_previous, beta, t = inputs
        previous = _interpolate(params, base_bias, beta_previous)
        current = _interpolate(params, base_bias, beta)
        log_w = log_w + _free_energy(previous, v) - _free_energy(current, v)
        state, _ = _gibbs_step(
            jax.random.fold_in(run_key, t), GibbsState(v, jnp.zeros(())), current
        )
        return (state.visible, log_w), None

    steps = jnp.arange(betas.shape[0] - 1)
    log_w0 = jnp.zeros((num_runs,), v0.dtype)
    (_, log_w), _ = lax.scan(body, (v0, log_w0), (betas[:-1], betas[1:], steps))
    log_mean_w = jax.nn.logsumexp(log_w) - math.log(num_runs)
    w = jnp.exp(log_w - jnp.max(log_w))
    std = jnp.std(w) / (jnp.mean(w) * math.sqrt(num_runs))
    return AISResult(log_z_base + log_mean_w, std, log_w, log_z_base)


__all__ = [
    "AISResult",
    "ContrastiveDivergenceInfo",
    "GaussianRBMParams",
    "GibbsInfo",
    "GibbsState",
    "RBMParams",
    "RBMTrainHistory",
    "RBMTrainResult",
    "ais_log_partition",
    "base_rate_visible_bias",
    "contrastive_divergence",
    "energy",
    "exact_pseudo_log_likelihood",
    "free_energy",
    "gibbs_init",
    "gibbs_step",
    "hidden_probabilities",
    "init",
    "init_gaussian",
    "log_likelihood",
    "log_partition_function",
    "pseudo_log_likelihood",
    "reconstruction_error",
    "run_gibbs",
    "sample",
    "sample_hidden",
    "sample_visible",
    "train_rbm",
]
