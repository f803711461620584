"""Tests for jaxdl.sampling.markov: transition matrices, the chain kernel, stationary laws."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxdl.sampling import diagnostics, markov, sample_chain
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

# Column-stochastic: A[i, j] = T(x' = i | x = j).
A = jnp.array(
    [
        [0.5, 0.2, 0.1],
        [0.3, 0.6, 0.4],
        [0.2, 0.2, 0.5],
    ]
)


def _simulate(key, a, start, num_steps):
    """Positions x_1 .. x_T of one chain, driven by sample_chain."""
    kernel = functools.partial(markov.kernel, transition_matrix=a)
    _, (states, _) = sample_chain(key, kernel, markov.init(start), num_steps)
    return states.position


def _stationary_numpy(a):
    values, vectors = np.linalg.eig(np.asarray(a, dtype=np.float64))
    v = np.real(vectors[:, np.argmin(np.abs(values - 1))])
    return v / v.sum()


def test_power_iteration_and_eigenvector_agree():
    power = markov.stationary_distribution_power(A)
    eigen = markov.stationary_distribution_eigen(A)
    np.testing.assert_allclose(power, eigen, atol=1e-5)
    np.testing.assert_allclose(eigen, _stationary_numpy(A), atol=1e-5)
    np.testing.assert_allclose(A @ eigen, eigen, atol=1e-5)


def test_two_state_closed_form():
    a = jnp.array([[0.9, 0.5], [0.1, 0.5]])
    np.testing.assert_allclose(markov.stationary_distribution_power(a), [5 / 6, 1 / 6], atol=1e-5)


def test_propagate_converges_to_stationary():
    v = markov.propagate(A, jnp.array([1.0, 0.0, 0.0]), 60)
    assert v.shape == (61, 3)
    np.testing.assert_allclose(v[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(v[1], A[:, 0], rtol=1e-6)
    np.testing.assert_allclose(v.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(v[-1], _stationary_numpy(A), atol=1e-5)
    # Total variation distance to the stationary law falls (geometrically).
    tv = 0.5 * np.abs(np.asarray(v) - _stationary_numpy(A)[None, :]).sum(-1)
    assert np.all(np.diff(tv[:20]) <= 1e-7)


def test_simulated_frequencies_match_stationary(key):
    num_steps = 6000
    states = _simulate(key, A, 0, num_steps)
    assert states.shape == (num_steps,) and states.dtype == jnp.int32
    pi = _stationary_numpy(A)
    freq = np.asarray(markov.empirical_distribution(states, 3))
    # Tolerance from the effective sample size of each state's indicator series.
    indicators = jax.nn.one_hot(states, 3)[None, :, :]
    ess = np.asarray(diagnostics.effective_sample_size(indicators))
    se = np.sqrt(pi * (1 - pi) / ess)
    np.testing.assert_array_less(np.abs(freq - pi), 5 * se)


def test_simulated_transitions_follow_matrix(key):
    states = np.asarray(_simulate(key, A, 1, 6000))
    from_state, to_state = states[:-1], states[1:]
    for j in range(3):
        counts = np.bincount(to_state[from_state == j], minlength=3)
        column = np.asarray(A[:, j], dtype=np.float64)
        expected = column / column.sum() * counts.sum()
        assert stats.chisquare(counts, expected).pvalue > 1e-4


def test_kernel_reports_transition_probability(key):
    state, info = markov.kernel(key, markov.init(2), A)
    np.testing.assert_allclose(info.transition_probability, A[state.position, 2])


@pytest.mark.parametrize(
    ("matrix", "match"),
    [
        (jnp.array([[0.5, 0.5], [0.4, 0.5]]), "must sum to 1 along axis 0"),
        (jnp.array([[1.5, 0.0], [-0.5, 1.0]]), r"in \[0, 1\]"),
        (jnp.ones((2, 3)) / 2, "square"),
    ],
)
def test_transition_matrix_errors(matrix, match):
    with pytest.raises(ValueError, match=match):
        markov.check_transition_matrix(matrix)


def test_row_stochastic_matrix_is_rejected():
    rows = jnp.array([[0.9, 0.1], [0.3, 0.7]])  # rows sum to 1, columns do not
    with pytest.raises(ValueError, match="transition_matrix must sum to 1 along axis 0"):
        markov.stationary_distribution_power(rows)
    np.testing.assert_allclose(
        markov.stationary_distribution_power(rows.T), [0.75, 0.25], atol=1e-5
    )


def test_other_errors(key):
    with pytest.raises(ValueError, match=r"position must lie in \[0, 3\)"):
        markov.init(5, num_states=3)
    with pytest.raises(TypeError, match="integer state index"):
        markov.init(1.0)
    with pytest.raises(ValueError, match="one chain's scalar state"):
        markov.kernel(key, markov.init(jnp.array([0, 1])), A)
    with pytest.raises(ValueError, match="must sum to 1 along axis 0"):
        markov.kernel(key, markov.init(0), A.T)
    with pytest.raises(ValueError, match=r"initial_distribution must have shape \(3,\)"):
        markov.propagate(A, jnp.array([0.5, 0.5]), 3)
    with pytest.raises(TypeError, match="states must have an integer dtype"):
        markov.empirical_distribution(jnp.zeros(3), 2)


def test_jit_and_vmap(key):
    k_jit, k_vmap = jax.random.split(key)
    assert_jit_matches_eager(lambda k, a: _simulate(k, a, 0, 4), k_jit, A)
    keys = jax.random.split(k_vmap, 3)
    starts = jnp.array([0, 1, 2])
    assert_vmap_matches_loop(jax.jit(lambda k, s: _simulate(k, A, s, 15)), keys, starts)
    assert_jit_matches_eager(markov.stationary_distribution_power, A)
