"""Generic Gibbs sampling kernels: single-site and block updates of a discrete position.

Gibbs sampling builds a Markov chain whose stationary distribution is the model
``p(x) ∝ exp(-E(x))`` by redrawing one variable (or a block of conditionally
independent variables) from its conditional given all the others.

Kernels follow the BlackJAX shape: :func:`init` ``(position) -> GibbsState`` and
``kernel(key, state, ...) -> (GibbsState, GibbsInfo)``; one kernel call is one
*sweep* (as many single-site updates as there are variables, or one update of
each block). Run them with :func:`jaxdl.sampling.sample_chain`.

- :func:`single_site_kernel`: the machinery, for any conditional given as logits over
  a finite set of values;
- :func:`discrete_single_site_kernel`: an energy function over ``{0..k-1}^n``;
- :func:`block_kernel`: a systematic scan over blocks, each redrawn by its own sampler.

Model-specific kernels live with their model and are built on these:
:mod:`jaxdl.probabilistic.ising` (single-site and checkerboard Ising kernels) and
:mod:`jaxdl.probabilistic.rbm` (RBM block Gibbs, with its own state).

Reference: Geman & Geman, "Stochastic Relaxation, Gibbs Distributions, and the
Bayesian Restoration of Images", IEEE PAMI 1984.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "SCAN_ORDERS",
    "GibbsInfo",
    "GibbsState",
    "block_kernel",
    "check_scan",
    "discrete_single_site_kernel",
    "init",
    "single_site_kernel",
]

ScanOrder = Literal["systematic", "random"]
SCAN_ORDERS: tuple[str, ...] = ("systematic", "random")


class GibbsState(NamedTuple):
    """State of a Gibbs chain over a discrete position.

    Attributes:
        position: the current configuration (``[n]`` integers for discrete models,
            ``[H, W]`` spins of -1/+1 for the Ising grid).
    """

    position: Array


class GibbsInfo(NamedTuple):
    """What one sweep reports.

    Attributes:
        energy: energy of the configuration after the sweep.
    """

    energy: Array


def init(position: ArrayLike) -> GibbsState:
    """Start a Gibbs chain at ``position`` (a leading axis makes a batch for ``sample_chains``).

    Example:
        >>> init(jnp.zeros(4, jnp.int32)).position.shape
        (4,)
    """
    return GibbsState(jnp.asarray(position))


def check_scan(scan: str) -> None:
    """Raise unless ``scan`` is one of :data:`SCAN_ORDERS`.

    Example:
        >>> check_scan("zigzag")
        Traceback (most recent call last):
        ...
        ValueError: scan must be one of ('systematic', 'random'), got 'zigzag'
    """
    if scan not in SCAN_ORDERS:
        raise ValueError(f"scan must be one of {SCAN_ORDERS}, got {scan!r}")


def single_site_kernel(
    key: Key,
    state: GibbsState,
    conditional_logits: Callable[[Array, Array], Array],
    values: ArrayLike,
    energy_fn: Callable[[Array], Array],
    *,
    scan: ScanOrder = "systematic",
) -> tuple[GibbsState, GibbsInfo]:
    """One sweep of single-site Gibbs: ``x_i ~ p(x_i | x_{-i})`` for ``n`` sites in turn.

    The sites are the flat indices of ``state.position`` (any shape, ``n`` entries).
    ``conditional_logits(position, site)`` returns the ``[k]`` unnormalized
    log-probabilities of ``x_site = values[j]`` given the rest; the new value is drawn
    with ``jax.random.categorical``. ``scan="systematic"`` visits sites ``0..n-1`` in
    order; ``"random"`` draws ``n`` sites uniformly with replacement. The updates run
    in one ``lax.scan``; update ``t`` uses ``fold_in(key', t)``.

    Args:
        key: PRNG key.
        state: :class:`GibbsState`.
        conditional_logits: ``(position, site) -> [k]`` logits of the site's values.
        values: ``[k]`` the values a site can take (same dtype as the position).
        energy_fn: ``E(position)``, reported in the info after the sweep.
        scan: visiting order.

    Returns:
        ``(new_state, info)``.

    Example:
        >>> energy = lambda x: -jnp.sum(x[1:] == x[:-1]).astype(jnp.float32)
        >>> def logits(x, site):
        ...     candidates = jnp.stack([x.at[site].set(0), x.at[site].set(1)])
        ...     return -jax.vmap(energy)(candidates)
        >>> state, info = single_site_kernel(
        ...     jax.random.key(0), init(jnp.zeros(5, jnp.int32)), logits, jnp.arange(2), energy)
    """
    check_scan(scan)
    x = jnp.asarray(state.position)
    values = jnp.asarray(values, x.dtype)
    shape = x.shape
    num_sites = x.size
    site_key, sweep_key = jax.random.split(key)
    if scan == "systematic":
        sites = jnp.arange(num_sites)
    else:
        sites = jax.random.randint(site_key, (num_sites,), 0, num_sites)

    def update(x, inputs):
        t, site = inputs
        logits = conditional_logits(x, site)
        choice = jax.random.categorical(jax.random.fold_in(sweep_key, t), logits)
        x = x.reshape(-1).at[site].set(values[choice]).reshape(shape)
        return x, None

    x, _ = jax.lax.scan(update, x, (jnp.arange(num_sites), sites))
    return GibbsState(x), GibbsInfo(energy_fn(x))


def discrete_single_site_kernel(
    key: Key,
    state: GibbsState,
    energy_fn: Callable[[Array], Array],
    num_values: int,
    *,
    scan: ScanOrder = "systematic",
) -> tuple[GibbsState, GibbsInfo]:
    """One sweep of single-site Gibbs for ``p(x) ∝ exp(-E(x))``, ``x_i in {0..k-1}``.

    Each update sets ``x_i ~ p(x_i | x_{-i}) = softmax_v(-E(x with x_i = v))``,
    evaluating the energy at the ``k`` candidate values (:func:`single_site_kernel`).

    Args:
        key: PRNG key.
        state: :class:`GibbsState` with an ``[n]`` integer position.
        energy_fn: ``E(x)`` of one ``[n]`` integer state.
        num_values: ``k``, the number of values of every variable.
        scan: visiting order.

    Returns:
        ``(new_state, info)``.

    Example:
        >>> energy = lambda x: -jnp.sum(x[1:] == x[:-1]).astype(jnp.float32)
        >>> state, info = discrete_single_site_kernel(
        ...     jax.random.key(0), init(jnp.zeros(5, jnp.int32)), energy, num_values=2)
    """
    check_scan(scan)
    check_positive_int("num_values", num_values)
    x = jnp.asarray(state.position)
    if x.ndim != 1 or not jnp.issubdtype(x.dtype, jnp.integer):
        raise ValueError(
            f"state.position must be an integer vector [n], got {x.dtype} shape {x.shape}"
        )
    values = jnp.arange(num_values, dtype=x.dtype)

    def logits(x, site):
        candidates = jnp.broadcast_to(x, (num_values, x.shape[0])).at[:, site].set(values)
        return -jax.vmap(energy_fn)(candidates)

    return single_site_kernel(key, state, logits, values, energy_fn, scan=scan)


def block_kernel(
    key: Key,
    state: GibbsState,
    block_samplers: Sequence[Callable[[Key, Array], Array]],
    energy_fn: Callable[[Array], Array],
) -> tuple[GibbsState, GibbsInfo]:
    """One sweep of block Gibbs: each block redrawn from its conditional, in order.

    ``block_samplers[b](key, position)`` must return the position with block ``b``
    redrawn from ``p(x_b | x_{-b})`` and every other entry unchanged (the variables of
    a block are conditionally independent given the rest, so a block is drawn at
    once). Block ``b`` uses ``fold_in(key, b)``.

    Args:
        key: PRNG key.
        state: :class:`GibbsState`.
        block_samplers: one conditional sampler per block, applied in order.
        energy_fn: ``E(position)``, reported in the info after the sweep.

    Returns:
        ``(new_state, info)``.

    Example:
        >>> # two independent fair bits, one block each
        >>> def bit(i):
        ...     return lambda k, x: x.at[i].set(jax.random.bernoulli(k).astype(x.dtype))
        >>> state, info = block_kernel(jax.random.key(0), init(jnp.zeros(2)),
        ...                            [bit(0), bit(1)], lambda x: jnp.zeros(()))
    """
    if len(block_samplers) == 0:
        raise ValueError("block_samplers must hold at least one block sampler")
    x = jnp.asarray(state.position)
    for index, sampler in enumerate(block_samplers):
        x = sampler(jax.random.fold_in(key, index), x)
    return GibbsState(x), GibbsInfo(energy_fn(x))
