"""The Ising model on a 2-D grid: energy, local field, exact enumeration and Gibbs kernels.

``E(s) = -J sum_{<ij>} s_i s_j - h sum_i s_i`` over nearest-neighbour bonds of an
``H x W`` grid of spins ``s_i in {-1, +1}``, and ``p(s) ∝ exp(-beta E(s))``.

Bonds (one convention for energy, local field, kernels and enumeration):

- open boundaries (``periodic=False``): a bond joins each pair of adjacent sites once;
- periodic boundaries (``periodic=True``): every line of ``L >= 2`` sites along an axis
  is a ring of ``L`` bonds, ``s_i s_{i+1 mod L}``, so each site has 2 neighbours along
  that axis. For ``L = 2`` the ring's two bonds join the same two sites (both ways
  around), so that pair is counted twice (coupling ``2J``), as the torus formula says.
  An axis of length 1 has **no** bonds: a site is never its own neighbour. A ``1 x W``
  periodic grid is therefore a ring of ``W`` spins.

With this convention, flipping spin ``i`` changes the energy by exactly ``2 s_i f_i``,
with the local field ``f_i = J sum_{j ~ i} s_j + h`` (neighbours counted with
multiplicity), and ``p(s_i = +1 | rest) = sigmoid(2 beta f_i)``.

Kernels follow the contract of :mod:`jaxdl.sampling`: :func:`init` ``(spins) ->
GibbsState``, ``kernel(key, state, model, ...) -> (GibbsState, GibbsInfo)``, driven by
:func:`jaxdl.sampling.sample_chain`; they are built on the generic machinery of
:mod:`jaxdl.sampling.gibbs`.

Reference: Ising, Zeitschrift fur Physik, 1925.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_floating, check_positive_int, is_concrete
from jaxdl.probabilistic.undirected import enumerate_states
from jaxdl.sampling import gibbs
from jaxdl.sampling.gibbs import GibbsInfo, GibbsState, ScanOrder
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "IsingModel",
    "init",
    "ising_checkerboard_kernel",
    "ising_energy",
    "ising_exact",
    "ising_local_field",
    "ising_single_site_kernel",
    "magnetization",
]


class IsingModel(NamedTuple):
    """Ising model on a 2-D grid of spins ``s in {-1, +1}``.

    ``E(s) = -J sum_{<ij>} s_i s_j - h sum_i s_i`` over nearest-neighbour bonds and
    ``p(s) ∝ exp(-beta E(s))``. All fields are arrays/floats, so a batch of models
    (e.g. many temperatures) can be vmapped.

    Attributes:
        coupling: ``J`` (ferromagnetic when > 0).
        field: external field ``h``.
        inverse_temperature: ``beta = 1 / T``.
    """

    coupling: ArrayLike = 1.0
    field: ArrayLike = 0.0
    inverse_temperature: ArrayLike = 1.0


def _check_spins(spins: ArrayLike) -> Array:
    spins = jnp.asarray(spins)
    if spins.ndim != 2:
        raise ValueError(f"spins must be a 2-D grid [H, W], got shape {spins.shape}")
    check_floating("spins", spins)
    if is_concrete(spins) and not np.all(np.abs(np.asarray(spins)) == 1):
        raise ValueError("spins must hold only -1 and +1 values")
    return spins


def _neighbour_sum(s: Array, periodic: bool) -> Array:
    """``sum_{j ~ i} s_j`` at every site, with the module's bond convention."""
    if periodic:
        total = jnp.zeros_like(s)
        for axis in (0, 1):
            if s.shape[axis] > 1:  # an axis of length 1 has no bonds
                total = total + jnp.roll(s, 1, axis=axis) + jnp.roll(s, -1, axis=axis)
        return total
    padded = jnp.pad(s, 1)
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


