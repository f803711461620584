"""The graph container, its dense views, permutations and bucketed batching.

A :class:`Graph` is a NamedTuple of arrays in the style of jraph: node features, an edge
list ``senders -> receivers``, optional edge features and weights, and the masks and
indices that let many graphs of different sizes share one padded graph of static shape.
An undirected graph stores every edge in both directions (as jraph and PyTorch
Geometric do), so that one message-passing rule serves both kinds; the constructors take
``directed=False`` and check the adjacency is symmetric.

Padding convention: padding nodes and edges carry index ``num_nodes`` (for edges) or
``num_graphs`` (for nodes), one past the end, so that the segment sums of message passing
and readout drop them; their masks are ``False`` and their weights 0.

Reference: Battaglia et al., "Relational inductive biases, deep learning, and graph
networks" (2018); Gilmer et al., "Neural message passing for quantum chemistry" (2017).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_positive_int, check_rank, is_concrete
from jaxdl.typing import Array

DEFAULT_NODE_BUCKETS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384)


def _device(x: Any) -> Array:
    """A host array on the device without compiling a conversion (unlike ``jnp.asarray``)."""
    return jax.device_put(x) if isinstance(x, np.ndarray) else jnp.asarray(x)


class Graph(NamedTuple):
    """A batch of one or more graphs, padded to static shapes (a pytree).

    With ``N`` node slots, ``E`` edge slots and ``G`` graph slots:

    Attributes:
        nodes: node features ``[N, F]``.
        senders: source node of each edge ``[E]`` (int32); ``N`` for padding edges.
        receivers: target node of each edge ``[E]`` (int32); ``N`` for padding edges.
        edges: edge features ``[E, D]``, or ``None``.
        weights: edge weights ``[E]`` (1 for an unweighted edge, 0 for padding).
        node_mask: ``[N]`` bool, ``True`` for real nodes.
        edge_mask: ``[E]`` bool, ``True`` for real edges.
        node_graph: graph index of each node ``[N]`` (int32); ``G`` for padding nodes.
        n_node: number of real nodes of each graph ``[G]`` (int32; 0 for padding graphs).
        graph_mask: ``[G]`` bool, ``True`` for real graphs.

    Example:
        >>> g = from_adjacency(jnp.ones((3, 3)) - jnp.eye(3))
        >>> g.nodes.shape, g.senders.shape, int(g.n_node[0])
        ((3, 1), (6,), 3)
    """

    nodes: Array
    senders: Array
    receivers: Array
    edges: Array | None
    weights: Array
    node_mask: Array
    edge_mask: Array
    node_graph: Array
    n_node: Array
    graph_mask: Array

    @property
    def num_nodes(self) -> int:
        """Node slots ``N`` (static)."""
        return int(self.nodes.shape[0])

    @property
    def num_edges(self) -> int:
        """Edge slots ``E`` (static)."""
        return int(self.senders.shape[0])

    @property
    def num_graphs(self) -> int:
        """Graph slots ``G`` (static)."""
        return int(self.n_node.shape[0])


def make_graph(
    nodes: Any,
    senders: Any,
    receivers: Any,
    *,
    edges: Any = None,
    weights: Any = None,
    directed: bool = True,
) -> Graph:
    """One graph from node features and an edge list, checked.

    With ``directed=False`` the edge list must already hold both directions of every edge
    with equal weights (use :func:`from_adjacency` or :func:`from_networkx` to build one
    from an undirected description); an edge without its reverse raises.

    Args:
        nodes: node features ``[N, F]`` (or ``[N]``, taken as one feature).
        senders: ``[E]`` integer source indices in ``[0, N)``.
        receivers: ``[E]`` integer target indices in ``[0, N)``.
        edges: optional edge features ``[E, D]``.
        weights: optional edge weights ``[E]`` (default 1).
        directed: ``False`` checks the edge list is symmetric.

    Returns:
        A :class:`Graph` with one graph slot and no padding.

    Raises:
        ValueError: indices out of range, mismatched lengths, or an asymmetric edge list
            declared undirected.

    Example:
        >>> g = make_graph(jnp.ones((3, 2)), jnp.array([0, 1]), jnp.array([1, 2]))
        >>> g.num_nodes, g.num_edges, g.num_graphs
        (3, 2, 1)
        >>> make_graph(jnp.ones((3, 2)), jnp.array([0, 3]), jnp.array([1, 2]))
        Traceback (most recent call last):
        ...
        ValueError: senders must hold node indices in [0, 3), got 3 at edge 1
    """
    concrete = all(is_concrete(v) for v in (nodes, senders, receivers, edges, weights))
    xp = np if concrete else jnp  # host-side construction compiles nothing
    nodes = xp.asarray(nodes)
    if nodes.ndim == 1:
        nodes = nodes[:, None]
    check_rank("nodes", nodes, 2)
    senders = xp.asarray(senders).astype(np.int32)
    receivers = xp.asarray(receivers).astype(np.int32)
    check_rank("senders", senders, 1)
    check_rank("receivers", receivers, 1)
    num_nodes, num_edges = nodes.shape[0], senders.shape[0]
    if receivers.shape[0] != num_edges:
        raise ValueError(
            f"receivers must have the length of senders ({num_edges}), got {receivers.shape[0]}"
        )
    if concrete and num_edges:
        for name, values in (("senders", senders), ("receivers", receivers)):
            bad = np.flatnonzero((values < 0) | (values >= num_nodes))
            if bad.size:
                raise ValueError(
                    f"{name} must hold node indices in [0, {num_nodes}), got "
                    f"{values[bad[0]]} at edge {bad[0]}"
                )
    if weights is None:
        dtype = nodes.dtype if np.issubdtype(nodes.dtype, np.floating) else np.float32
        weights = xp.ones((num_edges,), dtype)
    weights = xp.asarray(weights)
    if weights.shape != (num_edges,):
        raise ValueError(f"weights must have shape ({num_edges},), got {weights.shape}")
    if edges is not None:
        edges = xp.asarray(edges)
        if edges.ndim == 1:
            edges = edges[:, None]
        if edges.ndim != 2 or edges.shape[0] != num_edges:
            raise ValueError(f"edges must have shape ({num_edges}, D), got {edges.shape}")
    if not directed and concrete:
        _check_symmetric_edges(num_nodes, senders, receivers, weights)
    return Graph(
        nodes=_device(nodes),
        senders=_device(senders),
        receivers=_device(receivers),
        edges=None if edges is None else _device(edges),
        weights=_device(weights),
        node_mask=_device(np.ones((num_nodes,), bool)),
        edge_mask=_device(np.ones((num_edges,), bool)),
        node_graph=_device(np.zeros((num_nodes,), np.int32)),
        n_node=_device(np.array([num_nodes], np.int32)),
        graph_mask=_device(np.ones((1,), bool)),
    )


def _dense(num_nodes: int, senders: Any, receivers: Any, weights: Any) -> np.ndarray:
    a = np.zeros((num_nodes + 1, num_nodes + 1), np.float64)
    np.add.at(a, (np.asarray(senders), np.asarray(receivers)), np.asarray(weights, np.float64))
    return a[:num_nodes, :num_nodes]


def _check_symmetric_edges(num_nodes, senders, receivers, weights, atol=1e-6) -> None:
    a = _dense(num_nodes, senders, receivers, weights)
    diff = np.abs(a - a.T)
    scale = max(1.0, float(np.max(np.abs(a))) if a.size else 1.0)
    if diff.size and diff.max() > atol * scale:
        i, j = np.unravel_index(np.argmax(diff), diff.shape)
        raise ValueError(
            "graph declared undirected but its adjacency is asymmetric: "
            f"A[{i}, {j}] = {a[i, j]} while A[{j}, {i}] = {a[j, i]} "
            "(store both directions of every edge)"
        )


def check_undirected(graph: Graph, *, atol: float = 1e-6) -> None:
    """Raise unless the (concrete) weighted adjacency of ``graph`` is symmetric.

    Args:
        graph: a :class:`Graph`.
        atol: tolerance on ``|A - A^T|``, scaled by the largest weight.

    Raises:
        ValueError: naming an edge whose reverse is missing or differs.

    Example:
        >>> check_undirected(make_graph(jnp.ones((2, 1)), jnp.array([0, 1]), jnp.array([1, 0])))
        >>> check_undirected(make_graph(jnp.ones((2, 1)), jnp.array([0]), jnp.array([1])))
        Traceback (most recent call last):
        ...
        ValueError: graph declared undirected but its adjacency is asymmetric: ...
    """
    if not is_concrete(graph.weights):
        return
    weights = np.where(np.asarray(graph.edge_mask), np.asarray(graph.weights), 0)
    _check_symmetric_edges(graph.num_nodes, graph.senders, graph.receivers, weights, atol)


def from_adjacency(
    adjacency: Any, nodes: Any = None, *, directed: bool = False, edges_from: str = "nonzero"
) -> Graph:
    """A graph from a dense (weighted) adjacency matrix ``A[m, n]`` (edge ``m -> n``).

    Args:
        adjacency: ``[N, N]``; every nonzero entry becomes an edge with that weight.
        nodes: node features ``[N, F]``; default the constant feature 1 (``[N, 1]``).
        directed: ``False`` (the default) checks ``A`` is symmetric.
        edges_from: only ``"nonzero"`` is supported (kept explicit for readers).

    Returns:
        A :class:`Graph` whose edge list holds every nonzero ``A[m, n]``, in row order.

    Example:
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> g.senders.tolist(), g.receivers.tolist()
        ([0, 1], [1, 0])
        >>> from_adjacency(jnp.array([[0.0, 1.0], [0.0, 0.0]]))
        Traceback (most recent call last):
        ...
        ValueError: adjacency declared undirected (directed=False) is not symmetric: A[0, 1] = ...
    """
    if edges_from != "nonzero":
        raise ValueError(f"edges_from must be 'nonzero', got {edges_from!r}")
    a = np.asarray(adjacency)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be a square [N, N] matrix, got shape {a.shape}")
    if not directed:
        asym = np.abs(a - a.T)
        if asym.size and asym.max() > 1e-6 * max(1.0, float(np.abs(a).max())):
            i, j = np.unravel_index(np.argmax(asym), a.shape)
            raise ValueError(
                "adjacency declared undirected (directed=False) is not symmetric: "
                f"A[{i}, {j}] = {a[i, j]} but A[{j}, {i}] = {a[j, i]}"
            )
    senders, receivers = np.nonzero(a)
    n = a.shape[0]
    if nodes is None:
        nodes = np.ones((n, 1), np.float32)
    nodes = np.asarray(nodes)
    if nodes.shape[0] != n:
        raise ValueError(f"nodes must have {n} rows like adjacency, got shape {nodes.shape}")
    weights = np.asarray(a[senders, receivers], np.float32)
    return make_graph(nodes, senders, receivers, weights=weights, directed=True)


COURSE_ADJACENCY = np.array(
    [[0, 1, 0, 0, 1], [1, 0, 1, 1, 1], [0, 1, 0, 1, 0], [0, 1, 1, 0, 1], [1, 1, 0, 1, 0]],
    np.float32,
)
"""The course's five-node example graph (chapter 11): degrees 2, 4, 2, 3, 3."""


