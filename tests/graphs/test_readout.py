"""Readouts and heads: NumPy references, invariance to node order, link scores."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.graphs import (
    AttentionReadout,
    GraphHead,
    NodeHead,
    batch_graphs,
    from_adjacency,
    graph_readout,
    link_logits,
    link_probabilities,
    max_readout,
    mean_readout,
    permute_graph,
    segment_softmax,
    sum_readout,
)
from jaxdl.testing import assert_grads_close
from tests.graphs.helpers import random_graph, random_permutation


def _two_graphs():
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(3, 2)), rng.normal(size=(2, 2))
    a1 = np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]], np.float32)
    a2 = np.array([[0, 1], [1, 0]], np.float32)
    g = batch_graphs(
        [from_adjacency(a1, x1.astype(np.float32)), from_adjacency(a2, x2.astype(np.float32))],
        num_graphs=3,
    )
    return g, x1, x2


def test_readouts_match_numpy_per_graph_and_ignore_padding():
    g, x1, x2 = _two_graphs()
    nodes = g.nodes.at[5:].set(100.0)  # padding rows must not leak
    np.testing.assert_allclose(sum_readout(nodes, g)[:2], [x1.sum(0), x2.sum(0)], rtol=1e-5)
    np.testing.assert_allclose(mean_readout(nodes, g)[:2], [x1.mean(0), x2.mean(0)], rtol=1e-5)
    np.testing.assert_allclose(max_readout(nodes, g)[:2], [x1.max(0), x2.max(0)], rtol=1e-5)
    np.testing.assert_array_equal(graph_readout(nodes, g, "sum")[2], [0, 0])  # padding graph


def test_segment_softmax_and_attention_readout():
    g, _, _ = _two_graphs()
    weights = segment_softmax(g.nodes[:, 0], g.node_graph, g.num_graphs, g.node_mask)
    np.testing.assert_allclose(jax.ops.segment_sum(weights, g.node_graph, 3)[:2], [1, 1], rtol=1e-6)
    assert float(jnp.sum(weights[5:])) == 0.0
    module = AttentionReadout(features=3)
    params = module.init(jax.random.key(0), g.nodes, g)
    out = module.apply(params, g.nodes, g)
    assert out.shape == (3, 3)
    # with a zero score the attention is uniform: a mean of the values
    p = jax.tree.map(lambda v: v, params)
    p["params"]["score"]["kernel"] = jnp.zeros_like(p["params"]["score"]["kernel"])
    values = g.nodes @ p["params"]["value"]["kernel"] + p["params"]["value"]["bias"][None, :]
    np.testing.assert_allclose(
        module.apply(p, g.nodes, g)[:2], mean_readout(values, g)[:2], rtol=1e-5
    )

    def loss(params, nodes):
        return jnp.sum(module.apply(params, nodes, g) ** 2)

    assert_grads_close(loss, params, g.nodes, rtol=1e-4, atol=1e-7)


def test_heads_and_link_scores():
    g, _, _ = _two_graphs()
    head = GraphHead(features=(4, 2), reduction="max")
    assert head.apply(head.init(jax.random.key(0), g.nodes, g), g.nodes, g).shape == (3, 2)
    node_head = NodeHead(features=(3,))
    out = node_head.apply(node_head.init(jax.random.key(1), g.nodes, g), g.nodes, g)
    assert out.shape == (g.num_nodes, 3) and float(jnp.abs(out[5:]).sum()) == 0.0
    h = jnp.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]])
    s, r = jnp.array([0, 1, 2]), jnp.array([1, 2, 0])
    np.testing.assert_allclose(link_logits(h, s, r), [1.0, 1.0, 1.5])
    np.testing.assert_allclose(
        link_probabilities(h, s, r), 1 / (1 + np.exp(-np.array([1, 1, 1.5]))), rtol=1e-6
    )


_MODULE = AttentionReadout(features=2)


@jax.jit
def _all_readouts(params, nodes, graph):
    return [
        sum_readout(nodes, graph),
        mean_readout(nodes, graph),
        max_readout(nodes, graph),
        _MODULE.apply(params, nodes, graph),
    ]


@settings(max_examples=5)
@given(st.integers(0, 10**6))
def test_readouts_are_permutation_invariant(seed):
    g = random_graph(seed)
    params = _MODULE.init(jax.random.key(0), g.nodes, g)
    h = permute_graph(g, random_permutation(seed))
    for a, b in zip(
        _all_readouts(params, g.nodes, g), _all_readouts(params, h.nodes, h), strict=True
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
