"""Block Gibbs sampling of an RBM: the kernel, its state, and sampling helpers.

Given one layer, the units of the other layer are independent, so a sweep draws the
whole hidden layer ``h ~ P(h | v)``, then the whole visible layer ``v ~ P(v | h)``.
The kernel has the contract of :mod:`jaxdl.sampling`: :func:`gibbs_init` ``(params,
visible) -> RBMGibbsState`` and :func:`gibbs_kernel` ``(key, state, params) ->
(RBMGibbsState, RBMGibbsInfo)``, driven by :func:`jaxdl.sampling.sample_chain`.

Speed: on CPU, many tiny per-sweep random draws cost more than the sweeps' matrix
products, so ``gibbs_kernel(..., num_sweeps=n)`` runs ``n`` sweeps per call with their
noise drawn in blocks (one random draw per block) before an inner ``lax.scan``. Use it
for long runs and for thinning:
``sample_chain(key, partial(gibbs_kernel, params=p, num_sweeps=10), state, n)`` keeps
every tenth sweep.

Reference: S. Geman, D. Geman, "Stochastic relaxation, Gibbs distributions, and the
Bayesian restoration of images", 1984.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxdl._checks import check_positive_int, check_shape
from jaxdl.probabilistic.rbm.model import (
    AnyRBMParams,
    _bernoulli,
    _check_params,
    _check_visible,
    _hidden_preactivation,
    _hidden_probabilities,
    _is_gaussian,
    _row,
    _sample_visible_given_mean,
    _visible_mean,
)
from jaxdl.sampling.chain import sample_chain
from jaxdl.typing import Array, ArrayLike, Key

__all__ = ["RBMGibbsInfo", "RBMGibbsState", "gibbs_init", "gibbs_kernel", "sample"]


class RBMGibbsState(NamedTuple):
    """State of RBM block Gibbs chains.

    Attributes:
        visible: current visible configuration, ``[V]`` or ``[num_chains, V]``.
        hidden: hidden layer that produced ``visible`` (after :func:`gibbs_init`, the
            probabilities ``P(h = 1 | visible)``), ``[H]`` or ``[num_chains, H]``.
    """

    visible: Array
    hidden: Array


class RBMGibbsInfo(NamedTuple):
    """What the last sweep of a kernel call computed on the way.

    Attributes:
        hidden_probabilities: ``P(h = 1 | v_old)``, used to sample the new hidden layer.
        visible_mean: mean of ``P(v | h_new)``, used to sample the new visible layer.
    """

    hidden_probabilities: Array
    visible_mean: Array


def gibbs_init(params: AnyRBMParams, visible: ArrayLike) -> RBMGibbsState:
    """Start Gibbs chains at ``visible`` (one chain per row).

    Args:
        params: RBM parameters.
        visible: initial visible layer, ``[V]`` or ``[num_chains, V]``.

    Returns:
        An :class:`RBMGibbsState` whose ``hidden`` holds ``P(h = 1 | visible)``.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 3, 2)
        >>> gibbs_init(params, jnp.zeros((4, 3))).hidden.shape
        (4, 2)
    """
    visible = jnp.asarray(visible)
    _check_visible("visible", params, visible)
    return RBMGibbsState(visible=visible, hidden=_hidden_probabilities(params, visible))


def gibbs_kernel(
    key: Key, state: RBMGibbsState, params: AnyRBMParams, *, num_sweeps: int = 1
) -> tuple[RBMGibbsState, RBMGibbsInfo]:
    """``num_sweeps`` block Gibbs sweeps: ``h ~ P(h | v)``, then ``v' ~ P(v | h)``, each.

    Each half-step samples a whole layer at once because units within a layer are
    conditionally independent given the other layer. The kernel leaves the RBM's joint
    distribution invariant; the chain converges to ``P(v, h)``. The noise of all
    ``num_sweeps`` sweeps is drawn in blocks before an inner ``lax.scan`` (much cheaper
    on CPU than per-sweep draws); the info is that of the last sweep.

    Args:
        key: PRNG key for this call.
        state: current :class:`RBMGibbsState` (one chain ``[V]`` or a batch ``[C, V]``).
        params: RBM parameters.
        num_sweeps: sweeps per call (>= 1).

    Returns:
        ``(new_state, info)``.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 3, 2)
        >>> state = gibbs_init(params, jnp.zeros((4, 3)))
        >>> state, info = gibbs_kernel(jax.random.key(1), state, params)
        >>> state.visible.shape
        (4, 3)
    """
    check_positive_int("num_sweeps", num_sweeps)
    _check_visible("state.visible", params, state.visible)
    return _gibbs_kernel(key, state, params, num_sweeps)


@functools.partial(jax.jit, static_argnames=("num_sweeps",))
def _gibbs_kernel(key, state, params, num_sweeps):
    def body(carry, inputs):
        current, _ = carry
        _, (hidden_uniform, visible_noise) = inputs
        p_hidden = jax.nn.sigmoid(_hidden_preactivation(params, current.visible))
        hidden = (hidden_uniform < p_hidden).astype(p_hidden.dtype)
        mean = _visible_mean(params, hidden)
        if _is_gaussian(params):
            visible = mean + _row(jnp.exp(0.5 * params.log_variance), mean.ndim) * visible_noise
        else:
            visible = (visible_noise < mean).astype(mean.dtype)
        return (RBMGibbsState(visible, hidden), RBMGibbsInfo(p_hidden, mean)), None

    info = RBMGibbsInfo(jnp.zeros_like(state.hidden), jnp.zeros_like(state.visible))
    rows = state.visible.shape[:-1]
    return _scan_with_chunked_noise(body, (state, info), None, num_sweeps, key, params, rows)


def sample(
    key: Key,
    params: AnyRBMParams,
    num_samples: int,
    num_steps: int,
    *,
    init_visible: ArrayLike | None = None,
) -> Array:
    """Visible samples from ``num_samples`` independent chains after ``num_steps`` sweeps.

    A convenience over :func:`jaxdl.sampling.sample_chain` and :func:`gibbs_kernel`
    that also picks the start: ``init_visible`` or, when it is ``None``, uniform random
    bits (Bernoulli) or ``N(b, s)`` draws (Gaussian).

    Args:
        key: PRNG key.
        params: RBM parameters.
        num_samples: number of chains.
        num_steps: sweeps per chain (>= 1).
        init_visible: optional ``[num_samples, V]`` starting configurations.

    Returns:
        ``[num_samples, V]`` visible samples after the last sweep.

    Example:
        >>> from jaxdl.probabilistic import rbm
        >>> params = rbm.init_params(jax.random.key(0), 3, 2)
        >>> sample(jax.random.key(1), params, 5, 20).shape
        (5, 3)
    """
    num_visible, _ = _check_params(params)
    check_positive_int("num_samples", num_samples)
    check_positive_int("num_steps", num_steps)
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
    kernel = functools.partial(gibbs_kernel, params=params, num_sweeps=num_steps)
    final, _ = sample_chain(run_key, kernel, gibbs_init(params, v0), 1)
    return final.visible


# ----------------------------------------------------------------------------------------
# Blocked noise (shared with CD-k / PCD training)
# ----------------------------------------------------------------------------------------


def _uniform_from_bits(words: Array, dtype) -> Array:
    """Uniforms in [0, 1) with 23 random bits from ``uint32`` words (as ``jax.random.uniform``)."""
    one = (words >> 9) | jnp.uint32(0x3F800000)
    return (lax.bitcast_convert_type(one, jnp.float32) - 1.0).astype(dtype)


def _uniform16_from_bits(words: Array, dtype) -> Array:
    """Two uniforms per ``uint32`` word, multiples of ``2**-16`` in [0, 1): ``[..., 2n]``."""
    halves = jnp.concatenate([words >> 16, words & jnp.uint32(0xFFFF)], axis=-1)
    one = (halves << 7) | jnp.uint32(0x3F800000)
    return (lax.bitcast_convert_type(one, jnp.float32) - 1.0).astype(dtype)


def _draw_gibbs_noise(key: Key, params: AnyRBMParams, leading: tuple[int, ...]):
    """All the randomness of ``leading`` block Gibbs sweeps, drawn in ONE call.

    Returns ``(hidden_uniforms [*leading, H], visible_noise [*leading, V])``; the visible
    noise is uniform for Bernoulli units and standard normal for Gaussian ones. One
    ``jax.random.bits`` draw, split by slicing, replaces several small draws (each draw
    and each key split is a separate threefry launch, which dominates a CD update on
    CPU). The uniforms that only decide a Bernoulli draw ``u < p`` take 16 random bits
    each, two per 32-bit word, which halves the threefry work: ``P(u < p)`` is then
    ``ceil(2**16 p) / 2**16``, within ``1.5e-5`` of ``p``. Gaussian visible noise keeps
    23-bit uniforms mapped through the inverse normal CDF (``jax.random.normal``'s map).
    The bits come from JAX's non-partitionable threefry derivation (the same generator
    and distribution, another stream; cheaper on one device, where these sequential
    updates run).
    """
    num_visible, num_hidden = params.weights.shape
    dtype = params.weights.dtype
    gaussian = _is_gaussian(params)
    binary_units = num_hidden if gaussian else num_hidden + num_visible
    binary_words = -(-binary_units // 2)
    words = binary_words + (num_visible if gaussian else 0)
    with jax.threefry_partitionable(False):
        bits = jax.random.bits(key, (*leading, words), jnp.uint32)
    binary = _uniform16_from_bits(bits[..., :binary_words], dtype)
    hidden_noise = binary[..., :num_hidden]
    if not gaussian:
        return hidden_noise, binary[..., num_hidden:binary_units]
    uniform = _uniform_from_bits(bits[..., binary_words:], dtype)
    # u in [0, 1) -> (-1, 1) -> N(0, 1) by sqrt(2) erfinv, as jax.random.normal does.
    low = jnp.nextafter(jnp.asarray(-1.0, dtype), jnp.asarray(0.0, dtype))
    symmetric = jnp.maximum(low, 2.0 * uniform - 1.0)
    return hidden_noise, jnp.sqrt(jnp.asarray(2.0, dtype)) * lax.erf_inv(symmetric)


def _gibbs_sweep_from_noise(params, p_hidden, hidden_uniform, visible_noise):
    """One block Gibbs sweep ``h ~ P(h | v)``, ``v ~ P(v | h)`` from pre-drawn noise.

    Returns the new visible layer and its hidden preactivation ``c + (v / s) W`` (the
    next sweep's ``P(h | v)`` is its sigmoid; CD's free energies reuse it).
    """
    hidden = (hidden_uniform < p_hidden).astype(p_hidden.dtype)
    mean = _visible_mean(params, hidden)
    if _is_gaussian(params):
        v = mean + _row(jnp.exp(0.5 * params.log_variance), mean.ndim) * visible_noise
    else:
        v = (visible_noise < mean).astype(mean.dtype)
    return v, _hidden_preactivation(params, v)


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