def course_example_graph(nodes: Any = None) -> Graph:
    """The course's example graph (chapter 11) as an undirected :class:`Graph`.

    Its degrees are 2, 4, 2, 3, 3; row 0 of ``A^2`` is 2, 1, 1, 2, 1; the eigenvalues of
    ``L = I - D^-1/2 A D^-1/2`` are 0, 0.7257, 1.1667, 1.5, 1.6076.

    Args:
        nodes: node features ``[5, F]``; default the constant feature 1.

    Example:
        >>> degrees(course_example_graph()).tolist()
        [2.0, 4.0, 2.0, 3.0, 3.0]
    """
    return from_adjacency(COURSE_ADJACENCY, nodes)


def from_networkx(
    nx_graph: Any, *, node_features: str | None = None, weight: str | None = None
) -> Graph:
    """Convert a networkx graph (nodes relabelled ``0..N-1`` in iteration order).

    Args:
        nx_graph: a ``networkx.Graph`` (undirected: both directions stored) or ``DiGraph``.
        node_features: a node attribute holding a number or a vector; default the constant 1.
        weight: an edge attribute to use as weight; default 1 for every edge.

    Returns:
        A :class:`Graph`.

    Example:
        >>> import networkx as nx
        >>> g = from_networkx(nx.path_graph(3))
        >>> g.num_nodes, g.num_edges
        (3, 4)
    """
    order = list(nx_graph.nodes())
    index = {node: i for i, node in enumerate(order)}
    senders, receivers, weights = [], [], []
    for u, v, data in nx_graph.edges(data=True):
        w = float(data.get(weight, 1.0)) if weight is not None else 1.0
        senders.append(index[u])
        receivers.append(index[v])
        weights.append(w)
        if not nx_graph.is_directed() and u != v:
            senders.append(index[v])
            receivers.append(index[u])
            weights.append(w)
    if node_features is None:
        nodes = np.ones((len(order), 1), np.float32)
    else:
        nodes = np.asarray(
            [np.atleast_1d(nx_graph.nodes[n][node_features]) for n in order], np.float32
        )
    return make_graph(
        nodes,
        np.asarray(senders, np.int32),
        np.asarray(receivers, np.int32),
        weights=np.asarray(weights, np.float32),
        directed=True,
    )


