"""Graph neural networks (course chapter 11): the padded :class:`Graph` container,
message passing, NN4G, the graph Fourier transform and spectral convolution, Chebyshev and
GCN filters, readouts and heads, Scarselli's fixed-point recurrent GNN and the gated GNN.
"""

from jaxdl.graphs.graph import (
    DEFAULT_NODE_BUCKETS,
    Graph,
    batch_graphs,
    bucket_size,
    check_undirected,
    count_walks,
    degrees,
    from_adjacency,
    from_networkx,
    make_graph,
    merge_stacked,
    permutation_matrix,
    permute_graph,
    stack_graphs,
    to_adjacency,
)

__all__ = [
    "DEFAULT_NODE_BUCKETS",
    "Graph",
    "batch_graphs",
    "bucket_size",
    "check_undirected",
    "count_walks",
    "degrees",
    "from_adjacency",
    "from_networkx",
    "make_graph",
    "merge_stacked",
    "permutation_matrix",
    "permute_graph",
    "stack_graphs",
    "to_adjacency",
]
