"""Structure learning: BIC against a direct computation, recovery of a known network."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.probabilistic import (
    ancestral_sample,
    bayesian_network,
    bic_score,
    family_bic,
    fit_cpts,
    greedy_structure_search,
    skeleton,
    v_structures,
)


def _sprinkler_like():
    """x0 -> x2 <- x1 (a v-structure), x2 -> x3, and x4 -> x1: five binary variables."""
    cpts = [
        jnp.array([0.6, 0.4]),
        jnp.array([[0.8, 0.2], [0.25, 0.75]]),
        jnp.array([[[0.9, 0.1], [0.3, 0.7]], [[0.2, 0.8], [0.05, 0.95]]]),
        jnp.array([[0.85, 0.15], [0.2, 0.8]]),
        jnp.array([0.5, 0.5]),
    ]
    parents = [[], [4], [0, 1], [2], []]
    return bayesian_network((2, 2, 2, 2, 2), parents, cpts), parents


def test_bic_matches_a_direct_log_likelihood_and_penalty(key):
    network, parents = _sprinkler_like()
    data = np.asarray(ancestral_sample(key, network, 400))
    fitted = fit_cpts(data, network.cardinalities, parents)
    # The ML log-likelihood is the data's log-probability under the ML CPTs.
    log_likelihood = sum(
        np.log(np.asarray(fitted.cpts[i])[tuple(data[:, p] for p in pa) + (data[:, i],)]).sum()
        for i, pa in enumerate(parents)
    )
    free = 1 + 2 + 4 + 2 + 1
    expected = log_likelihood - 0.5 * np.log(400) * free
    np.testing.assert_allclose(bic_score(data, network.cardinalities, parents), expected, rtol=1e-5)
    assert family_bic(data, network.cardinalities, 3, [2]) == pytest.approx(
        np.log(np.asarray(fitted.cpts[3])[data[:, 2], data[:, 3]]).sum() - 0.5 * np.log(400) * 2,
        rel=1e-5,
    )
    # Markov-equivalent graphs (reversing x2 -> x3) get the same BIC; adding an edge to
    # the true graph lowers it on this much data.
    equivalent = [[], [], [0, 1], [2], [1]]  # x1 -> x4 instead of x4 -> x1
    np.testing.assert_allclose(
        bic_score(data, network.cardinalities, equivalent),
        bic_score(data, network.cardinalities, parents),
        rtol=1e-6,
    )


def test_greedy_search_recovers_skeleton_and_v_structures(key):
    network, parents = _sprinkler_like()
    data = ancestral_sample(key, network, 3000)
    result = greedy_structure_search(data, network.cardinalities)
    assert skeleton(result.parents) == skeleton(parents) == {(0, 2), (1, 2), (2, 3), (1, 4)}
    assert v_structures(result.parents) == v_structures(parents) == {(0, 2, 1)}
    assert result.scores == sorted(result.scores)  # every move improves the score
    assert result.score >= bic_score(np.asarray(data), network.cardinalities, parents) - 1e-6
    assert result.num_moves == len(result.scores) - 1


def test_search_respects_acyclicity_limits_and_errors():
    rng = np.random.default_rng(0)
    x0 = rng.integers(0, 2, 300)
    x1 = np.where(rng.random(300) < 0.95, x0, 1 - x0)
    x2 = np.where(rng.random(300) < 0.95, x1, 1 - x1)
    data = np.stack([x0, x1, x2], axis=1)
    result = greedy_structure_search(data, (2, 2, 2), max_parents=0)
    assert result.parents == ((), (), ()) and result.num_moves == 0
    chain = greedy_structure_search(data, (2, 2, 2))
    assert skeleton(chain.parents) == {(0, 1), (1, 2)} and v_structures(chain.parents) == set()
    with pytest.raises(ValueError, match=r"data\[0, 0\] = 3 is outside \[0, 2\)"):
        greedy_structure_search(np.array([[3, 0, 0]]), (2, 2, 2))
    with pytest.raises(ValueError, match="data must have shape"):
        bic_score(np.zeros((4, 2), np.int32), (2, 2, 2), [[], [], []])
    with pytest.raises(ValueError, match="acyclic"):
        bic_score(data, (2, 2, 2), [[1], [0], []])
    with pytest.raises(TypeError, match="integer dtype"):
        fit_cpts(data.astype(np.float32), (2, 2, 2), [[], [], []])
