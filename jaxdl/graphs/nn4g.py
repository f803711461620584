"""NN4G (Micheli 2009): the first graph convolution, with per-layer graph readouts.

Layer ``i`` of NN4G computes, for every node ``v``,

    h_v^1 = sigma(Wbar^1 x_v),
    h_v^i = sigma(Wbar^i x_v + W^i sum_{u in N(v)} h_u^{i-1}),   i > 1,

or in matrix form (nodes as rows) ``H^i = sigma(X Wbar^i + A H^{i-1} W^i)``. Each layer
also gives a graph-level vector ``X_i(g) = (1/k) sum_v h_i(v)`` (``k = 1``: a sum; ``k =
|g|``: a mean), and the output reads all of them, ``y(g) = sum_i w_i X_i(g) + b``. The
network is built constructively: layer ``i`` is trained with layers ``1..i-1`` frozen
(``frozen_layers``), and :func:`grow_nn4g_params` carries the trained layers over.

Reference: Micheli, "Neural network for graphs: a contextual constructive approach"
(IEEE TNN 2009).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl.graphs.graph import Graph, course_example_graph
from jaxdl.graphs.message_passing import _check_nodes, propagate
from jaxdl.graphs.readout import mean_readout, sum_readout
from jaxdl.nn.activations import get_activation
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array


def nn4g_dense(
    x: Array,
    adjacency: Array,
    h_previous: Array | None,
    w_bar: Array,
    w: Array | None,
    bias: Array,
    activation: Callable[[Array], Array] = jnp.tanh,
) -> Array:
    """The matrix form ``H^i = sigma(X Wbar + A H^{i-1} W + b)`` with a dense adjacency.

    Args:
        x: ``[N, F]`` node features.
        adjacency: ``[N, N]`` symmetric adjacency (``A[u, v]``: edge ``u -> v``; the sum runs
            over ``A^T``, the same for an undirected graph).
        h_previous: ``[N, H']`` the previous layer's states, or ``None`` for layer 1.
        w_bar: ``[F, H]``; w: ``[H', H]`` (ignored for layer 1); bias: ``[H]``.
        activation: ``sigma``.

    Returns:
        ``[N, H]``.

    Example:
        >>> a = jnp.array([[0.0, 1.0], [1.0, 0.0]])
        >>> h1 = nn4g_dense(jnp.eye(2), a, None, jnp.eye(2), None, jnp.zeros(2), lambda z: z)
        >>> nn4g_dense(jnp.eye(2), a, h1, jnp.eye(2), jnp.eye(2), jnp.zeros(2), lambda z: z)
        Array([[1., 1.],
               [1., 1.]], dtype=float32)
    """
    pre = x @ w_bar + bias[None, :]
    if h_previous is not None:
        pre = pre + adjacency.T @ h_previous @ w
    return activation(pre)


class NN4GLayer(nn.Module):
    """One NN4G layer on a :class:`Graph` (sparse: the neighbour sum is a segment sum).

    Attributes:
        features: number of hidden units ``H`` of the layer.
        activation: a name from ``jaxdl.nn.ACTIVATIONS`` or a callable (``sigma``).

    Call with ``(x, graph, h_previous=None)``: ``x [N, F]`` the input features, and the
    previous layer's states ``[N, H']`` for layers after the first.

    Example:
        >>> g = course_example_graph()
        >>> layer = NN4GLayer(features=3)
        >>> x = jnp.ones((5, 2))
        >>> params = layer.init(jax.random.key(0), x, g)
        >>> layer.apply(params, x, g).shape
        (5, 3)
    """

    features: int
    activation: str | Callable[[Array], Array] = "tanh"

    @nn.compact
    def __call__(self, x: Array, graph: Graph, h_previous: Array | None = None) -> Array:
        _check_nodes(x, graph, "x")
        pre = nn.Dense(self.features, name="input")(x)  # Wbar x_v (+ bias)
        if h_previous is not None:
            _check_nodes(h_previous, graph, "h_previous")
            neighbours = propagate(h_previous, graph, "sum")  # sum_{u in N(v)} h_u
            pre = pre + nn.Dense(self.features, use_bias=False, name="context")(neighbours)
        h = get_activation(self.activation)(pre)
        return jnp.where(graph.node_mask[:, None], h, 0)


class NN4G(nn.Module):
    """The NN4G network: stacked NN4G layers, a readout per layer, a linear output.

    ``y(g) = Dense([X_1(g), ..., X_L(g)])`` with ``X_i(g) = (1/k) sum_v h_i(v)``; node-level
    outputs are ``Dense([h_1(v), ..., h_L(v)])`` (``node_level=True``).

    Attributes:
        features: hidden units of each layer ``(H_1, ..., H_L)``.
        num_outputs: size of the output.
        readout: ``"mean"`` (``k = |g|``) or ``"sum"`` (``k = 1``).
        frozen_layers: the first ``frozen_layers`` layers pass no gradient (constructive
            training trains only the newest layer and the output).
        node_level: output per node rather than per graph.
        activation: ``sigma``.

    Example:
        >>> g = course_example_graph()
        >>> model = NN4G(features=(4, 4), num_outputs=2)
        >>> params = model.init(jax.random.key(0), jnp.ones((5, 1)), g)
        >>> model.apply(params, jnp.ones((5, 1)), g).shape
        (1, 2)
    """

    features: Sequence[int]
    num_outputs: int
    readout: str = "mean"
    frozen_layers: int = 0
    node_level: bool = False
    activation: str | Callable[[Array], Array] = "tanh"

    @nn.compact
    def __call__(self, x: Array, graph: Graph) -> Array:
        if self.readout not in ("mean", "sum"):
            raise ValueError(f"readout must be 'mean' or 'sum', got {self.readout!r}")
        if not 0 <= self.frozen_layers < len(self.features):
            raise ValueError(
                f"frozen_layers must lie in [0, {len(self.features)}), got {self.frozen_layers}"
            )
        states, h = [], None
        for i, size in enumerate(self.features):
            h = NN4GLayer(size, self.activation, name=f"layer_{i}")(x, graph, h)
            if i < self.frozen_layers:
                h = jax.lax.stop_gradient(h)
            states.append(h)
        if self.node_level:
            return nn.Dense(self.num_outputs, name="output")(jnp.concatenate(states, -1))
        reduce = mean_readout if self.readout == "mean" else sum_readout
        graph_states = jnp.concatenate([reduce(s, graph) for s in states], -1)
        return nn.Dense(self.num_outputs, name="output")(graph_states)


def grow_nn4g_params(trained: Any, fresh: Any) -> Any:
    """Parameters of a deeper NN4G: the trained layers copied in, the rest from ``fresh``.

    ``trained`` comes from a network with ``L`` layers and ``fresh`` from ``model.init`` of
    the one with ``L + 1``; the output layer (which reads one more readout) stays fresh.

    Example:
        >>> g = course_example_graph()
        >>> x = jnp.ones((5, 1))
        >>> small = NN4G((3,), 1).init(jax.random.key(0), x, g)["params"]
        >>> big = NN4G((3, 3), 1).init(jax.random.key(1), x, g)["params"]
        >>> grown = grow_nn4g_params(small, big)
        >>> kernel = grown["layer_0"]["input"]["kernel"]
        >>> bool(jnp.all(kernel == small["layer_0"]["input"]["kernel"]))
        True
    """
    grown = dict(fresh)
    for name, value in trained.items():
        if name.startswith("layer_"):
            if name not in fresh:
                raise ValueError(f"fresh has no {name}: it must come from a deeper NN4G")
            grown[name] = value
    return grown


_EXAMPLE = course_example_graph()
register_model(
    ModelSpec(
        name="NN4GLayer",
        make=lambda: NN4GLayer(features=3),
        input_shape=(5, 2),
        batched=False,
        apply_kwargs={"graph": _EXAMPLE},
    )
)
register_model(
    ModelSpec(
        name="NN4G",
        make=lambda: NN4G(features=(3, 3), num_outputs=2),
        input_shape=(5, 2),
        batched=False,
        apply_kwargs={"graph": _EXAMPLE},
    )
)