def to_adjacency(graph: Graph) -> Array:
    """The dense weighted adjacency ``A[m, n] = sum of weights of edges m -> n`` ``[N, N]``.

    Padding edges (index ``N``) are dropped.

    Example:
        >>> g = make_graph(jnp.ones((3, 1)), jnp.array([0, 1]), jnp.array([1, 2]))
        >>> to_adjacency(g).tolist()
        [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]
    """
    n = graph.num_nodes
    weights = jnp.where(graph.edge_mask, graph.weights, 0)
    return (
        jnp.zeros((n, n), weights.dtype)
        .at[graph.senders, graph.receivers]
        .add(weights, mode="drop")
    )


def degrees(graph: Graph) -> Array:
    """Weighted in-degree of each node ``d_v = sum_u A[u, v]`` ``[N]`` (= degree if undirected).

    Example:
        >>> degrees(from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))).tolist()
        [1.0, 1.0]
    """
    weights = jnp.where(graph.edge_mask, graph.weights, 0)
    return jax.ops.segment_sum(weights, graph.receivers, num_segments=graph.num_nodes)


def count_walks(adjacency: Array, length: int) -> Array:
    """Walk counts ``A^k``: entry ``(m, n)`` is the number of walks of length ``k`` from m to n.

    Args:
        adjacency: ``[N, N]`` (0/1 for counts; weights give weighted walk sums).
        length: ``k >= 0`` (``A^0 = I``).

    Returns:
        ``A^k`` ``[N, N]``.

    Example:
        >>> a = jnp.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
        >>> count_walks(a, 2)[0].tolist()  # two closed walks, one walk to each other node
        [2.0, 1.0, 1.0]
    """
    check_positive_int("length", length, allow_zero=True)
    adjacency = jnp.asarray(adjacency)
    return jnp.linalg.matrix_power(adjacency, length)