def ising_energy(spins: ArrayLike, model: IsingModel, *, periodic: bool = True) -> Array:
    """Ising energy ``E(s) = -J sum_{<ij>} s_i s_j - h sum_i s_i`` of one grid.

    Bonds follow the module's convention: open boundaries count each adjacent pair
    once; periodic boundaries make each line of ``L >= 2`` sites a ring of ``L`` bonds
    (a pair counted twice when ``L = 2``) and give an axis of length 1 no bonds.

    Args:
        spins: ``[H, W]`` floating grid of -1/+1 values.
        model: :class:`IsingModel` (``inverse_temperature`` does not enter ``E``).
        periodic: periodic boundary conditions.

    Returns:
        Scalar energy.

    Example:
        >>> ising_energy(jnp.ones((3, 3)), IsingModel(coupling=1.0))  # 18 bonds
        Array(-18., dtype=float32)
        >>> ising_energy(jnp.ones((1, 4)), IsingModel(coupling=1.0))  # a ring of 4 bonds
        Array(-4., dtype=float32)
    """
    s = _check_spins(spins)
    bonds = jnp.zeros((), s.dtype)
    for axis in (0, 1):
        if periodic:
            if s.shape[axis] > 1:
                bonds = bonds + jnp.sum(s * jnp.roll(s, 1, axis=axis))
        else:
            length = s.shape[axis]
            head = jax.lax.slice_in_dim(s, 1, length, axis=axis)
            tail = jax.lax.slice_in_dim(s, 0, length - 1, axis=axis)
            bonds = bonds + jnp.sum(head * tail)
    return -model.coupling * bonds - model.field * jnp.sum(s)


def ising_local_field(spins: ArrayLike, model: IsingModel, *, periodic: bool = True) -> Array:
    """Local field ``f_i = J sum_{j ~ i} s_j + h`` at every site.

    Neighbours follow the bond convention of :func:`ising_energy` (with multiplicity),
    so flipping spin ``i`` changes the energy by exactly ``2 s_i f_i`` and
    ``p(s_i = +1 | rest) = sigmoid(2 beta f_i)``.

    Args:
        spins: ``[H, W]`` grid of -1/+1 values.
        model: :class:`IsingModel`.
        periodic: periodic boundary conditions.

    Returns:
        ``[H, W]`` local fields.

    Example:
        >>> ising_local_field(jnp.ones((3, 3)), IsingModel())  # 4.0 everywhere
        Array([[4., 4., 4.],
               [4., 4., 4.],
               [4., 4., 4.]], dtype=float32)
        >>> ising_local_field(jnp.ones((1, 3)), IsingModel())  # a ring: 2 neighbours each
        Array([[2., 2., 2.]], dtype=float32)
    """
    s = jnp.asarray(spins)
    if s.ndim != 2:
        raise ValueError(f"spins must be a 2-D grid [H, W], got shape {s.shape}")
    return model.coupling * _neighbour_sum(s, periodic) + model.field


def _site_field(spins: Array, model: IsingModel, site: Array, periodic: bool) -> Array:
    """Local field at one flat ``site``, without touching the whole grid."""
    height, width = spins.shape
    row, col = site // width, site % width
    total = jnp.zeros((), spins.dtype)
    for axis, length in ((0, height), (1, width)):
        if periodic and length == 1:
            continue  # no bonds along an axis of length 1
        for step in (-1, 1):
            r = row + step if axis == 0 else row
            c = col + step if axis == 1 else col
            if periodic:
                total = total + spins[r % height, c % width]
            else:
                inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
                value = spins[jnp.clip(r, 0, height - 1), jnp.clip(c, 0, width - 1)]
                total = total + jnp.where(inside, value, jnp.zeros_like(value))
    return model.coupling * total + model.field


def magnetization(spins: ArrayLike) -> Array:
    """Mean spin ``m = (1/N) sum_i s_i`` over the last two (grid) axes.

    Example:
        >>> magnetization(jnp.ones((3, 3)))  # 1.0
        Array(1., dtype=float32)
    """
    spins = jnp.asarray(spins)
    if spins.ndim < 2:
        raise ValueError(f"spins must have rank >= 2 [..., H, W], got shape {spins.shape}")
    return jnp.mean(spins, axis=(-2, -1))


def ising_exact(
    shape: tuple[int, int], model: IsingModel, *, periodic: bool = True
) -> tuple[Array, Array]:
    """Enumerate all ``2^(H W)`` spin configurations of a small Ising grid.

    Args:
        shape: ``(H, W)`` with ``H * W <= 20``.
        model: :class:`IsingModel`.
        periodic: periodic boundary conditions (the bond convention of the module).

    Returns:
        ``(spins [2^(HW), H, W] float32, probabilities [2^(HW)])`` with
        ``p(s) = exp(-beta E(s)) / Z``.

    Example:
        >>> spins, probs = ising_exact((3, 3), IsingModel(coupling=0.3))
        >>> spins.shape, probs.shape
        ((512, 3, 3), (512,))
    """
    height, width = (int(v) for v in shape)
    check_positive_int("shape[0]", height)
    check_positive_int("shape[1]", width)
    if height * width > 20:
        raise ValueError(f"shape must have at most 20 sites to enumerate, got {height * width}")
    states = enumerate_states((2,) * (height * width))
    spins = (2.0 * states.astype(jnp.float32) - 1.0).reshape(-1, height, width)
    energies = jax.vmap(lambda s: ising_energy(s, model, periodic=periodic))(spins)
    return spins, jax.nn.softmax(-model.inverse_temperature * energies)


