"""Graph-level readouts (sum, mean, max, attention) and heads for node, graph and link tasks.

A readout maps the node states of each graph to one vector per graph, invariant to the
order of the nodes: ``r(g) = reduce_{v in g} h_v``. The attention readout weighs nodes by
a softmax, within each graph, of a learned score (the gated sum of Li et al. 2016).
Link prediction scores a pair of nodes by the dot product of their embeddings,
``p(u ~ v) = sigmoid(h_u . h_v)`` (course chapter 11).

Reference: Li et al., "Gated graph sequence neural networks" (ICLR 2016); Xu et al.,
"How powerful are graph neural networks?" (ICLR 2019).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.graphs.graph import Graph, course_example_graph
from jaxdl.graphs.message_passing import _check_nodes
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

READOUTS = ("sum", "mean", "max")


def _masked(nodes: Array, graph: Graph, fill: float = 0.0) -> Array:
    return jnp.where(graph.node_mask[:, None], nodes, fill)


def sum_readout(nodes: Array, graph: Graph) -> Array:
    """``r(g) = sum_{v in g} h_v`` for every graph slot ``[G, F]`` (0 for padding graphs).

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> sum_readout(jnp.array([[1.0], [5.0]]), g).tolist()
        [[6.0]]
    """
    _check_nodes(nodes, graph)
    return jax.ops.segment_sum(_masked(nodes, graph), graph.node_graph, graph.num_graphs)


def mean_readout(nodes: Array, graph: Graph) -> Array:
    """``r(g) = (1/|g|) sum_{v in g} h_v`` ``[G, F]`` (NN4G's ``X_i(g)`` with ``k = |g|``).

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> mean_readout(jnp.array([[1.0], [5.0]]), g).tolist()
        [[3.0]]
    """
    counts = jnp.maximum(graph.n_node, 1).astype(nodes.dtype)
    return sum_readout(nodes, graph) / counts[:, None]


def max_readout(nodes: Array, graph: Graph) -> Array:
    """``r(g) = max_{v in g} h_v`` elementwise ``[G, F]`` (0 for empty graphs).

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> max_readout(jnp.array([[1.0], [5.0]]), g).tolist()
        [[5.0]]
    """
    _check_nodes(nodes, graph)
    out = jax.ops.segment_max(
        _masked(nodes, graph, -jnp.inf), graph.node_graph, num_segments=graph.num_graphs
    )
    return jnp.where(jnp.isfinite(out), out, 0)


def graph_readout(nodes: Array, graph: Graph, reduction: str = "mean") -> Array:
    """Dispatch to :func:`sum_readout`, :func:`mean_readout` or :func:`max_readout`.

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> graph_readout(jnp.array([[1.0], [5.0]]), g, "sum").tolist()
        [[6.0]]
    """
    table = {"sum": sum_readout, "mean": mean_readout, "max": max_readout}
    if reduction not in table:
        raise ValueError(f"reduction must be one of {READOUTS}, got {reduction!r}")
    return table[reduction](nodes, graph)


def segment_softmax(scores: Array, segment_ids: Array, num_segments: int, mask: Array) -> Array:
    """Softmax of ``scores [N]`` within each segment (masked entries get 0).

    Example:
        >>> segment_softmax(jnp.zeros(3), jnp.array([0, 0, 1]), 2, jnp.ones(3, bool)).tolist()
        [0.5, 0.5, 1.0]
    """
    scores = jnp.where(mask, scores, -jnp.inf)
    peak = jax.ops.segment_max(scores, segment_ids, num_segments=num_segments)
    peak = jnp.where(jnp.isfinite(peak), peak, 0)
    shifted = jnp.exp(scores - jnp.take(peak, segment_ids, mode="clip"))
    shifted = jnp.where(mask, shifted, 0)
    total = jax.ops.segment_sum(shifted, segment_ids, num_segments=num_segments)
    return shifted / jnp.maximum(jnp.take(total, segment_ids, mode="clip"), 1e-30)


class AttentionReadout(nn.Module):
    """Attention-weighted readout ``r(g) = sum_{v in g} a_v W h_v``, ``a = softmax_g(q . h_v)``.

    The weights ``a_v`` are a softmax over the nodes of each graph of a learned linear score,
    so the readout is invariant to node order and, unlike the mean, can attend to a few
    informative nodes.

    Attributes:
        features: size of the graph vector.

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> module = AttentionReadout(features=4)
        >>> x = jnp.ones((2, 3))
        >>> params = module.init(jax.random.key(0), x, g)
        >>> module.apply(params, x, g).shape
        (1, 4)
    """

    features: int

    @nn.compact
    def __call__(self, nodes: Array, graph: Graph) -> Array:
        _check_nodes(nodes, graph)
        scores = nn.Dense(1, name="score")(nodes)[:, 0]
        attention = segment_softmax(scores, graph.node_graph, graph.num_graphs, graph.node_mask)
        values = nn.Dense(self.features, name="value")(nodes)
        return sum_readout(values * attention[:, None], graph)


class GraphHead(nn.Module):
    """Graph-level head: a readout then an MLP, ``y(g) = MLP(r(g))`` ``[G, features[-1]]``.

    Attributes:
        features: sizes of the MLP's Dense layers (the last is the output size).
        reduction: ``"sum"``, ``"mean"``, ``"max"`` or ``"attention"``.

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> head = GraphHead(features=(8, 2), reduction="attention")
        >>> params = head.init(jax.random.key(0), jnp.ones((2, 3)), g)
        >>> head.apply(params, jnp.ones((2, 3)), g).shape
        (1, 2)
    """

    features: Sequence[int]
    reduction: str = "mean"

    @nn.compact
    def __call__(self, nodes: Array, graph: Graph) -> Array:
        if self.reduction == "attention":
            h = AttentionReadout(self.features[0])(nodes, graph)
        else:
            h = graph_readout(nodes, graph, self.reduction)
        for i, size in enumerate(self.features):
            if i or self.reduction != "attention":
                h = nn.Dense(size)(h)
            if i < len(self.features) - 1:
                h = nn.relu(h)
        return h


class NodeHead(nn.Module):
    """Node-level head: an MLP applied to every node state ``[N, features[-1]]``.

    Attributes:
        features: sizes of the Dense layers (the last is the number of outputs).

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> head = NodeHead(features=(3,))
        >>> head.apply(head.init(jax.random.key(0), jnp.ones((2, 4)), g), jnp.ones((2, 4)), g).shape
        (2, 3)
    """

    features: Sequence[int]

    @nn.compact
    def __call__(self, nodes: Array, graph: Graph) -> Array:
        _check_nodes(nodes, graph)
        h = nodes
        for i, size in enumerate(self.features):
            h = nn.Dense(size)(h)
            if i < len(self.features) - 1:
                h = nn.relu(h)
        return jnp.where(graph.node_mask[:, None], h, 0)


def link_logits(nodes: Array, senders: Array, receivers: Array) -> Array:
    """Link scores ``s(u, v) = h_u . h_v`` for candidate pairs ``[P]`` (logits of edges).

    Args:
        nodes: ``[N, F]`` node embeddings.
        senders: ``[P]`` first node of each pair.
        receivers: ``[P]`` second node of each pair.

    Returns:
        ``[P]`` logits; ``jax.nn.sigmoid`` of them is the edge probability.

    Example:
        >>> h = jnp.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
        >>> link_logits(h, jnp.array([0, 1]), jnp.array([1, 2])).tolist()
        [2.0, 3.0]
    """
    h_u = jnp.take(nodes, senders, axis=0)
    h_v = jnp.take(nodes, receivers, axis=0)
    return jnp.sum(h_u * h_v, axis=-1)


def link_probabilities(nodes: Array, senders: Array, receivers: Array) -> Array:
    """``p(u ~ v) = sigmoid(h_u . h_v)`` for candidate pairs ``[P]``.

    Example:
        >>> link_probabilities(jnp.zeros((2, 3)), jnp.array([0]), jnp.array([1])).tolist()
        [0.5]
    """
    return jax.nn.sigmoid(link_logits(nodes, senders, receivers))


_EXAMPLE = course_example_graph()
for _name, _make in (
    ("AttentionReadout", lambda: AttentionReadout(features=3)),
    ("GraphHead", lambda: GraphHead(features=(4, 2), reduction="attention")),
    ("NodeHead", lambda: NodeHead(features=(4, 2))),
):
    register_model(
        ModelSpec(
            name=_name,
            make=_make,
            input_shape=(5, 2),
            batched=False,
            apply_kwargs={"graph": _EXAMPLE},
        )
    )
