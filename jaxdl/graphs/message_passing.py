"""Message passing by segment sums: gather from senders, reduce at receivers.

One round computes, for every node ``v``, an aggregate of messages ``m_{u->v}`` over the
edges ``u -> v``: ``sum`` (``A^T H`` for the weighted adjacency ``A[u, v]``), ``mean``
(divided by the weighted in-degree) or ``max``. Padding edges point one past the last node
and are dropped by the segment reductions.

Reference: Gilmer et al., "Neural message passing for quantum chemistry" (ICML 2017).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl._checks import check_rank
from jaxdl.graphs.graph import Graph
from jaxdl.typing import Array

REDUCTIONS = ("sum", "mean", "max")


def _check_nodes(nodes: Array, graph: Graph, name: str = "nodes") -> None:
    check_rank(name, nodes, 2)
    if nodes.shape[0] != graph.num_nodes:
        raise ValueError(
            f"{name} must have one row per node slot of the graph ({graph.num_nodes}), "
            f"got shape {tuple(nodes.shape)}"
        )


def aggregate(messages: Array, graph: Graph, reduction: str = "sum") -> Array:
    """Reduce per-edge messages ``[E, F]`` at their receivers -> ``[N, F]``.

    Args:
        messages: ``[E, F]`` one message per edge slot (padding slots are ignored).
        graph: the :class:`Graph` whose receivers index the messages.
        reduction: ``"sum"`` (weighted by the edge weights), ``"mean"`` (the weighted sum
            divided by the weighted in-degree) or ``"max"`` (0 for nodes with no in-edge).

    Returns:
        ``[N, F]`` aggregates.

    Example:
        >>> from jaxdl.graphs import make_graph
        >>> g = make_graph(jnp.ones((3, 1)), jnp.array([0, 1]), jnp.array([2, 2]))
        >>> aggregate(jnp.array([[1.0], [3.0]]), g, "mean")[:, 0].tolist()
        [0.0, 0.0, 2.0]
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    check_rank("messages", messages, 2)
    if messages.shape[0] != graph.num_edges:
        raise ValueError(
            f"messages must have one row per edge slot ({graph.num_edges}), "
            f"got shape {tuple(messages.shape)}"
        )
    n = graph.num_nodes
    weights = jnp.where(graph.edge_mask, graph.weights, 0).astype(messages.dtype)
    if reduction == "max":
        masked = jnp.where(graph.edge_mask[:, None], messages, -jnp.inf)
        out = jax.ops.segment_max(masked, graph.receivers, num_segments=n)
        return jnp.where(jnp.isfinite(out), out, 0)
    total = jax.ops.segment_sum(messages * weights[:, None], graph.receivers, num_segments=n)
    if reduction == "sum":
        return total
    degree = jax.ops.segment_sum(weights, graph.receivers, num_segments=n)
    return total / jnp.maximum(degree, jnp.finfo(messages.dtype).tiny)[:, None]


def propagate(nodes: Array, graph: Graph, reduction: str = "sum") -> Array:
    """One round of neighbour aggregation ``h_v <- reduce_{u -> v} w_uv h_u``.

    With ``reduction="sum"`` this is ``A^T H`` for the dense weighted adjacency (``A H`` for
    an undirected graph), computed with a gather and a segment sum in ``O(E F)``.

    Args:
        nodes: ``[N, F]`` node states.
        graph: the :class:`Graph`.
        reduction: ``"sum"``, ``"mean"`` or ``"max"``.

    Returns:
        ``[N, F]``.

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> propagate(jnp.array([[1.0], [5.0]]), g)[:, 0].tolist()
        [5.0, 1.0]
    """
    _check_nodes(nodes, graph)
    messages = jnp.take(nodes, graph.senders, axis=0, mode="clip")
    return aggregate(messages, graph, reduction)
