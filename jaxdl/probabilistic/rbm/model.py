"""The RBM model: parameters, energies, conditionals and monitors (pseudo-likelihood).

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

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import (
    check_nonempty,
    check_positive,
    check_positive_int,
    check_probabilities,
    check_rank,
    check_shape,
)
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "AnyRBMParams",
    "GaussianRBMParams",
    "RBMParams",
    "base_rate_visible_bias",
    "energy",
    "exact_pseudo_log_likelihood",
    "free_energy",
    "hidden_probabilities",
    "init_gaussian_params",
    "init_params",
    "pseudo_log_likelihood",
    "reconstruction_error",
    "sample_hidden",
    "sample_visible",
    "visible_mean",
]

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


def init_params(
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
        >>> params = init_params(jax.random.key(0), 64, 16)
        >>> params.weights.shape
        (64, 16)

    Reference: G. Hinton, "A practical guide to training restricted Boltzmann machines", 2010.
    """
    weights, b, c = _init_common(key, num_visible, num_hidden, weight_scale, visible_bias, dtype)
    return RBMParams(weights=weights, visible_bias=b, hidden_bias=c)


def init_gaussian_params(
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
        >>> params = init_gaussian_params(jax.random.key(0), 4, 3)
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
        >>> params = init_params(jax.random.key(0), 3, 2)
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
        >>> params = init_params(jax.random.key(0), 3, 2)
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
        >>> params = init_params(jax.random.key(0), 3, 2)
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
        >>> params = init_params(jax.random.key(0), 3, 2)
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
        >>> params = init_params(jax.random.key(0), 3, 2)
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
        >>> params = init_params(jax.random.key(0), 3, 2)
        >>> sample_visible(jax.random.key(1), params, jnp.ones(2)).shape
        (3,)
    """
    return _sample_visible_given_mean(key, params, visible_mean(params, hidden))


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
        >>> params = init_params(jax.random.key(0), 3, 2)
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
        >>> params = init_params(jax.random.key(0), 3, 2)
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
        >>> params = init_params(jax.random.key(0), 3, 2)
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
