"""Gibbs sampling kernels for discrete energy-based models and the Ising grid.

Gibbs sampling builds a Markov chain whose stationary distribution is the model
``p(x) ∝ exp(-E(x))`` by redrawing one variable (or a block of conditionally
independent variables) from its conditional given all the others.

Kernels follow the BlackJAX shape: ``init(position) -> GibbsState`` and
``kernel(key, state, ...) -> (GibbsState, GibbsInfo)``; one kernel call is one
*sweep* (as many single-site updates as there are variables, or one update of
each block). :func:`sample_chain` runs a kernel inside ``lax.scan`` and
:func:`sample_chains` vmaps that over independent chains.

Reference: Geman & Geman, "Stochastic Relaxation, Gibbs Distributions, and the
Bayesian Restoration of Images", IEEE PAMI 1984.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.probabilistic.undirected import IsingModel, ising_energy, ising_local_field
from jaxdl.typing import Array, ArrayLike, Key, PyTree

__all__ = [
    "GibbsInfo",
    "GibbsState",
    "SCAN_ORDERS",
    "discrete_single_site_kernel",
    "init",
    "ising_checkerboard_kernel",
    "ising_single_site_kernel",
    "sample_chain",
    "sample_chains",
]

ScanOrder = Literal["systematic", "random"]
SCAN_ORDERS: tuple[str, ...] = ("systematic", "random")


class GibbsState(NamedTuple):
    """State of a Gibbs chain.

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
    """Start a Gibbs chain at ``position``.

    Example:
        >>> state = init(jnp.zeros(4, jnp.int32))
    """
    return GibbsState(jnp.asarray(position))


def _check_scan(scan: str) -> None:
    if scan not in SCAN_ORDERS:
        raise ValueError(f"scan must be one of {SCAN_ORDERS}, got {scan!r}")


def _sites(key: Key, num_sites: int, scan: str) -> tuple[Array, Key]:
    """Visiting order of one sweep, and the key whose ``fold_in(., t)`` drives update ``t``.

    Updates scan over ``(t, site)`` and fold ``t`` into one key: scanning over an
    array of split keys trips JAX's key-reuse checker under ``vmap``.
    """
    site_key, update_key = jax.random.split(key)
    if scan == "systematic":
        sites = jnp.arange(num_sites)
    else:
        sites = jax.random.randint(site_key, (num_sites,), 0, num_sites)
    return sites, update_key


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
    evaluating the energy at the ``k`` candidate values. ``scan="systematic"``
    visits sites ``0..n-1`` in order; ``"random"`` draws ``n`` sites uniformly
    with replacement. The updates run in a ``lax.scan``.

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
    _check_scan(scan)
    check_positive_int("num_values", num_values)
    x = jnp.asarray(state.position)
    if x.ndim != 1 or not jnp.issubdtype(x.dtype, jnp.integer):
        raise ValueError(
            f"state.position must be an integer vector [n], got {x.dtype} shape {x.shape}"
        )
    values = jnp.arange(num_values, dtype=x.dtype)
    sites, sweep_key = _sites(key, x.shape[0], scan)

    def update(x, inputs):
        t, site = inputs
        update_key = jax.random.fold_in(sweep_key, t)
        candidates = jnp.broadcast_to(x, (num_values, x.shape[0])).at[:, site].set(values)
        energies = jax.vmap(energy_fn)(candidates)
        x = x.at[site].set(jax.random.categorical(update_key, -energies).astype(x.dtype))
        return x, None

    x, _ = jax.lax.scan(update, x, (jnp.arange(sites.shape[0]), sites))
    return GibbsState(x), GibbsInfo(energy_fn(x))


def _site_field(spins: Array, model: IsingModel, row: Array, col: Array, periodic: bool) -> Array:
    """Local field ``J sum_{j~i} s_j + h`` at one site, without touching the whole grid."""
    height, width = spins.shape
    offsets = ((-1, 0), (1, 0), (0, -1), (0, 1))
    total = jnp.zeros((), spins.dtype)
    for dr, dc in offsets:
        r, c = row + dr, col + dc
        if periodic:
            total = total + spins[r % height, c % width]
        else:
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            value = spins[jnp.clip(r, 0, height - 1), jnp.clip(c, 0, width - 1)]
            total = total + jnp.where(inside, value, jnp.zeros_like(value))
    return model.coupling * total + model.field


def _check_grid(spins: Array) -> None:
    if spins.ndim != 2 or not jnp.issubdtype(spins.dtype, jnp.floating):
        raise ValueError(
            "state.position must be a floating [H, W] grid of -1/+1 spins, got "
            f"{spins.dtype} shape {spins.shape}"
        )


def ising_single_site_kernel(
    key: Key,
    state: GibbsState,
    model: IsingModel,
    *,
    scan: ScanOrder = "systematic",
    periodic: bool = True,
) -> tuple[GibbsState, GibbsInfo]:
    """One sweep of single-site (heat-bath) Gibbs on an Ising grid.

    Each update draws ``s_i = +1`` with probability ``sigmoid(2 beta f_i)``, where
    ``f_i = J sum_{j~i} s_j + h`` is the local field; ``H W`` updates per sweep in
    raster order (``"systematic"``) or at uniformly random sites (``"random"``).

    Args:
        key: PRNG key.
        state: :class:`GibbsState` holding ``[H, W]`` float spins of -1/+1.
        model: :class:`jaxdl.probabilistic.undirected.IsingModel`.
        scan: visiting order.
        periodic: periodic boundary conditions.

    Returns:
        ``(new_state, info)`` with the energy after the sweep.

    Example:
        >>> state, info = ising_single_site_kernel(
        ...     jax.random.key(0), init(jnp.ones((4, 4))), IsingModel(coupling=0.4))
    """
    _check_scan(scan)
    spins = jnp.asarray(state.position)
    _check_grid(spins)
    height, width = spins.shape
    sites, sweep_key = _sites(key, height * width, scan)

    def update(s, inputs):
        t, site = inputs
        update_key = jax.random.fold_in(sweep_key, t)
        row, col = site // width, site % width
        field = _site_field(s, model, row, col, periodic)
        prob_up = jax.nn.sigmoid(2.0 * model.inverse_temperature * field)
        up = jax.random.uniform(update_key, (), s.dtype) < prob_up
        s = s.at[row, col].set(jnp.where(up, 1.0, -1.0).astype(s.dtype))
        return s, None

    spins, _ = jax.lax.scan(update, spins, (jnp.arange(sites.shape[0]), sites))
    return GibbsState(spins), GibbsInfo(ising_energy(spins, model, periodic=periodic))


