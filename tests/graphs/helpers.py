"""Shared pieces of the graph tests: small random padded graphs and permutation checks."""

from __future__ import annotations

import numpy as np

from jaxdl.graphs import batch_graphs, from_adjacency, permute_graph

NUM_SLOTS = 8  # node slots of every test graph: 6 real nodes and 2 padding nodes
EDGE_SLOTS = 32


def random_graph(seed: int, num_nodes: int = 6, features: int = 2, weighted: bool = False):
    """An undirected random graph padded to NUM_SLOTS nodes (fixed shapes: one compile)."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((num_nodes, num_nodes)) < 0.5, 1).astype(np.float32)
    upper[np.arange(num_nodes - 1), np.arange(1, num_nodes)] = 1.0  # connected (a path)
    if weighted:
        upper = upper * rng.uniform(0.5, 2.0, size=upper.shape).astype(np.float32)
    x = rng.normal(size=(num_nodes, features)).astype(np.float32)
    g = from_adjacency(upper + upper.T, x)
    return batch_graphs([g], num_nodes=NUM_SLOTS, num_edges=EDGE_SLOTS, num_graphs=1)


def random_permutation(seed: int, size: int = NUM_SLOTS) -> np.ndarray:
    return np.random.default_rng(seed + 1).permutation(size)


def permuted(graph, permutation):
    return permute_graph(graph, permutation)
