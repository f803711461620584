"""Message passing: segment sums against dense NumPy, reductions, errors, equivariance."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.graphs import (
    aggregate,
    course_example_graph,
    make_graph,
    permute_graph,
    propagate,
    to_adjacency,
)
from tests.graphs.helpers import random_graph, random_permutation


def test_sum_is_adjacency_transpose_product_on_a_weighted_directed_graph():
    rng = np.random.default_rng(0)
    senders, receivers = np.array([0, 1, 2, 2, 3]), np.array([1, 2, 0, 3, 0])
    weights = rng.uniform(0.5, 2, 5).astype(np.float32)
    x = rng.normal(size=(4, 3)).astype(np.float32)
    g = make_graph(x, senders, receivers, weights=weights)
    a = np.asarray(to_adjacency(g))
    np.testing.assert_allclose(propagate(g.nodes, g), a.T @ x, rtol=1e-5, atol=1e-6)
    mean = np.asarray(propagate(g.nodes, g, "mean"))
    np.testing.assert_allclose(mean, (a.T @ x) / a.sum(0)[:, None], rtol=1e-5)
    # max over in-neighbours (unweighted), by a loop
    mx = np.asarray(propagate(g.nodes, g, "max"))
    for v in range(4):
        np.testing.assert_allclose(mx[v], x[senders[receivers == v]].max(0))


def test_isolated_nodes_and_padding_get_zero():
    g = make_graph(jnp.ones((3, 1)), jnp.array([0]), jnp.array([1]))
    for reduction in ("sum", "mean", "max"):
        out = np.asarray(propagate(g.nodes, g, reduction))
        assert out[0, 0] == 0 and out[2, 0] == 0 and out[1, 0] == 1


def test_bad_inputs():
    g = course_example_graph()
    with pytest.raises(
        ValueError, match=r"nodes must have one row per node slot of the graph \(5\)"
    ):
        propagate(jnp.ones((4, 2)), g)
    with pytest.raises(ValueError, match="messages must have one row per edge slot"):
        aggregate(jnp.ones((3, 2)), g)
    with pytest.raises(ValueError, match="reduction must be one of"):
        propagate(jnp.ones((5, 2)), g, "median")


_propagate = jax.jit(propagate, static_argnames="reduction")


@settings(max_examples=5)
@given(st.integers(0, 10**6), st.sampled_from(["sum", "mean", "max"]))
def test_propagate_is_permutation_equivariant(seed, reduction):
    g = random_graph(seed)
    perm = random_permutation(seed)
    out = _propagate(g.nodes, g, reduction=reduction)
    h = permute_graph(g, perm)
    np.testing.assert_allclose(
        _propagate(h.nodes, h, reduction=reduction), np.asarray(out)[perm], atol=1e-5
    )