def ising_checkerboard_kernel(
    key: Key, state: GibbsState, model: IsingModel, *, periodic: bool = True
) -> tuple[GibbsState, GibbsInfo]:
    """One sweep of block Gibbs on an Ising grid: all "black" sites, then all "white".

    Sites with ``(row + col)`` even have only odd neighbours, so given the other
    colour they are conditionally independent and are redrawn at once (block
    Gibbs). With periodic boundaries this needs even ``H`` and ``W``.

    Args:
        key: PRNG key.
        state: :class:`GibbsState` holding ``[H, W]`` float spins of -1/+1.
        model: :class:`jaxdl.probabilistic.undirected.IsingModel`.
        periodic: periodic boundary conditions.

    Returns:
        ``(new_state, info)``.

    Example:
        >>> state, info = ising_checkerboard_kernel(
        ...     jax.random.key(0), init(jnp.ones((4, 4))), IsingModel(coupling=0.4))
    """
    spins = jnp.asarray(state.position)
    _check_grid(spins)
    height, width = spins.shape
    if periodic and (height % 2 or width % 2):
        raise ValueError(
            "checkerboard Gibbs with periodic boundaries needs an even grid, got shape "
            f"{spins.shape}; use periodic=False or an even size"
        )
    rows = jnp.arange(height)[:, None]
    cols = jnp.arange(width)[None, :]
    black = (rows + cols) % 2 == 0
    black_key, white_key = jax.random.split(key)

    def half_sweep(s, color_mask, half_key):
        field = ising_local_field(s, model, periodic=periodic)
        prob_up = jax.nn.sigmoid(2.0 * model.inverse_temperature * field)
        up = jax.random.uniform(half_key, s.shape, s.dtype) < prob_up
        return jnp.where(color_mask, jnp.where(up, 1.0, -1.0).astype(s.dtype), s)

    spins = half_sweep(spins, black, black_key)
    spins = half_sweep(spins, ~black, white_key)
    return GibbsState(spins), GibbsInfo(ising_energy(spins, model, periodic=periodic))


def sample_chain(
    key: Key,
    kernel: Callable[[Key, PyTree], tuple[PyTree, PyTree]],
    initial_state: PyTree,
    num_steps: int,
) -> tuple[PyTree, tuple[PyTree, PyTree]]:
    """Run ``kernel`` for ``num_steps`` steps in one ``lax.scan``.

    Step ``t`` uses ``fold_in(key, t)``, so a run can be resumed step by step.

    Args:
        key: PRNG key.
        kernel: ``kernel(key, state) -> (state, info)`` (close over the model with
            ``functools.partial`` or a lambda).
        initial_state: the starting state.
        num_steps: number of kernel calls.

    Returns:
        ``(final_state, (states, infos))`` with ``states`` and ``infos`` stacked
        over a leading ``[num_steps]`` axis.

    Example:
        >>> step = lambda k, s: ising_checkerboard_kernel(k, s, IsingModel(coupling=0.3))
        >>> final, (states, infos) = sample_chain(jax.random.key(0), step,
        ...                                       init(jnp.ones((4, 4))), 100)
    """
    check_positive_int("num_steps", num_steps)

    def step(state, t):
        state, info = kernel(jax.random.fold_in(key, t), state)
        return state, (state, info)

    return jax.lax.scan(step, initial_state, jnp.arange(num_steps))


def sample_chains(
    key: Key,
    kernel: Callable[[Key, PyTree], tuple[PyTree, PyTree]],
    initial_states: PyTree,
    num_steps: int,
) -> tuple[PyTree, tuple[PyTree, PyTree]]:
    """Run independent chains (vmapped :func:`sample_chain`), one per leading index.

    Args:
        key: PRNG key, split into one key per chain.
        kernel: ``kernel(key, state) -> (state, info)``.
        initial_states: states stacked along a leading ``[num_chains]`` axis.
        num_steps: kernel calls per chain.

    Returns:
        ``(final_states, (states, infos))`` with leading axes ``[num_chains]`` and
        ``[num_chains, num_steps]``.

    Example:
        >>> step = lambda k, s: ising_checkerboard_kernel(k, s, IsingModel(coupling=0.3))
        >>> starts = init(jnp.ones((8, 4, 4)))
        >>> finals, (states, infos) = sample_chains(jax.random.key(0), step, starts, 100)
    """
    leaves = jax.tree_util.tree_leaves(initial_states)
    if not leaves or jnp.ndim(leaves[0]) == 0:
        raise ValueError("initial_states must have a leading [num_chains] axis")
    num_chains = jnp.shape(leaves[0])[0]
    keys = jax.random.split(key, num_chains)
    return jax.vmap(lambda k, s: sample_chain(k, kernel, s, num_steps))(keys, initial_states)