# ----------------------------------------------------------------------------------------
# Gibbs kernels
# ----------------------------------------------------------------------------------------


def init(spins: ArrayLike) -> GibbsState:
    """Start Ising chains at ``spins``: ``[H, W]`` (one chain) or ``[C, H, W]`` (``sample_chains``).

    Args:
        spins: floating grid(s) of -1/+1 values.

    Returns:
        A :class:`jaxdl.sampling.gibbs.GibbsState`.

    Example:
        >>> init(jnp.ones((4, 4))).position.shape
        (4, 4)
    """
    spins = jnp.asarray(spins)
    if spins.ndim not in (2, 3) or not jnp.issubdtype(spins.dtype, jnp.floating):
        raise ValueError(
            "spins must be a floating [H, W] grid (or [C, H, W] grids) of -1/+1 spins, got "
            f"{spins.dtype} shape {spins.shape}"
        )
    if is_concrete(spins) and not np.all(np.abs(np.asarray(spins)) == 1):
        raise ValueError("spins must hold only -1 and +1 values")
    return GibbsState(spins)


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
    ``f_i = J sum_{j~i} s_j + h`` is the local field (the module's bond convention, so
    degenerate ``1 x W`` periodic grids are rings); ``H W`` updates per sweep in raster
    order (``"systematic"``) or at uniformly random sites (``"random"``). Built on
    :func:`jaxdl.sampling.gibbs.single_site_kernel`.

    Args:
        key: PRNG key.
        state: :class:`GibbsState` holding ``[H, W]`` float spins of -1/+1.
        model: :class:`IsingModel`.
        scan: visiting order.
        periodic: periodic boundary conditions.

    Returns:
        ``(new_state, info)`` with the energy after the sweep.

    Example:
        >>> state, info = ising_single_site_kernel(
        ...     jax.random.key(0), init(jnp.ones((4, 4))), IsingModel(coupling=0.4))
    """
    gibbs.check_scan(scan)
    spins = jnp.asarray(state.position)
    _check_grid(spins)
    signs = jnp.array([-1.0, 1.0], spins.dtype)

    def logits(s, site):
        # p(s_i = v | rest) ∝ exp(beta f_i v), v in {-1, +1}
        return model.inverse_temperature * _site_field(s, model, site, periodic) * signs

    def energy(s):
        return ising_energy(s, model, periodic=periodic)

    return gibbs.single_site_kernel(key, state, logits, signs, energy, scan=scan)


def ising_checkerboard_kernel(
    key: Key, state: GibbsState, model: IsingModel, *, periodic: bool = True
) -> tuple[GibbsState, GibbsInfo]:
    """One sweep of block Gibbs on an Ising grid: all "black" sites, then all "white".

    Sites with ``(row + col)`` even have only odd neighbours, so given the other
    colour they are conditionally independent and are redrawn at once (block Gibbs,
    :func:`jaxdl.sampling.gibbs.block_kernel`). With periodic boundaries every axis
    of length ``L > 1`` must be even (an axis of length 1 has no bonds).

    Args:
        key: PRNG key.
        state: :class:`GibbsState` holding ``[H, W]`` float spins of -1/+1.
        model: :class:`IsingModel`.
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
    if periodic and any(length > 1 and length % 2 for length in (height, width)):
        raise ValueError(
            "checkerboard Gibbs with periodic boundaries needs every axis longer than 1 to "
            f"be even, got shape {spins.shape}; use periodic=False or an even size"
        )
    rows = jnp.arange(height)[:, None]
    cols = jnp.arange(width)[None, :]
    black = (rows + cols) % 2 == 0

    def colour_sampler(mask):
        def sample(block_key, s):
            field = ising_local_field(s, model, periodic=periodic)
            prob_up = jax.nn.sigmoid(2.0 * model.inverse_temperature * field)
            up = jax.random.uniform(block_key, s.shape, s.dtype) < prob_up
            return jnp.where(mask, jnp.where(up, 1.0, -1.0).astype(s.dtype), s)

        return sample

    def energy(s):
        return ising_energy(s, model, periodic=periodic)

    return gibbs.block_kernel(key, state, [colour_sampler(black), colour_sampler(~black)], energy)
