"""Tests for jaxdl.probabilistic.undirected: factor graphs, EBMs and the Ising model."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.probabilistic import undirected as ug
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop

# The course's cold example: roommate (0) - you (1) - colleague (2); two pairwise factors.
PHI_RY = jnp.array([[3.0, 1.0], [1.0, 4.0]])
PHI_YC = jnp.array([[2.0, 1.0], [0.5, 3.0]])


def _cold_graph():
    return ug.factor_graph(
        (2, 2, 2),
        [
            ug.factor((0, 1), PHI_RY),
            ug.factor((2, 1), PHI_YC.T),
            ug.factor((1,), jnp.array([1.0, 0.5])),
        ],
    )


def _brute_force():
    table = np.zeros((2, 2, 2))
    for r, y, c in itertools.product(range(2), repeat=3):
        table[r, y, c] = PHI_RY[r, y] * PHI_YC[y, c] * [1.0, 0.5][y]
    return table


def test_joint_and_partition_function_match_brute_force():
    graph = _cold_graph()
    table = _brute_force()
    np.testing.assert_allclose(ug.partition_function(graph), table.sum(), rtol=1e-5)
    np.testing.assert_allclose(ug.log_partition_function(graph), np.log(table.sum()), rtol=1e-5)
    np.testing.assert_allclose(ug.joint_table(graph), table / table.sum(), rtol=1e-5)
    for x in itertools.product(range(2), repeat=3):
        np.testing.assert_allclose(
            ug.log_unnormalized_probability(graph, jnp.array(x)), np.log(table[x]), rtol=1e-5
        )


def test_marginals_and_conditional_independence():
    graph = _cold_graph()
    p = _brute_force() / _brute_force().sum()
    for i, m in enumerate(ug.marginals(graph)):
        np.testing.assert_allclose(m, p.sum(axis=tuple(j for j in range(3) if j != i)), rtol=1e-5)
    # Roommate and colleague are independent given you: p(r, c | y) = p(r | y) p(c | y).
    for y in range(2):
        cond = p[:, y, :] / p[:, y, :].sum()
        np.testing.assert_allclose(cond, np.outer(cond.sum(1), cond.sum(0)), rtol=1e-5)


def test_energy_model_matches_factor_graph():
    """An EBM with E_C = -log phi_C defines the same distribution."""
    graph = _cold_graph()

    def energy(x):
        return -(
            jnp.log(PHI_RY[x[0], x[1]])
            + jnp.log(PHI_YC[x[1], x[2]])
            + jnp.log(jnp.array([1.0, 0.5])[x[1]])
        )

    states, probs, log_z = ug.exact_energy_model(energy, (2, 2, 2))
    assert states.shape == (8, 3)
    np.testing.assert_allclose(probs, ug.joint_table(graph).reshape(-1), rtol=1e-5)
    np.testing.assert_allclose(log_z, ug.log_partition_function(graph), rtol=1e-5)
    np.testing.assert_allclose(
        ug.boltzmann_probabilities(jax.vmap(energy)(states)), probs, rtol=1e-5
    )


def test_enumerate_states_order():
    np.testing.assert_array_equal(
        ug.enumerate_states((2, 3)), [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    )


def test_log_partition_gradient_is_expected_statistic():
    """d log Z / d theta = E_p[phi(x)] for p ∝ exp(theta . phi(x)) (here: Ising field)."""

    def log_z(field):
        model = ug.IsingModel(coupling=0.4, field=field)
        spins, _ = ug.ising_exact((2, 3), model, periodic=False)
        energies = jax.vmap(lambda s: ug.ising_energy(s, model, periodic=False))(spins)
        return jax.scipy.special.logsumexp(-energies)

    field = jnp.asarray(0.3)
    spins, probs = ug.ising_exact((2, 3), ug.IsingModel(0.4, field), periodic=False)
    expected = jnp.sum(probs * jnp.sum(spins, axis=(-2, -1)))
    np.testing.assert_allclose(jax.grad(log_z)(field), expected, rtol=1e-4)
    assert_grads_close(log_z, field)


def test_ising_energy_values():
    model = ug.IsingModel(coupling=1.0, field=0.5)
    up = jnp.ones((3, 3))
    # Periodic 3x3: 18 bonds; free: 12 bonds.
    np.testing.assert_allclose(ug.ising_energy(up, model), -18.0 - 4.5)
    np.testing.assert_allclose(ug.ising_energy(up, model, periodic=False), -12.0 - 4.5)
    checker = jnp.where((jnp.arange(4)[:, None] + jnp.arange(4)[None, :]) % 2 == 0, 1.0, -1.0)
    np.testing.assert_allclose(ug.ising_energy(checker, model), 32.0)


@pytest.mark.parametrize("periodic", [True, False])
def test_local_field_gives_flip_energy(key, periodic):
    """Flipping s_i changes E by 2 s_i f_i."""
    model = ug.IsingModel(coupling=0.7, field=-0.2)
    spins = jnp.where(jax.random.bernoulli(key, 0.5, (4, 5)), 1.0, -1.0)
    field = ug.ising_local_field(spins, model, periodic=periodic)
    base = ug.ising_energy(spins, model, periodic=periodic)
    for r, c in [(0, 0), (1, 2), (3, 4), (2, 0)]:
        flipped = spins.at[r, c].multiply(-1.0)
        delta = ug.ising_energy(flipped, model, periodic=periodic) - base
        np.testing.assert_allclose(delta, 2 * spins[r, c] * field[r, c], rtol=1e-5, atol=1e-5)


def test_ising_exact_symmetry_and_temperature():
    spins, probs = ug.ising_exact((3, 3), ug.IsingModel(coupling=0.5))
    assert spins.shape == (512, 3, 3)
    np.testing.assert_allclose(jnp.sum(probs), 1.0, rtol=1e-5)
    m = ug.magnetization(spins)
    np.testing.assert_allclose(jnp.sum(probs * m), 0.0, atol=1e-6)  # h = 0: symmetric
    cold_abs = jnp.sum(ug.ising_exact((3, 3), ug.IsingModel(1.0, 0.0, 2.0))[1] * jnp.abs(m))
    hot_abs = jnp.sum(ug.ising_exact((3, 3), ug.IsingModel(1.0, 0.0, 0.1))[1] * jnp.abs(m))
    assert float(cold_abs) > 0.95 > float(hot_abs)


def test_jit_and_vmap(key):
    model = ug.IsingModel(coupling=0.3, field=0.1)
    spins = jnp.where(jax.random.bernoulli(key, 0.5, (3, 4, 4)), 1.0, -1.0)
    assert_jit_matches_eager(lambda s: ug.ising_energy(s, model), spins[0])
    assert_vmap_matches_loop(
        jax.jit(lambda s: ug.ising_local_field(s, model, periodic=False)), spins
    )
    graph = _cold_graph()
    states = ug.enumerate_states((2, 2, 2))
    assert_vmap_matches_loop(jax.jit(lambda x: ug.log_unnormalized_probability(graph, x)), states)
    assert_jit_matches_eager(ug.joint_table, graph)


def test_errors():
    with pytest.raises(ValueError, match="potential must be non-negative"):
        ug.factor((0, 1), jnp.array([[1.0, -1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="one axis per variable"):
        ug.factor((0,), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="variables must be distinct"):
        ug.factor((0, 0), jnp.ones((2, 2)))
    with pytest.raises(ValueError, match=r"factors\[0\].potential must have shape \(2, 3\)"):
        ug.factor_graph((2, 3), [ug.factor((0, 1), jnp.ones((2, 2)))])
    with pytest.raises(ValueError, match="refers to variable 5"):
        ug.factor_graph((2, 3), [ug.factor((5,), jnp.ones(2))])
    with pytest.raises(ValueError, match="spins must hold only -1 and \\+1"):
        ug.ising_energy(jnp.zeros((2, 2)), ug.IsingModel())
    with pytest.raises(ValueError, match="spins must be a 2-D grid"):
        ug.ising_energy(jnp.ones(4), ug.IsingModel())
    with pytest.raises(ValueError, match="at most 20 sites"):
        ug.ising_exact((5, 5), ug.IsingModel())
    with pytest.raises(ValueError, match="more than"):
        ug.enumerate_states((2,) * 23)
