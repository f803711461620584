"""Tests for jaxdl.sampling.gibbs against exact enumeration of small models.

Tolerances come from the effective sample size of each statistic's trace:
``|estimate - exact| < 5 sd / sqrt(ESS)``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.probabilistic.undirected import IsingModel, exact_energy_model, ising_energy, ising_exact
from jaxdl.sampling import diagnostics, gibbs
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

MODEL = IsingModel(coupling=0.35, field=0.15, inverse_temperature=1.0)
NUM_CHAINS, NUM_SWEEPS, BURN_IN = 8, 500, 50


def _statistics(spins, periodic):
    """Statistics of [..., 3, 3] spin grids: magnetization, a corner spin, a bond, energy."""
    energy = jnp.vectorize(
        lambda s: ising_energy(s, MODEL, periodic=periodic), signature="(h,w)->()"
    )(spins)
    return {
        "magnetization": jnp.mean(spins, axis=(-2, -1)),
        "corner": spins[..., 0, 0],
        "bond": spins[..., 0, 0] * spins[..., 0, 1],
        "energy": energy,
    }


def _assert_matches_exact(kernel, key, periodic):
    spins_all, probs = ising_exact((3, 3), MODEL, periodic=periodic)
    exact = {k: float(jnp.sum(probs * v)) for k, v in _statistics(spins_all, periodic).items()}
    starts = gibbs.init(jnp.ones((NUM_CHAINS, 3, 3)))
    _, (states, infos) = gibbs.sample_chains(key, kernel, starts, NUM_SWEEPS)
    trace = states.position[:, BURN_IN:]
    assert trace.shape == (NUM_CHAINS, NUM_SWEEPS - BURN_IN, 3, 3)
    np.testing.assert_allclose(
        infos.energy[:, BURN_IN:], _statistics(trace, periodic)["energy"], rtol=1e-5, atol=1e-5
    )
    for name, values in _statistics(trace, periodic).items():
        ess = float(diagnostics.effective_sample_size(values))
        estimate = float(jnp.mean(values))
        sd = float(jnp.std(values))
        assert abs(estimate - exact[name]) < 5 * sd / np.sqrt(ess) + 1e-6, (name, estimate, exact)
        assert float(diagnostics.split_rhat(values)) < 1.1


@pytest.mark.parametrize(("scan", "periodic"), [("systematic", True), ("random", False)])
def test_single_site_ising_matches_exact_3x3(key, scan, periodic):
    kernel = functools.partial(
        gibbs.ising_single_site_kernel, model=MODEL, scan=scan, periodic=periodic
    )
    _assert_matches_exact(kernel, key, periodic)


def test_checkerboard_ising_matches_exact_3x3(key):
    kernel = functools.partial(gibbs.ising_checkerboard_kernel, model=MODEL, periodic=False)
    _assert_matches_exact(kernel, key, periodic=False)


def test_checkerboard_periodic_even_grid_runs(key):
    state, info = gibbs.ising_checkerboard_kernel(key, gibbs.init(jnp.ones((4, 4))), MODEL)
    assert state.position.shape == (4, 4)
    assert set(np.unique(np.asarray(state.position))) <= {-1.0, 1.0}
    np.testing.assert_allclose(info.energy, ising_energy(state.position, MODEL), rtol=1e-6)


def test_discrete_single_site_matches_exact_marginals(key):
    """A 4-variable chain MRF with 3 values each, p(x) ∝ exp(-E(x))."""
    pair = jnp.array([[-1.0, 0.3, 0.5], [0.3, -0.8, 0.2], [0.5, 0.2, -0.4]])
    unary = jnp.array([0.2, -0.3, 0.1])

    def energy(x):
        return jnp.sum(pair[x[:-1], x[1:]]) + jnp.sum(unary[x])

    states_all, probs, _ = exact_energy_model(energy, (3, 3, 3, 3))
    exact = np.stack(
        [
            np.asarray(jnp.sum(probs[:, None] * jax.nn.one_hot(states_all[:, i], 3), 0))
            for i in range(4)
        ]
    )
    kernel = functools.partial(
        gibbs.discrete_single_site_kernel, energy_fn=energy, num_values=3, scan="random"
    )
    starts = gibbs.init(jnp.zeros((NUM_CHAINS, 4), jnp.int32))
    _, (states, infos) = gibbs.sample_chains(key, kernel, starts, 400)
    trace = states.position[:, BURN_IN:]
    np.testing.assert_allclose(infos.energy[0, -1], energy(states.position[0, -1]), rtol=1e-6)
    for i in range(4):
        for v in range(3):
            indicator = (trace[..., i] == v).astype(jnp.float32)
            ess = float(diagnostics.effective_sample_size(indicator))
            p = exact[i, v]
            assert abs(float(jnp.mean(indicator)) - p) < 5 * np.sqrt(p * (1 - p) / ess)


def test_single_chain_runner_shapes(key):
    kernel = functools.partial(gibbs.ising_checkerboard_kernel, model=MODEL, periodic=False)
    final, (states, infos) = gibbs.sample_chain(key, kernel, gibbs.init(jnp.ones((3, 4))), 7)
    assert states.position.shape == (7, 3, 4)
    assert infos.energy.shape == (7,)
    np.testing.assert_array_equal(final.position, states.position[-1])


def test_errors(key):
    with pytest.raises(ValueError, match="scan must be one of"):
        gibbs.ising_single_site_kernel(key, gibbs.init(jnp.ones((3, 3))), MODEL, scan="zigzag")
    with pytest.raises(ValueError, match="needs an even grid"):
        gibbs.ising_checkerboard_kernel(key, gibbs.init(jnp.ones((3, 3))), MODEL)
    with pytest.raises(ValueError, match="floating \\[H, W\\] grid"):
        gibbs.ising_single_site_kernel(key, gibbs.init(jnp.ones((3, 3), jnp.int32)), MODEL)
    with pytest.raises(ValueError, match="integer vector"):
        gibbs.discrete_single_site_kernel(key, gibbs.init(jnp.ones(3)), jnp.sum, 2)
    with pytest.raises(ValueError, match="leading \\[num_chains\\] axis"):
        gibbs.sample_chains(key, lambda k, s: (s, None), jnp.asarray(1.0), 3)
    with pytest.raises(TypeError, match="num_steps must be an int"):
        gibbs.sample_chain(key, lambda k, s: (s, None), jnp.ones(2), 2.0)


@pytest.mark.slow
def test_jit_and_vmap(key):
    k_jit, k_vmap = jax.random.split(key)
    assert_jit_matches_eager(
        lambda k, s: gibbs.ising_checkerboard_kernel(k, s, MODEL),
        k_jit,
        gibbs.init(jnp.ones((4, 4))),
    )
    keys = jax.random.split(k_vmap, 2)
    starts = gibbs.init(jnp.stack([jnp.ones((2, 3)), -jnp.ones((2, 3))]))
    assert_vmap_matches_loop(
        jax.jit(lambda k, s: gibbs.ising_single_site_kernel(k, s, MODEL, scan="random")),
        keys,
        starts,
    )


def test_vmap_over_temperatures(key):
    """IsingModel fields are arrays, so a whole chain can be vmapped over temperatures."""
    betas = jnp.array([0.1, 2.0])

    def run(k, beta):
        model = IsingModel(coupling=1.0, field=0.0, inverse_temperature=beta)
        kernel = functools.partial(gibbs.ising_checkerboard_kernel, model=model)
        _, (states, _) = gibbs.sample_chain(k, kernel, gibbs.init(jnp.ones((4, 4))), 200)
        return jnp.mean(jnp.abs(jnp.mean(states.position[50:], axis=(-2, -1))))

    hot, cold = jax.vmap(run)(jax.random.split(key, 2), betas)
    assert float(cold) > 0.9 > 0.6 > float(hot)