def permutation_matrix(permutation: Any) -> Array:
    """The matrix ``P`` with ``P[permutation[i], i] = 1``, so that ``(x P)_i = x_{perm[i]}``.

    Example:
        >>> permutation_matrix(jnp.array([1, 0])).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
    """
    perm = jnp.asarray(permutation)
    n = perm.shape[0]
    return jnp.zeros((n, n)).at[perm, jnp.arange(n)].set(1.0)


def permute_graph(graph: Graph, permutation: Any) -> Graph:
    """Relabel the nodes: new node ``i`` is old node ``permutation[i]``.

    In matrix form (features as columns, as in the course) this is ``X' = X P`` and
    ``A' = P^T A P`` with ``P = permutation_matrix(permutation)``; here nodes are rows, so
    ``nodes' = P^T nodes``. The edge list keeps its order with relabelled endpoints.

    Args:
        graph: a :class:`Graph` (padding nodes may be permuted too).
        permutation: ``[N]`` a permutation of ``0..N-1``.

    Returns:
        The same graph under new node labels.

    Example:
        >>> g = make_graph(jnp.arange(3.0), jnp.array([0]), jnp.array([2]))
        >>> h = permute_graph(g, jnp.array([2, 0, 1]))
        >>> h.nodes[:, 0].tolist(), h.senders.tolist(), h.receivers.tolist()
        ([2.0, 0.0, 1.0], [1], [0])
    """
    perm = jnp.asarray(permutation, jnp.int32)
    n = graph.num_nodes
    if perm.shape != (n,):
        raise ValueError(f"permutation must have shape ({n},), got {perm.shape}")
    if is_concrete(perm) and sorted(np.asarray(perm).tolist()) != list(range(n)):
        raise ValueError(f"permutation must be a permutation of 0..{n - 1}, got {perm}")
    inverse = jnp.zeros((n + 1,), jnp.int32).at[perm].set(jnp.arange(n, dtype=jnp.int32))
    inverse = inverse.at[n].set(n)  # padding index stays padding
    return graph._replace(
        nodes=graph.nodes[perm],
        senders=inverse[graph.senders],
        receivers=inverse[graph.receivers],
        node_mask=graph.node_mask[perm],
        node_graph=graph.node_graph[perm],
    )


