"""Tests for jaxdl.probabilistic.ising: energy, local field, enumeration and Gibbs kernels.

The bond convention (module docstring) is checked on degenerate grids: a ``1 x W``
periodic grid is a ring (2 neighbours per site along ``W``, none along the size-1 axis),
a periodic axis of length 2 counts its pair twice, and flipping a spin always changes
the energy by ``2 s_i f_i``. Sampler tolerances come from the effective sample size of
independent chains (their number): ``|estimate - exact| < 5 sd / sqrt(num_chains)``.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.probabilistic import ising
from jaxdl.probabilistic.ising import IsingModel
from jaxdl.sampling import sample_chain, sample_chains
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop

MODEL = IsingModel(coupling=0.35, field=0.15, inverse_temperature=1.0)
SHAPES = [(1, 1), (1, 2), (2, 1), (1, 4), (4, 1), (2, 2), (3, 3), (2, 5), (4, 5)]


def _reference_energy(spins, model, periodic):
    """Bonds listed site by site: the right neighbour and the one below, wrapping if periodic."""
    s = np.asarray(spins, np.float64)
    height, width = s.shape
    bonds = 0.0
    for r, c in itertools.product(range(height), range(width)):
        for dr, dc, length in ((1, 0, height), (0, 1, width)):
            rr, cc = r + dr, c + dc
            if periodic:
                if length == 1:
                    continue  # a site is never its own neighbour
                rr, cc = rr % height, cc % width
            elif rr >= height or cc >= width:
                continue
            bonds += s[r, c] * s[rr, cc]
    return -float(model.coupling) * bonds - float(model.field) * s.sum()


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_energy_matches_site_by_site_reference(key, shape, periodic):
    spins = jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0)
    np.testing.assert_allclose(
        ising.ising_energy(spins, MODEL, periodic=periodic),
        _reference_energy(spins, MODEL, periodic),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("shape", SHAPES)
def test_flip_energy_is_twice_spin_times_field_everywhere(key, shape, periodic):
    """Energy differences equal 2 s_i f_i at every site, and the one-site field agrees."""
    model = IsingModel(coupling=0.7, field=-0.2)
    spins = jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0)
    field = ising.ising_local_field(spins, model, periodic=periodic)
    base = ising.ising_energy(spins, model, periodic=periodic)
    for site in range(spins.size):
        r, c = divmod(site, shape[1])
        flipped = spins.at[r, c].multiply(-1.0)
        delta = ising.ising_energy(flipped, model, periodic=periodic) - base
        np.testing.assert_allclose(delta, 2 * spins[r, c] * field[r, c], rtol=1e-5, atol=1e-5)
        one = ising._site_field(spins, model, jnp.asarray(site), periodic)
        np.testing.assert_allclose(one, field[r, c], rtol=1e-6, atol=1e-6)


@settings(max_examples=8)
@given(
    height=st.integers(1, 4),
    width=st.integers(1, 4),
    periodic=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_flip_energy_property_on_random_shapes(height, width, periodic, seed):
    """Hypothesis: on any grid, E(s with s_i flipped) - E(s) = 2 s_i f_i at every site."""
    rng = np.random.default_rng(seed)
    spins = jnp.asarray(rng.choice([-1.0, 1.0], size=(height, width)), jnp.float32)
    model = IsingModel(coupling=float(rng.normal()), field=float(rng.normal()))
    flips = 1.0 - 2.0 * jnp.eye(height * width, dtype=jnp.float32).reshape(-1, height, width)
    energy = jax.vmap(lambda s: ising.ising_energy(s, model, periodic=periodic))
    deltas = energy(spins[None] * flips) - ising.ising_energy(spins, model, periodic=periodic)
    field = ising.ising_local_field(spins, model, periodic=periodic)
    np.testing.assert_allclose(deltas, (2 * spins * field).reshape(-1), rtol=1e-4, atol=1e-4)


def test_energy_and_field_values_of_the_convention():
    model = IsingModel(coupling=1.0, field=0.5)
    up = jnp.ones((3, 3))
    # Periodic 3x3: 18 bonds; free: 12 bonds.
    np.testing.assert_allclose(ising.ising_energy(up, model), -18.0 - 4.5)
    np.testing.assert_allclose(ising.ising_energy(up, model, periodic=False), -12.0 - 4.5)
    checker = jnp.where((jnp.arange(4)[:, None] + jnp.arange(4)[None, :]) % 2 == 0, 1.0, -1.0)
    np.testing.assert_allclose(ising.ising_energy(checker, model), 32.0)
    j = IsingModel(coupling=1.0)
    np.testing.assert_allclose(ising.ising_energy(jnp.ones((1, 4)), j), -4.0)  # ring of 4
    np.testing.assert_allclose(ising.ising_energy(jnp.ones((4, 1)), j), -4.0)
    np.testing.assert_allclose(ising.ising_energy(jnp.ones((1, 1)), j), 0.0)  # no self-bond
    np.testing.assert_allclose(ising.ising_energy(jnp.ones((1, 2)), j), -2.0)  # pair twice
    np.testing.assert_allclose(ising.ising_energy(jnp.ones((1, 2)), j, periodic=False), -1.0)
    np.testing.assert_allclose(ising.ising_local_field(jnp.ones((1, 4)), j), 2.0)
    np.testing.assert_allclose(ising.ising_local_field(jnp.ones((1, 1)), j), 0.0)


def test_exact_ring_against_closed_form():
    """1 x W periodic = ring: Z = (2 cosh K)^W + (2 sinh K)^W at h = 0 (transfer matrix)."""
    k = 0.6
    for shape in [(1, 4), (4, 1), (1, 3)]:
        model = IsingModel(coupling=k, field=0.0)
        spins, probs = ising.ising_exact(shape, model)
        energies = jax.vmap(lambda s, model=model: ising.ising_energy(s, model))(spins)
        log_z = jax.scipy.special.logsumexp(-energies)
        width = max(shape)
        expected = np.log((2 * np.cosh(k)) ** width + (2 * np.sinh(k)) ** width)
        np.testing.assert_allclose(log_z, expected, rtol=1e-5)
    # with a field, the magnetization of a 1x4 ring against brute force in numpy
    model = IsingModel(coupling=0.5, field=0.3, inverse_temperature=1.5)
    spins, probs = ising.ising_exact((1, 4), model)
    states = [np.array(s, np.float64).reshape(1, 4) for s in itertools.product([-1, 1], repeat=4)]
    weights = np.array([np.exp(-1.5 * _reference_energy(s, model, True)) for s in states])
    m_ref = np.sum(weights * np.array([s.mean() for s in states])) / weights.sum()
    np.testing.assert_allclose(jnp.sum(probs * ising.magnetization(spins)), m_ref, rtol=1e-5)


def test_exact_symmetry_temperature_and_log_partition_gradient():
    spins, probs = ising.ising_exact((3, 3), IsingModel(coupling=0.5))
    assert spins.shape == (512, 3, 3)
    np.testing.assert_allclose(jnp.sum(probs), 1.0, rtol=1e-5)
    m = ising.magnetization(spins)
    np.testing.assert_allclose(jnp.sum(probs * m), 0.0, atol=1e-6)  # h = 0: symmetric
    cold = jnp.sum(ising.ising_exact((3, 3), IsingModel(1.0, 0.0, 2.0))[1] * jnp.abs(m))
    hot = jnp.sum(ising.ising_exact((3, 3), IsingModel(1.0, 0.0, 0.1))[1] * jnp.abs(m))
    assert float(cold) > 0.95 > float(hot)

    def log_z(field):
        model = IsingModel(coupling=0.4, field=field)
        spins, _ = ising.ising_exact((2, 3), model, periodic=False)
        energies = jax.vmap(lambda s: ising.ising_energy(s, model, periodic=False))(spins)
        return jax.scipy.special.logsumexp(-energies)

    field = jnp.asarray(0.3)
    spins, probs = ising.ising_exact((2, 3), IsingModel(0.4, field), periodic=False)
    expected = jnp.sum(probs * jnp.sum(spins, axis=(-2, -1)))
    np.testing.assert_allclose(jax.grad(log_z)(field), expected, rtol=1e-4)
    assert_grads_close(log_z, field)


# ----------------------------------------------------------------------------------------
# Kernels against exact enumeration
# ----------------------------------------------------------------------------------------


def _statistics(spins, periodic):
    """Statistics of [..., H, W] grids: magnetization, a corner spin, a bond, energy."""
    energy = jnp.vectorize(
        lambda s: ising.ising_energy(s, MODEL, periodic=periodic), signature="(h,w)->()"
    )(spins)
    flat = spins.reshape(*spins.shape[:-2], -1)
    return {
        "magnetization": jnp.mean(spins, axis=(-2, -1)),
        "corner": flat[..., 0],
        "bond": flat[..., 0] * flat[..., 1] if flat.shape[-1] > 1 else flat[..., 0],
        "energy": energy,
    }


def _assert_matches_exact(kernel, key, shape, periodic, num_chains=2000, burn_in=40):
    """Final states of independent chains after burn-in: the effective sample size is
    the number of chains (per-chain traces of the checkerboard kernel on tiny grids
    oscillate, which makes autocorrelation-based ESS estimates optimistic)."""
    spins_all, probs = ising.ising_exact(shape, MODEL, periodic=periodic)
    exact = {k: float(jnp.sum(probs * v)) for k, v in _statistics(spins_all, periodic).items()}
    starts = ising.init(jnp.ones((num_chains, *shape)))
    final, (states, infos) = jax.jit(
        lambda k: sample_chains(k, kernel, starts, 1, burn_in=burn_in)
    )(key)
    np.testing.assert_array_equal(final.position, states.position[:, 0])
    np.testing.assert_allclose(
        infos.energy, _statistics(states.position, periodic)["energy"], rtol=1e-5, atol=1e-5
    )
    for name, values in _statistics(final.position, periodic).items():
        sd = float(jnp.std(values))
        estimate = float(jnp.mean(values))
        assert abs(estimate - exact[name]) < 5 * sd / np.sqrt(num_chains) + 1e-5, (
            name,
            estimate,
            exact,
        )


@pytest.mark.parametrize(
    ("shape", "scan", "periodic"),
    [
        ((1, 4), "systematic", True),  # the bug of issue 7: 0.51 sampled against 0.25 exact
        ((4, 1), "random", True),
        ((1, 2), "systematic", True),
        ((2, 2), "random", True),
        ((3, 3), "systematic", True),
        ((3, 3), "random", False),
    ],
)
def test_single_site_matches_exact(key, shape, scan, periodic):
    kernel = functools.partial(
        ising.ising_single_site_kernel, model=MODEL, scan=scan, periodic=periodic
    )
    _assert_matches_exact(kernel, key, shape, periodic)


@pytest.mark.parametrize(
    ("shape", "periodic"),
    [((1, 4), True), ((4, 1), True), ((1, 2), True), ((2, 2), True), ((3, 3), False)],
)
def test_checkerboard_matches_exact(key, shape, periodic):
    kernel = functools.partial(ising.ising_checkerboard_kernel, model=MODEL, periodic=periodic)
    _assert_matches_exact(kernel, key, shape, periodic)


def test_checkerboard_periodic_even_grid_runs(key):
    state, info = ising.ising_checkerboard_kernel(key, ising.init(jnp.ones((4, 4))), MODEL)
    assert state.position.shape == (4, 4)
    assert set(np.unique(np.asarray(state.position))) <= {-1.0, 1.0}
    np.testing.assert_allclose(info.energy, ising.ising_energy(state.position, MODEL), rtol=1e-6)


def test_errors(key):
    with pytest.raises(ValueError, match="scan must be one of"):
        ising.ising_single_site_kernel(key, ising.init(jnp.ones((3, 3))), MODEL, scan="zigzag")
    with pytest.raises(ValueError, match="every axis longer than 1 to be even"):
        ising.ising_checkerboard_kernel(key, ising.init(jnp.ones((3, 3))), MODEL)
    with pytest.raises(ValueError, match="every axis longer than 1 to be even"):
        ising.ising_checkerboard_kernel(key, ising.init(jnp.ones((1, 3))), MODEL)
    with pytest.raises(ValueError, match="floating \\[H, W\\] grid"):
        ising.ising_single_site_kernel(key, ising.GibbsState(jnp.ones((3, 3), jnp.int32)), MODEL)
    with pytest.raises(ValueError, match="floating \\[H, W\\] grid"):
        ising.init(jnp.ones(4))
    with pytest.raises(ValueError, match="only -1 and \\+1"):
        ising.init(jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match="spins must hold only -1 and \\+1"):
        ising.ising_energy(jnp.zeros((2, 2)), IsingModel())
    with pytest.raises(ValueError, match="spins must be a 2-D grid"):
        ising.ising_energy(jnp.ones(4), IsingModel())
    with pytest.raises(ValueError, match="at most 20 sites"):
        ising.ising_exact((5, 5), IsingModel())


def test_jit_and_vmap(key):
    k_jit, k_vmap, k_spins = jax.random.split(key, 3)
    spins = jnp.where(jax.random.bernoulli(k_spins, 0.5, (3, 4, 4)), 1.0, -1.0)
    assert_jit_matches_eager(lambda s: ising.ising_energy(s, MODEL), spins[0])
    assert_vmap_matches_loop(
        jax.jit(lambda s: ising.ising_local_field(s, MODEL, periodic=False)), spins
    )
    assert_jit_matches_eager(
        lambda k, s: ising.ising_checkerboard_kernel(k, s, MODEL), k_jit, ising.init(spins[0])
    )
    keys = jax.random.split(k_vmap, 2)
    starts = ising.init(jnp.stack([jnp.ones((2, 3)), -jnp.ones((2, 3))]))
    assert_vmap_matches_loop(
        jax.jit(lambda k, s: ising.ising_single_site_kernel(k, s, MODEL, scan="random")),
        keys,
        starts,
    )


def test_vmap_over_temperatures(key):
    """IsingModel fields are arrays, so a whole chain can be vmapped over temperatures."""
    betas = jnp.array([0.1, 2.0])

    def run(k, beta):
        model = IsingModel(coupling=1.0, field=0.0, inverse_temperature=beta)
        kernel = functools.partial(ising.ising_checkerboard_kernel, model=model)
        _, (states, _) = sample_chain(k, kernel, ising.init(jnp.ones((4, 4))), 150, burn_in=50)
        return jnp.mean(jnp.abs(ising.magnetization(states.position)))

    hot, cold = jax.vmap(run)(jax.random.split(key, 2), betas)
    assert float(cold) > 0.9 > 0.6 > float(hot)
