"""NN4G: per-node form == matrix form == module, per-layer readouts, freezing, gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.graphs import (
    COURSE_ADJACENCY,
    NN4G,
    NN4GLayer,
    course_example_graph,
    grow_nn4g_params,
    nn4g_dense,
    permute_graph,
)
from jaxdl.testing import assert_grads_close
from tests.graphs.helpers import random_graph, random_permutation


def _per_node(x, a, h_prev, w_bar, w, b):
    """The course's per-node form, one node at a time."""
    out = []
    for v in range(x.shape[0]):
        pre = w_bar.T @ x[v] + b
        if h_prev is not None:
            neighbours = [u for u in range(x.shape[0]) if a[u, v]]
            pre = pre + w.T @ sum(h_prev[u] for u in neighbours)
        out.append(np.tanh(pre))
    return np.stack(out)


def test_module_matches_matrix_and_per_node_forms():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2)).astype(np.float32)
    g = course_example_graph(x)
    model = NN4G(features=(3, 4), num_outputs=1)
    params = model.init(jax.random.key(0), g.nodes, g)["params"]
    p0, p1 = params["layer_0"], params["layer_1"]
    h1 = _per_node(x, COURSE_ADJACENCY, None, p0["input"]["kernel"], None, p0["input"]["bias"])
    h2 = _per_node(
        x, COURSE_ADJACENCY, h1, p1["input"]["kernel"], p1["context"]["kernel"], p1["input"]["bias"]
    )
    dense1 = nn4g_dense(x, COURSE_ADJACENCY, None, p0["input"]["kernel"], None, p0["input"]["bias"])
    dense2 = nn4g_dense(
        x,
        COURSE_ADJACENCY,
        dense1,
        p1["input"]["kernel"],
        p1["context"]["kernel"],
        p1["input"]["bias"],
    )
    layer1 = NN4GLayer(3).apply({"params": p0}, g.nodes, g)
    layer2 = NN4GLayer(4).apply({"params": p1}, g.nodes, g, layer1)
    for ref, got in ((h1, dense1), (h1, layer1), (h2, dense2), (h2, layer2)):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)
    # The output reads X_i(g) = (1/k) sum_v x_i(v) of every layer (k = |g| for the mean).
    readouts = np.concatenate([h1.mean(0), h2.mean(0)])
    expected = readouts @ params["output"]["kernel"] + params["output"]["bias"]
    np.testing.assert_allclose(model.apply({"params": params}, g.nodes, g)[0], expected, rtol=1e-5)
    summed = NN4G(features=(3, 4), num_outputs=1, readout="sum")
    readouts = np.concatenate([h1.sum(0), h2.sum(0)])
    expected = readouts @ params["output"]["kernel"] + params["output"]["bias"]
    np.testing.assert_allclose(summed.apply({"params": params}, g.nodes, g)[0], expected, rtol=1e-5)


def test_frozen_layers_get_no_gradient_and_growth_keeps_them():
    g = course_example_graph(jnp.arange(10.0).reshape(5, 2) / 10)
    small = NN4G(features=(3,), num_outputs=1)
    trained = small.init(jax.random.key(0), g.nodes, g)["params"]
    big = NN4G(features=(3, 3), num_outputs=1, frozen_layers=1)
    fresh = big.init(jax.random.key(1), g.nodes, g)["params"]
    params = grow_nn4g_params(trained, fresh)
    np.testing.assert_array_equal(
        params["layer_0"]["input"]["kernel"], trained["layer_0"]["input"]["kernel"]
    )
    grads = jax.grad(lambda p: jnp.sum(big.apply({"params": p}, g.nodes, g)))(params)
    assert float(jnp.abs(grads["layer_0"]["input"]["kernel"]).sum()) == 0.0
    assert float(jnp.abs(grads["layer_1"]["input"]["kernel"]).sum()) > 0.0
    with pytest.raises(ValueError, match="fresh has no layer_0"):
        grow_nn4g_params(trained, {"output": {}})
    with pytest.raises(ValueError, match=r"frozen_layers must lie in \[0, 2\), got 2"):
        NN4G(features=(3, 3), num_outputs=1, frozen_layers=2).init(jax.random.key(0), g.nodes, g)


def test_nn4g_gradients_float64():
    g = course_example_graph(jnp.arange(10.0).reshape(5, 2) / 10)
    model = NN4G(features=(2, 2), num_outputs=1)
    params = model.init(jax.random.key(0), g.nodes, g)["params"]

    def loss(params, nodes):
        return jnp.sum(model.apply({"params": params}, nodes, g) ** 2)

    assert_grads_close(
        loss,
        params,
        g.nodes,
        mode="directions",
        num_samples=6,
        key=jax.random.key(7),
        rtol=1e-4,
        atol=1e-7,
    )


_MODEL = NN4G(features=(3, 3), num_outputs=2)
_NODE_MODEL = NN4G(features=(3, 3), num_outputs=2, node_level=True)


@jax.jit
def _both(params, graph):
    return _MODEL.apply(params, graph.nodes, graph), _NODE_MODEL.apply(params, graph.nodes, graph)


@settings(max_examples=5)
@given(st.integers(0, 10**6))
def test_nn4g_is_permutation_invariant_and_equivariant(seed):
    g = random_graph(seed)
    params = _MODEL.init(jax.random.key(0), g.nodes, g)
    perm = random_permutation(seed)
    graph_out, node_out = _both(params, g)
    graph_perm, node_perm = _both(params, permute_graph(g, perm))
    np.testing.assert_allclose(graph_perm, graph_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(node_perm, np.asarray(node_out)[perm], rtol=1e-5, atol=1e-6)
