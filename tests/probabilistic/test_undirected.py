"""Tests for jaxdl.probabilistic.undirected: factor graphs and energy-based models."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.probabilistic import undirected as ug
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

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


def test_jit_and_vmap():
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
    with pytest.raises(ValueError, match="more than"):
        ug.enumerate_states((2,) * 23)