def bucket_size(size: int, buckets: Sequence[int] = DEFAULT_NODE_BUCKETS) -> int:
    """The smallest bucket ``>= size`` (sizes beyond the last bucket round to a power of 2).

    Example:
        >>> bucket_size(20), bucket_size(16), bucket_size(40000)
        (32, 16, 65536)
    """
    for bucket in sorted(buckets):
        if size <= bucket:
            return int(bucket)
    return int(2 ** int(np.ceil(np.log2(max(size, 1)))))


def batch_graphs(
    graphs: Sequence[Graph],
    *,
    num_nodes: int | None = None,
    num_edges: int | None = None,
    num_graphs: int | None = None,
    buckets: Sequence[int] = DEFAULT_NODE_BUCKETS,
) -> Graph:
    """Merge graphs into one padded graph with static, bucketed shapes (host side).

    Node, edge and graph slots default to :func:`bucket_size` of the totals (at least one
    slot more than the real nodes is not required: padding uses out-of-range indices), so
    that a dataset of graphs of many sizes compiles a handful of programs, one per
    bucket, rather than one per size.

    Args:
        graphs: single or already batched :class:`Graph` values (same feature sizes).
        num_nodes, num_edges, num_graphs: explicit slot counts (must fit the totals).
        buckets: the bucket sizes for nodes and edges.

    Returns:
        One :class:`Graph` with ``node_graph`` giving each node's graph.

    Example:
        >>> a = make_graph(jnp.ones((2, 1)), jnp.array([0]), jnp.array([1]))
        >>> b = make_graph(jnp.ones((3, 1)), jnp.array([0, 2]), jnp.array([1, 1]))
        >>> g = batch_graphs([a, b])
        >>> g.num_nodes, g.num_edges, g.num_graphs, g.n_node.tolist()[:2]
        (16, 16, 2, [2, 3])
        >>> g.receivers.tolist()[:3], g.node_graph.tolist()[:6]
        ([1, 3, 3], [0, 0, 1, 1, 1, 2])
    """
    if not graphs:
        raise ValueError("graphs must hold at least one graph, got an empty sequence")
    feature_shapes = {tuple(g.nodes.shape[1:]) for g in graphs}
    if len(feature_shapes) != 1:
        raise ValueError(f"graphs must share the node feature size, got {sorted(feature_shapes)}")
    has_edges = {g.edges is not None for g in graphs}
    if len(has_edges) != 1:
        raise ValueError("graphs must all have edge features or all have none")
    nodes_l, send_l, recv_l, edge_l, weight_l, graph_l, count_l = [], [], [], [], [], [], []
    node_offset = graph_offset = 0
    for g in graphs:
        mask = np.asarray(g.node_mask)
        emask = np.asarray(g.edge_mask)
        gmask = np.asarray(g.graph_mask)
        # keep only real nodes / edges / graphs; their indices are compacted
        keep = np.flatnonzero(mask)
        remap = np.full(g.num_nodes + 1, -1, np.int64)
        remap[keep] = np.arange(keep.size)
        real_graphs = np.flatnonzero(gmask)
        gremap = np.full(g.num_graphs + 1, -1, np.int64)
        gremap[real_graphs] = np.arange(real_graphs.size)
        nodes_l.append(np.asarray(g.nodes)[keep])
        send_l.append(remap[np.asarray(g.senders)[emask]] + node_offset)
        recv_l.append(remap[np.asarray(g.receivers)[emask]] + node_offset)
        if g.edges is not None:
            edge_l.append(np.asarray(g.edges)[emask])
        weight_l.append(np.asarray(g.weights)[emask])
        graph_l.append(gremap[np.asarray(g.node_graph)[keep]] + graph_offset)
        count_l.append(np.asarray(g.n_node)[real_graphs])
        node_offset += keep.size
        graph_offset += real_graphs.size
    total_edges = sum(s.size for s in send_l)
    n = bucket_size(node_offset, buckets) if num_nodes is None else num_nodes
    e = bucket_size(max(total_edges, 1), buckets) if num_edges is None else num_edges
    k = graph_offset if num_graphs is None else num_graphs
    for name, slots, total in (
        ("num_nodes", n, node_offset),
        ("num_edges", e, total_edges),
        ("num_graphs", k, graph_offset),
    ):
        if slots < total:
            raise ValueError(f"{name} must be >= the total {total} of the graphs, got {slots}")
    nodes = np.zeros((n, *graphs[0].nodes.shape[1:]), np.asarray(graphs[0].nodes).dtype)
    nodes[:node_offset] = np.concatenate(nodes_l)
    senders = np.full((e,), n, np.int32)
    receivers = np.full((e,), n, np.int32)
    senders[:total_edges] = np.concatenate(send_l)
    receivers[:total_edges] = np.concatenate(recv_l)
    weights = np.zeros((e,), np.asarray(graphs[0].weights).dtype)
    weights[:total_edges] = np.concatenate(weight_l)
    edges = None
    if graphs[0].edges is not None:
        edges = np.zeros((e, *graphs[0].edges.shape[1:]), np.asarray(graphs[0].edges).dtype)
        edges[:total_edges] = np.concatenate(edge_l)
    node_graph = np.full((n,), k, np.int32)
    node_graph[:node_offset] = np.concatenate(graph_l)
    n_node = np.zeros((k,), np.int32)
    n_node[:graph_offset] = np.concatenate(count_l)
    return Graph(
        nodes=_device(nodes),
        senders=_device(senders),
        receivers=_device(receivers),
        edges=None if edges is None else _device(edges),
        weights=_device(weights),
        node_mask=_device(np.arange(n) < node_offset),
        edge_mask=_device(np.arange(e) < total_edges),
        node_graph=_device(node_graph),
        n_node=_device(n_node),
        graph_mask=_device(np.arange(k) < graph_offset),
    )


