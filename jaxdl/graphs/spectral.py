"""The graph Fourier transform, spectral convolution, and its Chebyshev and GCN approximations.

With the normalized Laplacian ``L = I - D^-1/2 A D^-1/2 = U Lambda U^T`` (eigenvalues in
``[0, 2]``), a signal ``x`` on the nodes has the graph Fourier transform ``x_hat = U^T x``
and ``x = U x_hat``. Spectral convolution with a filter ``f`` multiplies transforms,
``y = f *_G x = U((U^T f) * (U^T x))``; a learnable filter sets ``U^T f = theta``
directly (Bruna et al. 2014). A filter that is a polynomial of degree ``K`` in the
eigenvalues, ``g(lambda) = sum_k theta_k T_k(2 lambda / lambda_max - 1)``, needs no
eigenvectors: ``U g(Lambda) U^T x = sum_k theta_k T_k(L~) x`` with the Chebyshev recurrence
(Defferrard et al. 2016). With ``K = 1``, ``lambda_max = 2`` and ``theta_0 = -theta_1``
it is ``theta (I + D^-1/2 A D^-1/2) x``; the renormalization ``A~ = A + I`` gives the GCN
layer ``D~^-1/2 A~ D~^-1/2 X W`` (Kipf and Welling 2017).

Padding nodes of a padded graph get the eigenvalue 3 (outside ``[0, 2]``) so that they form
their own eigenspace, sorted after the real spectrum, and never mix with real nodes.

Reference: Bruna et al., "Spectral networks and locally connected networks on graphs" (ICLR
2014); Defferrard et al., "Convolutional neural networks on graphs with fast localized
spectral filtering" (NeurIPS 2016); Kipf and Welling, "Semi-supervised classification with
graph convolutional networks" (ICLR 2017).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int, check_rank
from jaxdl.graphs.graph import Graph, course_example_graph, degrees, to_adjacency
from jaxdl.graphs.message_passing import _check_nodes, propagate
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

PADDING_EIGENVALUE = 3.0


def _inverse_sqrt(d: Array) -> Array:
    return jnp.where(d > 0, jax.lax.rsqrt(jnp.maximum(d, jnp.finfo(d.dtype).tiny)), 0)


def normalized_laplacian(adjacency: Array, node_mask: Array | None = None) -> Array:
    """``L = I - D^-1/2 A D^-1/2`` ``[N, N]`` (isolated nodes: ``L_vv = 1``).

    Args:
        adjacency: ``[N, N]`` symmetric weighted adjacency.
        node_mask: optional ``[N]`` bool; padding nodes get ``L_vv = 3`` (an eigenvalue
            outside the spectrum ``[0, 2]`` of the real graph) and no off-diagonal entries.

    Returns:
        ``[N, N]``.

    Example:
        >>> normalized_laplacian(jnp.array([[0.0, 1.0], [1.0, 0.0]])).tolist()
        [[1.0, -1.0], [-1.0, 1.0]]
    """
    check_rank("adjacency", adjacency, 2)
    if adjacency.shape[0] != adjacency.shape[1]:
        raise ValueError(f"adjacency must be square [N, N], got {tuple(adjacency.shape)}")
    n = adjacency.shape[0]
    s = _inverse_sqrt(jnp.sum(adjacency, axis=0))
    lap = jnp.eye(n, dtype=adjacency.dtype) - s[:, None] * adjacency * s[None, :]
    if node_mask is not None:
        pad = jnp.logical_not(node_mask)
        lap = jnp.where(pad[:, None] | pad[None, :], 0, lap)
        lap = lap + jnp.diag(jnp.where(pad, PADDING_EIGENVALUE, 0).astype(lap.dtype))
    return lap


class Eigenbasis(NamedTuple):
    """The graph Fourier basis: ``L = U diag(eigenvalues) U^T``.

    Attributes:
        eigenvalues: ``[N]`` ascending (padding nodes: 3).
        eigenvectors: ``U`` ``[N, N]`` with orthonormal columns.
    """

    eigenvalues: Array
    eigenvectors: Array


def laplacian_eigenbasis(graph: Graph) -> Eigenbasis:
    """The eigendecomposition of the normalized Laplacian of ``graph`` (dense, ``O(N^3)``).

    Example:
        >>> from jaxdl.graphs import course_example_graph
        >>> basis = laplacian_eigenbasis(course_example_graph())
        >>> [round(float(v), 4) for v in basis.eigenvalues]
        [0.0, 0.7257, 1.1667, 1.5, 1.6076]
    """
    lap = normalized_laplacian(to_adjacency(graph), graph.node_mask)
    eigenvalues, eigenvectors = jnp.linalg.eigh(lap)
    return Eigenbasis(eigenvalues, eigenvectors)


def graph_fourier_transform(eigenvectors: Array, x: Array) -> Array:
    """``x_hat = U^T x`` (``x`` ``[N]`` or ``[N, F]``).

    Example:
        >>> u = jnp.array([[1.0, 1.0], [1.0, -1.0]]) / jnp.sqrt(2.0)
        >>> [round(float(v), 4) for v in graph_fourier_transform(u, jnp.array([1.0, 1.0]))]
        [1.4142, 0.0]
    """
    return eigenvectors.T @ x


def inverse_graph_fourier_transform(eigenvectors: Array, x_hat: Array) -> Array:
    """``x = U x_hat``.

    Example:
        >>> u = jnp.array([[1.0, 1.0], [1.0, -1.0]]) / jnp.sqrt(2.0)
        >>> [round(float(v), 4) for v in inverse_graph_fourier_transform(u, jnp.array([1.0, 0.0]))]
        [0.7071, 0.7071]
    """
    return eigenvectors @ x_hat


def spectral_convolution(eigenvectors: Array, f: Array, x: Array) -> Array:
    """``f *_G x = U((U^T f) * (U^T x))`` for signals ``f, x`` ``[N]`` (or ``[N, F]``).

    Example:
        >>> u = jnp.eye(2)  # the trivial basis: the product is elementwise
        >>> spectral_convolution(u, jnp.array([2.0, 3.0]), jnp.array([1.0, 1.0])).tolist()
        [2.0, 3.0]
    """
    return eigenvectors @ (graph_fourier_transform(eigenvectors, f) * (eigenvectors.T @ x))


class SpectralConv(nn.Module):
    """Spectral graph convolution with a learnable filter per frequency (Bruna et al. 2014).

    ``y_o = sum_i U diag(theta_{:, i, o}) U^T x_i`` for every output channel ``o``: the filter
    spectrum ``theta`` ``[N, F, H]`` has one value per eigenvector, so the layer is tied to
    the node count ``N`` (the padded size) and eigendecomposes the graph's Laplacian.

    Attributes:
        features: output channels ``H``.
        use_bias: add a bias per output channel.

    Example:
        >>> g = course_example_graph()
        >>> conv = SpectralConv(features=3)
        >>> params = conv.init(jax.random.key(0), jnp.ones((5, 2)), g)
        >>> params["params"]["theta"].shape, conv.apply(params, jnp.ones((5, 2)), g).shape
        ((5, 2, 3), (5, 3))
    """

    features: int
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: Array, graph: Graph) -> Array:
        _check_nodes(x, graph, "x")
        n, f = x.shape
        theta = self.param(
            "theta", nn.initializers.normal(1.0 / jnp.sqrt(f)), (n, f, self.features)
        )
        u = jax.lax.stop_gradient(laplacian_eigenbasis(graph).eigenvectors).astype(x.dtype)
        x_hat = u.T @ x  # [N, F]
        y_hat = jnp.einsum("kf,kfh->kh", x_hat, theta.astype(x.dtype))
        y = u @ y_hat
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))[None, :].astype(
                x.dtype
            )
        return jnp.where(graph.node_mask[:, None], y, 0)


def scaled_laplacian_apply(x: Array, graph: Graph, lambda_max: float = 2.0) -> Array:
    """``L~ x = (2 / lambda_max) L x - x`` with ``L`` the normalized Laplacian, sparse.

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> scaled_laplacian_apply(jnp.array([[1.0], [0.0]]), g)[:, 0].tolist()
        [0.0, -1.0]
    """
    s = _inverse_sqrt(degrees(graph)).astype(x.dtype)[:, None]
    lap_x = x - s * propagate(s * x, graph, "sum")
    lap_x = jnp.where(graph.node_mask[:, None], lap_x, 0)
    return (2.0 / lambda_max) * lap_x - x


def chebyshev_basis(x: Array, graph: Graph, order: int, lambda_max: float = 2.0) -> Array:
    """``[T_0(L~) x, ..., T_K(L~) x]`` ``[K+1, N, F]`` by ``T_k = 2 L~ T_{k-1} - T_{k-2}``.

    Example:
        >>> from jaxdl.graphs import course_example_graph
        >>> chebyshev_basis(jnp.ones((5, 1)), course_example_graph(), 2).shape
        (3, 5, 1)
    """
    check_positive_int("order", order, allow_zero=True)
    terms = [x]
    if order >= 1:
        terms.append(scaled_laplacian_apply(x, graph, lambda_max))
    for _ in range(2, order + 1):  # static unroll over the polynomial degree
        terms.append(2 * scaled_laplacian_apply(terms[-1], graph, lambda_max) - terms[-2])
    return jnp.stack(terms)


def chebyshev_polynomial(values: Array, coefficients: Array) -> Array:
    """``g(t) = sum_k c_k T_k(t)`` evaluated elementwise (the filter's spectral response).

    Example:
        >>> chebyshev_polynomial(jnp.array([0.5]), jnp.array([0.0, 0.0, 1.0])).tolist()
        [-0.5]
    """
    t_prev, t = jnp.ones_like(values), values
    total = coefficients[0] * t_prev
    for k in range(1, coefficients.shape[0]):
        total = total + coefficients[k] * t
        t_prev, t = t, 2 * values * t - t_prev
    return total


class ChebConv(nn.Module):
    """Chebyshev spectral filter ``y = sum_{k=0}^K T_k(L~) x Theta_k`` (Defferrard et al. 2016).

    A polynomial of degree ``K`` in the Laplacian: ``K``-hop localized, no eigenvectors, and
    for one channel the same as :class:`SpectralConv` with
    ``theta_j = sum_k Theta_k T_k(2 lambda_j / lambda_max - 1)``.

    Attributes:
        features: output channels.
        order: the degree ``K``.
        lambda_max: the spectrum's bound used for scaling (2 for the normalized Laplacian).

    Example:
        >>> g = course_example_graph()
        >>> conv = ChebConv(features=3, order=2)
        >>> conv.apply(conv.init(jax.random.key(0), jnp.ones((5, 2)), g), jnp.ones((5, 2)), g).shape
        (5, 3)
    """

    features: int
    order: int = 2
    lambda_max: float = 2.0
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: Array, graph: Graph) -> Array:
        _check_nodes(x, graph, "x")
        basis = chebyshev_basis(x, graph, self.order, self.lambda_max)  # [K+1, N, F]
        f = x.shape[1]
        theta = self.param(
            "theta",
            nn.initializers.lecun_normal(in_axis=(0, 1), out_axis=2),
            (self.order + 1, f, self.features),
        )
        y = jnp.einsum("knf,kfh->nh", basis, theta.astype(x.dtype))
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))[None, :].astype(
                x.dtype
            )
        return jnp.where(graph.node_mask[:, None], y, 0)


def gcn_propagate(x: Array, graph: Graph) -> Array:
    """``D~^-1/2 (A + I) D~^-1/2 x`` with ``D~ = D + I`` (the renormalization trick), sparse.

    Example:
        >>> from jaxdl.graphs import from_adjacency
        >>> g = from_adjacency(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> gcn_propagate(jnp.array([[2.0], [0.0]]), g)[:, 0].round(3).tolist()
        [1.0, 1.0]
    """
    _check_nodes(x, graph, "x")
    s = jax.lax.rsqrt(degrees(graph) + 1.0).astype(x.dtype)[:, None]
    y = s * (propagate(s * x, graph, "sum") + s * x)
    return jnp.where(graph.node_mask[:, None], y, 0)


class GCNConv(nn.Module):
    """Graph convolutional layer ``H' = D~^-1/2 (A + I) D~^-1/2 H W + b`` (Kipf & Welling).

    The first-order Chebyshev filter with ``theta_0 = -theta_1`` and the renormalization
    ``A -> A + I``; the activation is left to the caller.

    Attributes:
        features: output channels.
        use_bias: add a bias.

    Example:
        >>> g = course_example_graph()
        >>> conv = GCNConv(features=3)
        >>> conv.apply(conv.init(jax.random.key(0), jnp.ones((5, 2)), g), jnp.ones((5, 2)), g).shape
        (5, 3)
    """

    features: int
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: Array, graph: Graph) -> Array:
        _check_nodes(x, graph, "x")
        h = nn.Dense(self.features, use_bias=False, name="linear")(x)
        y = gcn_propagate(h, graph)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,))[None, :].astype(
                y.dtype
            )
        return jnp.where(graph.node_mask[:, None], y, 0)


class GCN(nn.Module):
    """A stack of :class:`GCNConv` layers with an activation between them (node outputs).

    Attributes:
        features: channels of each layer; the last is the output size.
        activation: applied after every layer but the last.

    Example:
        >>> g = course_example_graph()
        >>> model, x = GCN(features=(4, 2)), jnp.ones((5, 2))
        >>> model.apply(model.init(jax.random.key(0), x, g), x, g).shape
        (5, 2)
    """

    features: tuple[int, ...]
    activation: Callable[[Array], Array] = nn.relu

    @nn.compact
    def __call__(self, x: Array, graph: Graph) -> Array:
        h = x
        for i, size in enumerate(self.features):
            h = GCNConv(size)(h, graph)
            if i < len(self.features) - 1:
                h = self.activation(h)
        return h


_EXAMPLE = course_example_graph()
for _name, _make in (
    ("SpectralConv", lambda: SpectralConv(features=3)),
    ("ChebConv", lambda: ChebConv(features=3, order=2)),
    ("GCNConv", lambda: GCNConv(features=3)),
    ("GCN", lambda: GCN(features=(4, 2))),
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
