"""The graph container: the course's example graph, permutations, batching and buckets."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import pytest
import scipy.linalg

from jaxdl.graphs import (
    Graph,
    batch_graphs,
    bucket_size,
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

# The course's example graph (chapter 11).
COURSE_A = np.array(
    [
        [0, 1, 0, 0, 1],
        [1, 0, 1, 1, 1],
        [0, 1, 0, 1, 0],
        [0, 1, 1, 0, 1],
        [1, 1, 0, 1, 0],
    ],
    np.float32,
)


def test_course_example_graph_degrees_walks_and_round_trip():
    g = from_adjacency(COURSE_A)
    np.testing.assert_array_equal(degrees(g), [2, 4, 2, 3, 3])
    np.testing.assert_array_equal(to_adjacency(g), COURSE_A)
    a2 = count_walks(to_adjacency(g), 2)
    np.testing.assert_array_equal(a2[0], [2, 1, 1, 2, 1])
    # walks of length 3 against NumPy, and A^0 = I
    np.testing.assert_array_equal(
        count_walks(COURSE_A, 3), np.linalg.matrix_power(COURSE_A.astype(int), 3)
    )
    np.testing.assert_array_equal(count_walks(COURSE_A, 0), np.eye(5))


def test_course_example_laplacian_eigenvalues_by_scipy():
    # The definition L = I - D^-1/2 A D^-1/2 on the container's dense view (the library's
    # own Laplacian is tested against this in test_spectral.py).
    a = np.asarray(to_adjacency(from_adjacency(COURSE_A)), np.float64)
    d = a.sum(1)
    lap = np.eye(5) - a / np.sqrt(np.outer(d, d))
    np.testing.assert_allclose(
        scipy.linalg.eigvalsh(lap), [0, 0.7257, 1.1667, 1.5, 1.6076], atol=1e-4
    )


def test_permutation_matches_course_matrix_form():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 3)).astype(np.float32)
    g = from_adjacency(COURSE_A, x)
    perm = np.array([3, 0, 4, 1, 2])
    p = np.asarray(permutation_matrix(perm))
    h = permute_graph(g, perm)
    # features as columns (X is F x N in the course): X' = X P; A' = P^T A P
    np.testing.assert_allclose(np.asarray(h.nodes).T, x.T @ p, rtol=1e-6)
    np.testing.assert_array_equal(to_adjacency(h), p.T @ COURSE_A @ p)
    np.testing.assert_array_equal(degrees(h), np.asarray(degrees(g))[perm])


def test_networkx_conversion_karate():
    k = nx.karate_club_graph()
    g = from_networkx(k)
    a = nx.to_numpy_array(k, weight=None)
    np.testing.assert_array_equal(to_adjacency(g), a)
    assert g.num_edges == 2 * k.number_of_edges()
    directed = from_networkx(nx.DiGraph([(0, 1), (1, 2)]))
    np.testing.assert_array_equal(to_adjacency(directed).sum(), 2)
    weighted = from_networkx(nx.Graph([(0, 1, {"w": 2.5})]), weight="w")
    np.testing.assert_array_equal(weighted.weights, [2.5, 2.5])


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match=r"receivers must hold node indices in \[0, 3\), got -1"):
        make_graph(jnp.ones((3, 2)), jnp.array([0, 1]), jnp.array([1, -1]))
    with pytest.raises(ValueError, match="asymmetric"):
        make_graph(jnp.ones((3, 2)), jnp.array([0]), jnp.array([1]), directed=False)
    with pytest.raises(ValueError, match="not symmetric"):
        from_adjacency(np.triu(COURSE_A))
    with pytest.raises(ValueError, match="receivers must have the length of senders"):
        make_graph(jnp.ones((3, 2)), jnp.array([0, 1]), jnp.array([1]))
    with pytest.raises(ValueError, match=r"nodes must have 5 rows"):
        from_adjacency(COURSE_A, jnp.ones((4, 2)))
    with pytest.raises(ValueError, match="share the node feature size"):
        batch_graphs([from_adjacency(COURSE_A), from_adjacency(COURSE_A, jnp.ones((5, 2)))])
    with pytest.raises(ValueError, match="num_nodes must be >= the total 10"):
        batch_graphs([from_adjacency(COURSE_A)] * 2, num_nodes=8)


def _random_graph(rng, n, p=0.4):
    a = np.triu((rng.random((n, n)) < p).astype(np.float32), 1)
    return from_adjacency(a + a.T, rng.normal(size=(n, 2)).astype(np.float32))


def test_batch_is_block_diagonal_and_merge_stacked_agrees():
    rng = np.random.default_rng(1)
    graphs = [_random_graph(rng, n) for n in (3, 5, 4)]
    batched = batch_graphs(graphs)
    assert isinstance(batched, Graph)
    assert (batched.num_nodes, batched.num_graphs) == (16, 3)
    dense = np.asarray(to_adjacency(batched))
    expected = scipy.linalg.block_diag(*[np.asarray(to_adjacency(g)) for g in graphs])
    np.testing.assert_array_equal(dense[:12, :12], expected)
    assert dense[12:].sum() == 0 and dense[:, 12:].sum() == 0
    np.testing.assert_array_equal(batched.node_graph, [0] * 3 + [1] * 5 + [2] * 4 + [3] * 4)
    np.testing.assert_array_equal(batched.n_node, [3, 5, 4])
    # The stacked form (fit's dataset) merged inside jit gives the same adjacency blocks.
    stacked = stack_graphs(graphs, num_nodes=5, num_edges=16)
    merged = jax.jit(merge_stacked)(stacked)
    blocks = np.asarray(to_adjacency(merged))
    for b, g in enumerate(graphs):
        n = g.num_nodes
        np.testing.assert_array_equal(blocks[5 * b : 5 * b + n, 5 * b : 5 * b + n], to_adjacency(g))
    np.testing.assert_array_equal(merged.node_mask.sum(), 12)
    np.testing.assert_array_equal(merged.node_graph[:6], [0, 0, 0, 3, 3, 1])
    # re-batching a batch keeps the real parts only
    again = batch_graphs([batched])
    np.testing.assert_array_equal(to_adjacency(again), dense)


def test_bucketing_compiles_one_program_per_bucket():
    rng = np.random.default_rng(2)
    sizes = rng.integers(3, 60, size=30)
    batches = [batch_graphs([_random_graph(rng, int(n))]) for n in sizes]
    node_slots = {g.num_nodes for g in batches}
    signatures = {(g.num_nodes, g.num_edges) for g in batches}
    assert len(set(sizes.tolist())) > 20
    assert node_slots <= {16, 32, 64}
    assert len(signatures) <= 10  # a handful of programs for 30 graphs of 20+ sizes
    assert [bucket_size(n) for n in (1, 16, 17, 33)] == [16, 16, 32, 64]
