"""Every registered graph model: permuting the nodes permutes node outputs, fixes graph outputs.

The generic init/apply/jit/vmap/finiteness checks of these models run in
``tests/nn/test_registry.py`` (the graph is passed through ``apply_kwargs``); this walk
adds the property every graph model must have, one fixed permutation each (the
hypothesis-driven versions live beside each module's tests).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdl.graphs
from jaxdl.graphs import Graph, permute_graph
from jaxdl.nn.registry import registered_models

GRAPH_SPECS = {
    name: spec
    for name, spec in registered_models().items()
    if isinstance(spec.apply_kwargs.get("graph"), Graph)
}


def test_every_public_graph_module_is_walked():
    import flax.linen as nn

    public = {
        name
        for name in jaxdl.graphs.__all__
        if isinstance(getattr(jaxdl.graphs, name), type)
        and issubclass(getattr(jaxdl.graphs, name), nn.Module)
    }
    assert public and public <= set(GRAPH_SPECS), sorted(public - set(GRAPH_SPECS))


@pytest.mark.parametrize("name", sorted(GRAPH_SPECS))
def test_permutation_equivariance_or_invariance(name):
    spec = GRAPH_SPECS[name]
    graph = spec.apply_kwargs["graph"]
    model = spec.make()
    x = jax.random.normal(jax.random.key(0), spec.input_shape)
    params = jax.jit(lambda k, x, g: model.init(k, x, graph=g))(jax.random.key(1), x, graph)
    apply = jax.jit(lambda p, x, g: jax.tree.leaves(model.apply(p, x, graph=g))[0])
    perm = np.array([3, 0, 4, 1, 2])
    out = apply(params, x, graph)  # one compiled program serves both orders
    out_perm = apply(params, x[perm], permute_graph(graph, perm))
    assert bool(jnp.all(jnp.isfinite(out)))
    if out.shape[0] == graph.num_nodes:  # node outputs: equivariant
        np.testing.assert_allclose(out_perm, np.asarray(out)[perm], rtol=1e-4, atol=1e-5)
    else:  # graph outputs: invariant
        assert out.shape[0] == graph.num_graphs
        np.testing.assert_allclose(out_perm, out, rtol=1e-4, atol=1e-5)
