"""Spectral graph methods against NumPy/SciPy, and the Chebyshev <-> spectral <-> GCN links."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.sparse.csgraph
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.graphs import (
    COURSE_ADJACENCY,
    GCN,
    ChebConv,
    GCNConv,
    SpectralConv,
    chebyshev_polynomial,
    course_example_graph,
    from_adjacency,
    graph_fourier_transform,
    inverse_graph_fourier_transform,
    laplacian_eigenbasis,
    normalized_laplacian,
    permute_graph,
    spectral_convolution,
    to_adjacency,
)
from jaxdl.testing import assert_grads_close
from tests.graphs.helpers import NUM_SLOTS, random_graph, random_permutation


def _weighted_graph(seed=0, n=6):
    rng = np.random.default_rng(seed)
    a = np.triu(rng.uniform(0.5, 2.0, (n, n)) * (rng.random((n, n)) < 0.6), 1)
    a[np.arange(n - 1), np.arange(1, n)] += 1.0
    a = (a + a.T).astype(np.float32)
    return a, from_adjacency(a, rng.normal(size=(n, 2)).astype(np.float32))


def test_laplacian_and_eigenbasis_match_scipy():
    lap = np.asarray(normalized_laplacian(jnp.asarray(COURSE_ADJACENCY)))
    np.testing.assert_allclose(
        lap, scipy.sparse.csgraph.laplacian(COURSE_ADJACENCY, normed=True), atol=1e-6
    )
    basis = laplacian_eigenbasis(course_example_graph())
    np.testing.assert_allclose(basis.eigenvalues, [0, 0.7257, 1.1667, 1.5, 1.6076], atol=1e-4)
    np.testing.assert_allclose(basis.eigenvalues, scipy.linalg.eigvalsh(lap), atol=1e-5)
    u = np.asarray(basis.eigenvectors)
    np.testing.assert_allclose(u @ np.diag(basis.eigenvalues) @ u.T, lap, atol=1e-5)
    # padding nodes: eigenvalue 3, their own eigenspace
    padded = random_graph(0)
    values = np.asarray(laplacian_eigenbasis(padded).eigenvalues)
    np.testing.assert_allclose(values[-2:], [3.0, 3.0], atol=1e-5)
    assert values[:-2].max() <= 2.0 + 1e-5


def test_fourier_transform_round_trip_and_convolution_theorem():
    a, g = _weighted_graph()
    u = np.asarray(laplacian_eigenbasis(g).eigenvectors)
    rng = np.random.default_rng(1)
    x, f = rng.normal(size=6).astype(np.float32), rng.normal(size=6).astype(np.float32)
    x_hat = graph_fourier_transform(u, x)
    np.testing.assert_allclose(x_hat, u.T @ x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(inverse_graph_fourier_transform(u, x_hat), x, atol=1e-5)
    np.testing.assert_allclose(
        spectral_convolution(u, f, x), u @ ((u.T @ f) * (u.T @ x)), atol=1e-5
    )


def test_spectral_conv_matches_numpy_with_the_same_filter():
    _, g = _weighted_graph()
    conv = SpectralConv(features=3)
    params = conv.init(jax.random.key(0), g.nodes, g)
    theta = np.asarray(params["params"]["theta"])
    u = np.asarray(laplacian_eigenbasis(g).eigenvectors, np.float64)
    x = np.asarray(g.nodes, np.float64)
    expected = np.stack(
        [sum(u @ np.diag(theta[:, i, o]) @ u.T @ x[:, i] for i in range(2)) for o in range(3)], 1
    )
    np.testing.assert_allclose(conv.apply(params, g.nodes, g), expected, rtol=1e-4, atol=1e-5)


def test_chebyshev_equals_spectral_filter_and_gcn_first_order():
    a, g = _weighted_graph()
    basis = laplacian_eigenbasis(g)
    u, lam = np.asarray(basis.eigenvectors, np.float64), np.asarray(basis.eigenvalues, np.float64)
    x = np.asarray(g.nodes, np.float64)[:, :1]
    cheb = ChebConv(features=1, order=3, use_bias=False)
    params = cheb.init(jax.random.key(0), g.nodes[:, :1], g)
    coefficients = np.asarray(params["params"]["theta"])[:, 0, 0]
    # a degree-K Chebyshev filter is the spectral filter theta_j = g(lambda_j)
    response = np.asarray(chebyshev_polynomial(jnp.asarray(lam - 1.0), jnp.asarray(coefficients)))
    spectral = u @ np.diag(response) @ u.T @ x
    np.testing.assert_allclose(
        cheb.apply(params, g.nodes[:, :1], g), spectral, rtol=1e-4, atol=1e-5
    )
    # K = 1, theta_0 = -theta_1 = theta: theta (I + D^-1/2 A D^-1/2) x
    tied = {"params": {"theta": jnp.array([[[0.7]], [[-0.7]]])}}
    first = ChebConv(features=1, order=1, use_bias=False).apply(tied, g.nodes[:, :1], g)
    d = a.sum(0)
    s = 1 / np.sqrt(d)
    np.testing.assert_allclose(first, 0.7 * (x + (s[:, None] * a * s[None, :]) @ x), rtol=1e-5)
    # GCN: the renormalized A + I
    gcn = GCNConv(features=2)
    gp = gcn.init(jax.random.key(1), g.nodes, g)
    a_tilde = a + np.eye(6)
    st_ = 1 / np.sqrt(a_tilde.sum(0))
    dense = (
        (st_[:, None] * a_tilde * st_[None, :])
        @ np.asarray(g.nodes)
        @ np.asarray(gp["params"]["linear"]["kernel"])
    )
    np.testing.assert_allclose(gcn.apply(gp, g.nodes, g), dense, rtol=1e-5, atol=1e-6)


def test_layer_gradients_float64():
    _, g = _weighted_graph()
    for module in (ChebConv(features=2, order=2), GCNConv(features=2), SpectralConv(features=2)):
        params = module.init(jax.random.key(0), g.nodes, g)

        def loss(params, nodes, module=module):
            return jnp.sum(jnp.tanh(module.apply(params, nodes, g)) ** 2)

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


_LAYERS = (SpectralConv(features=2), ChebConv(features=2, order=2), GCN(features=(3, 2)))


@jax.jit
def _apply_all(params, graph):
    return [m.apply(p, graph.nodes, graph) for m, p in zip(_LAYERS, params, strict=True)]


@settings(max_examples=5)
@given(st.integers(0, 10**6))
def test_spectral_layers_are_permutation_equivariant(seed):
    g = random_graph(seed, weighted=True)  # distinct eigenvalues (almost surely)
    params = [m.init(jax.random.key(0), g.nodes, g) for m in _LAYERS]
    perm = random_permutation(seed)
    h = permute_graph(g, perm)
    assert h.num_nodes == NUM_SLOTS
    np.testing.assert_array_equal(to_adjacency(h), np.asarray(to_adjacency(g))[perm][:, perm])
    for a, b in zip(_apply_all(params, g), _apply_all(params, h), strict=True):
        np.testing.assert_allclose(b, np.asarray(a)[perm], rtol=1e-4, atol=1e-4)