def stack_graphs(
    graphs: Sequence[Graph],
    *,
    num_nodes: int | None = None,
    num_edges: int | None = None,
    buckets: Sequence[int] = DEFAULT_NODE_BUCKETS,
) -> Graph:
    """Pad each graph to the same slots and stack them on a new leading axis (host side).

    The result is a dataset ``fit`` can slice into minibatches (every leaf has the leading
    example axis); :func:`merge_stacked` turns a minibatch into one graph inside jit.

    Args:
        graphs: single graphs.
        num_nodes, num_edges: slots per graph; default the bucket of the largest graph.
        buckets: the bucket sizes.

    Returns:
        A :class:`Graph` whose leaves have a leading axis ``[B, ...]``.

    Example:
        >>> a = make_graph(jnp.ones((2, 1)), jnp.array([0]), jnp.array([1]))
        >>> s = stack_graphs([a, a], num_nodes=4, num_edges=2)
        >>> s.nodes.shape, s.senders.tolist()
        ((2, 4, 1), [[0, 4], [0, 4]])
    """
    n = num_nodes or bucket_size(max(g.num_nodes for g in graphs), buckets)
    e = num_edges or bucket_size(max(max(g.num_edges for g in graphs), 1), buckets)
    padded = [batch_graphs([g], num_nodes=n, num_edges=e, num_graphs=1) for g in graphs]
    return jax.tree.map(lambda *leaves: _device(np.stack(leaves)), *padded)


def merge_stacked(stacked: Graph) -> Graph:
    """One graph from a stack ``[B, ...]`` of single padded graphs (jittable, no copy of data).

    Node indices are offset by ``b * N`` and graph indices by ``b``; padding indices stay
    one past the end of the merged graph.

    Example:
        >>> a = make_graph(jnp.ones((2, 1)), jnp.array([0]), jnp.array([1]))
        >>> g = merge_stacked(stack_graphs([a, a], num_nodes=2, num_edges=2))
        >>> g.senders.tolist(), g.node_graph.tolist(), g.num_graphs
        ([0, 4, 2, 4], [0, 0, 1, 1], 2)
    """
    b, n = stacked.nodes.shape[:2]
    offsets = jnp.arange(b, dtype=jnp.int32)[:, None] * n

    def shift(index: Array, pad: int, offset: Array, total: int) -> Array:
        return jnp.where(index >= pad, total, index + offset).reshape(-1)

    return Graph(
        nodes=stacked.nodes.reshape(b * n, *stacked.nodes.shape[2:]),
        senders=shift(stacked.senders, n, offsets, b * n),
        receivers=shift(stacked.receivers, n, offsets, b * n),
        edges=None
        if stacked.edges is None
        else stacked.edges.reshape(-1, *stacked.edges.shape[2:]),
        weights=stacked.weights.reshape(-1),
        node_mask=stacked.node_mask.reshape(-1),
        edge_mask=stacked.edge_mask.reshape(-1),
        node_graph=shift(stacked.node_graph, 1, jnp.arange(b, dtype=jnp.int32)[:, None], b),
        n_node=stacked.n_node.reshape(-1),
        graph_mask=stacked.graph_mask.reshape(-1),
    )
