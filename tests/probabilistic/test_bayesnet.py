"""Tests for jaxdl.probabilistic.bayesnet: validation, counts, chain rule, sampling, inference."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxdl.probabilistic import bayesnet as bn
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

# x0 -> x1, x0 -> x3, x1 -> x2, x1 -> x3: cardinalities 2, 3, 2, 2.
CARDINALITIES = (2, 3, 2, 2)
PARENTS = ([], [0], [1], [0, 1])
CPTS = (
    jnp.array([0.3, 0.7]),
    jnp.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]]),
    jnp.array([[0.9, 0.1], [0.4, 0.6], [0.25, 0.75]]),
    jnp.array(
        [
            [[0.5, 0.5], [0.8, 0.2], [0.1, 0.9]],
            [[0.3, 0.7], [0.6, 0.4], [0.95, 0.05]],
        ]
    ),
)


def _net():
    return bn.bayesian_network(CARDINALITIES, PARENTS, CPTS, names=("a", "b", "c", "d"))


def _joint_numpy(x):
    a, b, c, d = x
    cpts = [np.asarray(t, dtype=np.float64) for t in CPTS]
    return cpts[0][a] * cpts[1][a, b] * cpts[2][b, c] * cpts[3][a, b, d]


def test_relay_race_parameter_count():
    """Course example: three 100-valued variables, a chain t0 -> t1 -> t2."""
    assert bn.num_parameters_full_table((100, 100, 100)) == 999_999
    assert bn.num_parameters((100, 100, 100), [[], [0], [1]]) == 19_899
    assert 999_999 / 19_899 > 50


def test_num_parameters_of_example():
    # (2-1) + (3-1)*2 + (2-1)*3 + (2-1)*2*3
    assert bn.num_parameters(CARDINALITIES, PARENTS) == 1 + 4 + 3 + 6


def test_topological_order():
    assert bn.topological_order(PARENTS) == (0, 1, 2, 3)
    assert bn.topological_order([[1], [], [0, 1]]) == (1, 0, 2)


def test_joint_by_chain_rule_matches_numpy():
    net = _net()
    table = np.asarray(bn.joint_table(net))
    np.testing.assert_allclose(table.sum(), 1.0, rtol=1e-6)
    for x in itertools.product(*[range(k) for k in CARDINALITIES]):
        expected = _joint_numpy(x)
        np.testing.assert_allclose(table[x], expected, rtol=1e-5)
        np.testing.assert_allclose(
            np.exp(bn.log_joint(net, jnp.array(x, jnp.int32))), expected, rtol=1e-5
        )


def test_marginals_and_conditionals():
    net = _net()
    joint = np.asarray(bn.joint_table(net), dtype=np.float64)
    np.testing.assert_allclose(bn.marginal(net, 3), joint.sum(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(bn.marginal(net, (3, 0)), joint.sum(axis=(1, 2)).T, rtol=1e-5)
    # Bayes' rule: P(a | d = 1).
    p_ad = joint.sum(axis=(1, 2))[:, 1]
    np.testing.assert_allclose(bn.conditional(net, 0, {3: 1}), p_ad / p_ad.sum(), rtol=1e-5)
    # The CPT is recovered as a conditional: P(c | b = 2) == CPTS[2][2].
    np.testing.assert_allclose(bn.conditional(net, 2, {1: 2}), CPTS[2][2], rtol=1e-5)
    # c is independent of a given b.
    np.testing.assert_allclose(
        bn.conditional(net, 2, {0: 0, 1: 1}), bn.conditional(net, 2, {0: 1, 1: 1}), rtol=1e-5
    )
    pair = np.asarray(bn.conditional(net, (2, 0), {3: 0}))
    expected = joint[:, :, :, 0].sum(axis=1).T
    np.testing.assert_allclose(pair, expected / expected.sum(), rtol=1e-5)


def test_ancestral_sampling_matches_exact_joint(key):
    net = _net()
    num_samples = 20000
    samples = np.asarray(bn.ancestral_sample(key, net, num_samples))
    assert samples.shape == (num_samples, 4)
    flat = np.ravel_multi_index(samples.T, CARDINALITIES)
    counts = np.bincount(flat, minlength=np.prod(CARDINALITIES))
    expected = np.asarray(bn.joint_table(net), dtype=np.float64).reshape(-1)
    assert stats.chisquare(counts, expected / expected.sum() * num_samples).pvalue > 1e-3
    for i, k in enumerate(CARDINALITIES):
        p = np.asarray(bn.marginal(net, i), dtype=np.float64)
        freq = np.bincount(samples[:, i], minlength=k) / num_samples
        np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / num_samples))


def test_ancestral_sampling_respects_parent_order(key):
    # Variable 0 has parent 2: sampling must draw x2 first.
    net = bn.bayesian_network(
        (2, 2, 2),
        [[2], [], [1]],
        [jnp.array([[1.0, 0.0], [0.0, 1.0]]), jnp.array([0.5, 0.5]), jnp.eye(2)],
    )
    samples = np.asarray(bn.ancestral_sample(key, net, 200))
    np.testing.assert_array_equal(samples[:, 0], samples[:, 1])
    np.testing.assert_array_equal(samples[:, 2], samples[:, 1])


def test_jit_and_vmap(key):
    net = _net()
    assert_jit_matches_eager(lambda k, n: bn.ancestral_sample(k, n, 3), key, net)
    states = jnp.array([[0, 1, 1, 0], [1, 2, 0, 1], [1, 0, 1, 1]], jnp.int32)
    assert_vmap_matches_loop(jax.jit(lambda x: bn.log_joint(net, x)), states)


def test_log_joint_gradient_wrt_cpts():
    """d log P(x) / d cpt[i][pa, x_i] = 1 / cpt[i][pa, x_i] for the used entries."""
    net = _net()
    x = jnp.array([1, 2, 0, 1], jnp.int32)
    grads = jax.grad(lambda n: bn.log_joint(n, x))(net)
    np.testing.assert_allclose(grads.cpts[0][1], 1 / 0.7, rtol=1e-5)
    np.testing.assert_allclose(grads.cpts[3][1, 2, 1], 1 / 0.05, rtol=1e-4)
    assert float(jnp.sum(jnp.abs(grads.cpts[2]))) == pytest.approx(1 / 0.25, rel=1e-5)


@pytest.mark.parametrize(
    ("parents", "cpts", "match"),
    [
        ([[], [0], [1], [0, 1]], (CPTS[0], CPTS[1] * 1.1, CPTS[2], CPTS[3]), "must sum to 1"),
        (
            [[], [0], [1], [0, 1]],
            (jnp.array([1.5, -0.5]), CPTS[1], CPTS[2], CPTS[3]),
            r"in \[0, 1\]",
        ),
        ([[], [0], [1], [0]], CPTS, r"cpts\[3\] \(d\) must have shape \(2, 2\)"),
        ([[3], [0], [1], [0, 1]], CPTS, "acyclic"),
        ([[], [1], [1], [0, 1]], CPTS, "its own parent"),
        ([[], [7], [1], [0, 1]], CPTS, r"expected an index in \[0, 4\)"),
    ],
)
def test_validation_errors(parents, cpts, match):
    with pytest.raises(ValueError, match=match):
        bn.bayesian_network(CARDINALITIES, parents, cpts, names=("a", "b", "c", "d"))


def test_cycle_detection_names_the_cycle():
    with pytest.raises(ValueError, match=r"variables \[0, 1, 2\]"):
        bn.topological_order([[2], [0], [1], []])


def test_other_errors(key):
    net = _net()
    with pytest.raises(TypeError, match="cpts\\[0\\] \\(x0\\) must have a floating dtype"):
        bn.bayesian_network((2,), [[]], [jnp.array([1, 0])])
    with pytest.raises(ValueError, match="one entry per variable"):
        bn.bayesian_network((2, 2), [[]], [CPTS[0]])
    with pytest.raises(ValueError, match=r"x must have shape \(4,\)"):
        bn.log_joint(net, jnp.zeros(3, jnp.int32))
    with pytest.raises(TypeError, match="x must have an integer dtype"):
        bn.log_joint(net, jnp.zeros(4))
    with pytest.raises(ValueError, match="both queried and observed"):
        bn.conditional(net, 0, {0: 1})
    with pytest.raises(ValueError, match=r"evidence value for variable 1 must lie in \[0, 3\)"):
        bn.conditional(net, 0, {1: 3})
    with pytest.raises(TypeError, match="num_samples must be an int"):
        bn.ancestral_sample(key, net, 2.0)


def test_zero_probability_evidence():
    net = bn.bayesian_network(
        (2, 2), [[], [0]], [jnp.array([1.0, 0.0]), jnp.array([[1.0, 0.0], [0.5, 0.5]])]
    )
    with pytest.raises(ValueError, match="probability zero"):
        bn.conditional(net, 0, {1: 1})
