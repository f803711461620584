"""Backpropagation written out by hand, as a reference for ``jax.grad``.

Three views of the same algorithm:

1. :func:`mlp_forward_backward`: the layer-wise delta recursion of an MLP. With rows as
   examples (``S^(l) = H^(l-1) W^(l) + b^(l)``, ``H^(l) = phi^(l)(S^(l))``) the errors
   ``Delta^(l) = dL/dS^(l)`` obey

       ``Delta^(l) = (Delta^(l+1) W^(l+1)^T) * phi'^(l)(S^(l))``
       ``dL/dW^(l) = H^(l-1)^T Delta^(l)``,   ``dL/db^(l) = sum_rows Delta^(l)``

   (the course's column-vector equations transposed).
2. :func:`sigmoid_neuron_ridge_grad`: the closed-form gradient of one sigmoid neuron
   under squared error plus a ridge penalty.
3. :class:`ComputationGraph`: any expression as a list of nodes in topological order;
   FORWARD evaluates the nodes in order, BACKWARD accumulates
   ``dL/dv_i = sum_{j in children(i)} dL/dv_j dv_j/dv_i`` in reverse order.

These are for teaching and testing: a network's layers have different shapes, so the
layer loops here are unrolled at trace time (they still run under ``jit``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_floating, check_rank
from jaxdl.nn.activations import get_activation, get_activation_derivative
from jaxdl.typing import Array, ArrayLike, PyTree

__all__ = [
    "ComputationGraph",
    "ForwardBackward",
    "GraphNode",
    "mlp_forward_backward",
    "mlp_weights_and_biases",
    "sigmoid_neuron_ridge_grad",
    "sigmoid_neuron_ridge_graph",
    "sigmoid_neuron_ridge_loss",
]

_LOSSES = ("half_squared_error", "mean_squared_error", "softmax_cross_entropy", "sigmoid_bce")


class ForwardBackward(NamedTuple):
    """Result of :func:`mlp_forward_backward`.

    Attributes:
        loss: scalar batch-mean loss.
        weight_grads: ``dL/dW^(l)`` per layer, shapes as the weights.
        bias_grads: ``dL/db^(l)`` per layer.
        deltas: ``Delta^(l) = dL/dS^(l)`` per layer, ``[N, n_l]``.
        pre_activations: ``S^(l)`` per layer, ``[N, n_l]``.
        activations: ``H^(l)`` per layer (``H^(L)`` is the network output).
    """

    loss: Array
    weight_grads: list[Array]
    bias_grads: list[Array]
    deltas: list[Array]
    pre_activations: list[Array]
    activations: list[Array]


def _output_delta(
    loss: str | Callable[[Array, Array], Array],
    s_out: Array,
    h_out: Array,
    y: Array,
    output_derivative: Callable[[Array], Array],
) -> tuple[Array, Array]:
    """Batch-mean loss and ``Delta^(L) = dL/dS^(L)`` for the output layer."""
    # The losses are written out here (not imported from jaxdl.losses, which sits above
    # jaxdl.nn in the dependency order); the tests check them against jaxdl.losses.
    n = s_out.shape[0]
    if loss == "half_squared_error":
        value = 0.5 * jnp.sum((h_out - y) ** 2, axis=-1)
        d_h = (h_out - y) / n
    elif loss == "mean_squared_error":
        value = jnp.mean((h_out - y) ** 2, axis=-1)
        d_h = 2.0 * (h_out - y) / (n * h_out.shape[-1])
    elif loss == "softmax_cross_entropy":
        # Softmax unit + categorical NLL on the logits S^(L): Delta = softmax(S) - onehot(y).
        one_hot = jax.nn.one_hot(y, s_out.shape[-1], dtype=s_out.dtype)
        value = jax.nn.logsumexp(s_out, axis=-1) - jnp.sum(one_hot * s_out, axis=-1)
        return jnp.mean(value), (jax.nn.softmax(s_out, axis=-1) - one_hot) / n
    elif loss == "sigmoid_bce":
        # Sigmoid unit + Bernoulli NLL on the logits S^(L): Delta = sigmoid(S) - y.
        value = y * jax.nn.softplus(-s_out) + (1.0 - y) * jax.nn.softplus(s_out)
        return jnp.mean(jnp.sum(value, axis=-1)), (jax.nn.sigmoid(s_out) - y) / n
    elif callable(loss):
        # A custom per-example loss(h_out, y): its local derivative comes from autodiff.
        def mean_loss(h):
            return jnp.mean(loss(h, y))

        value_mean, d_h = jax.value_and_grad(mean_loss)(h_out)
        return value_mean, d_h * output_derivative(s_out)
    else:
        raise ValueError(f"loss must be one of {', '.join(_LOSSES)} or a callable, got {loss!r}")
    return jnp.mean(value), d_h * output_derivative(s_out)


def mlp_forward_backward(
    weights: Sequence[ArrayLike],
    biases: Sequence[ArrayLike],
    activations: Sequence[str | Callable[[Array], Array]],
    x: ArrayLike,
    y: ArrayLike,
    loss: str | Callable[[Array, Array], Array] = "half_squared_error",
) -> ForwardBackward:
    """Forward pass, then the backpropagation delta recursion, for a dense network.

    Forward: ``S^(l) = H^(l-1) W^(l) + b^(l)``, ``H^(l) = phi^(l)(S^(l))``, ``H^(0) = X``.
    Backward: ``Delta^(L) = dL/dH^(L) * phi'^(L)(S^(L))`` (or ``softmax(S) - onehot(y)`` /
    ``sigmoid(S) - y`` for the canonical output pairs), then for ``l = L-1, ..., 1``
    ``Delta^(l) = (Delta^(l+1) W^(l+1)^T) * phi'^(l)(S^(l))``; finally
    ``dL/dW^(l) = H^(l-1)^T Delta^(l)`` and ``dL/db^(l) = 1^T Delta^(l)``.
    The loss is averaged over the ``N`` examples.

    Args:
        weights: ``W^(l)`` of shape ``(n_{l-1}, n_l)`` for ``l = 1..L`` (flax's layout).
        biases: ``b^(l)`` of shape ``(n_l,)``.
        activations: ``phi^(l)`` per layer including the output layer (names or
            elementwise callables; ``"linear"`` for a linear output).
        x: ``[N, n_0]`` inputs.
        y: targets: ``[N, n_L]`` floats, or ``[N]`` integer classes for
            ``"softmax_cross_entropy"``.
        loss: ``"half_squared_error"`` (``1/2 ||h - y||^2``), ``"mean_squared_error"``,
            ``"softmax_cross_entropy"`` or ``"sigmoid_bce"`` (these two take the last
            layer's ``S`` as logits, so use ``"linear"`` as the last activation), or a
            callable per-example ``loss(h_out, y) -> [N]``.

    Returns:
        :class:`ForwardBackward` with the loss, gradients and the stored forward values.

    Raises:
        ValueError: on mismatched list lengths or shapes.

    Example:
        >>> w = [jnp.ones((2, 3)), jnp.ones((3, 1))]
        >>> b = [jnp.zeros(3), jnp.zeros(1)]
        >>> out = mlp_forward_backward(w, b, ["tanh", "linear"], jnp.ones((4, 2)), jnp.ones((4, 1)))
        >>> [g.shape for g in out.weight_grads]
        [(2, 3), (3, 1)]

    Reference: Rumelhart, Hinton & Williams, "Learning representations by
    back-propagating errors", Nature (1986).
    """
    weights = [jnp.asarray(w) for w in weights]
    biases = [jnp.asarray(b) for b in biases]
    activations = list(activations)
    num_layers = len(weights)
    if num_layers == 0:
        raise ValueError("weights must hold at least one layer, got an empty list")
    if len(biases) != num_layers or len(activations) != num_layers:
        raise ValueError(
            "weights, biases and activations must have one entry per layer, got "
            f"{num_layers}, {len(biases)} and {len(activations)}"
        )
    x = jnp.asarray(x)
    check_floating("x", x)
    check_rank("x", x, 2)
    width = x.shape[1]
    for l, (w, b) in enumerate(zip(weights, biases, strict=True)):
        check_rank(f"weights[{l}]", w, 2)
        if w.shape[0] != width or b.shape != (w.shape[1],):
            raise ValueError(
                f"layer {l}: weights[{l}] must have shape ({width}, n) and biases[{l}] shape "
                f"(n,), got {w.shape} and {b.shape}"
            )
        width = w.shape[1]
    y = jnp.asarray(y)
    if loss != "softmax_cross_entropy":
        y = y.astype(x.dtype)
        if y.shape != (x.shape[0], width):
            raise ValueError(f"y must have shape {(x.shape[0], width)}, got {y.shape}")

    if loss in ("softmax_cross_entropy", "sigmoid_bce") and activations[-1] not in (
        "linear",
        "identity",
    ):
        raise ValueError(
            f"loss {loss!r} reads the last layer's net input as logits, so activations[-1] "
            f"must be 'linear', got {activations[-1]!r}"
        )
    phis = [get_activation(a) for a in activations]
    phi_primes = [get_activation_derivative(a) for a in activations]

    # FORWARD: store every S^(l) and H^(l).
    pre_activations, outputs = [], []
    h = x
    for w, b, phi in zip(weights, biases, phis, strict=True):
        s = h @ w + b[None, :]
        h = phi(s)
        pre_activations.append(s)
        outputs.append(h)

    # BACKWARD: the output delta, then the recursion towards the input.
    loss_value, delta = _output_delta(loss, pre_activations[-1], outputs[-1], y, phi_primes[-1])
    deltas = [delta]
    for l in range(num_layers - 2, -1, -1):
        delta = (delta @ weights[l + 1].T) * phi_primes[l](pre_activations[l])
        deltas.insert(0, delta)
    inputs = [x, *outputs[:-1]]
    weight_grads = [h_prev.T @ d for h_prev, d in zip(inputs, deltas, strict=True)]
    bias_grads = [jnp.sum(d, axis=0) for d in deltas]
    return ForwardBackward(loss_value, weight_grads, bias_grads, deltas, pre_activations, outputs)


def mlp_weights_and_biases(params: PyTree) -> tuple[list[Array], list[Array]]:
    """The per-layer kernels and biases of a :class:`jaxdl.nn.MLP`'s parameters, in order.

    Args:
        params: ``MLP(...).init(...)`` (with or without the ``"params"`` level).

    Returns:
        ``(weights, biases)`` lists ordered from the input layer.

    Example:
        >>> from jaxdl.nn.mlp import MLP
        >>> p = MLP(features=(3, 1)).init(jax.random.key(0), jnp.ones((1, 2)))
        >>> [w.shape for w in mlp_weights_and_biases(p)[0]]
        [(2, 3), (3, 1)]
    """
    layers = params["params"] if "params" in params else params
    names = sorted(layers, key=lambda name: int(name.rsplit("_", 1)[1]))
    return [layers[n]["kernel"] for n in names], [layers[n]["bias"] for n in names]


# ---------------------------------------------------------------------------
# One sigmoid neuron with a ridge penalty.


def sigmoid_neuron_ridge_loss(
    w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike, ridge: float
) -> Array:
    """Squared error of a sigmoid neuron plus a ridge penalty on its weight.

    ``L(w, b) = 1/2 (y - sigma(w x + b))^2 + lambda w^2`` for one scalar example.

    Args:
        w: weight (scalar).
        b: bias (scalar).
        x: input (scalar).
        y: target (scalar).
        ridge: ``lambda`` (>= 0).

    Returns:
        scalar loss.

    Example:
        >>> float(sigmoid_neuron_ridge_loss(0.0, 0.0, 1.0, 0.5, 0.1))
        0.0
    """
    u = jax.nn.sigmoid(w * jnp.asarray(x) + b)
    return 0.5 * (y - u) ** 2 + ridge * jnp.asarray(w) ** 2


def sigmoid_neuron_ridge_grad(
    w: ArrayLike, b: ArrayLike, x: ArrayLike, y: ArrayLike, ridge: float
) -> tuple[Array, Array]:
    """Closed-form gradient of :func:`sigmoid_neuron_ridge_loss`.

    ``dL/dw = (sigma(z) - y) sigma'(z) x + 2 lambda w`` and
    ``dL/db = (sigma(z) - y) sigma'(z)`` with ``z = w x + b`` and
    ``sigma'(z) = sigma(z) (1 - sigma(z))``.

    Args:
        w: weight (scalar).
        b: bias (scalar).
        x: input (scalar).
        y: target (scalar).
        ridge: ``lambda``.

    Returns:
        ``(dL/dw, dL/db)``.

    Example:
        >>> [float(g) for g in sigmoid_neuron_ridge_grad(0.0, 0.0, 2.0, 1.0, 0.1)]
        [-0.25, -0.125]
    """
    w = jnp.asarray(w)
    z = w * x + b
    u = jax.nn.sigmoid(z)
    d_z = (u - y) * u * (1.0 - u)
    return d_z * x + 2.0 * ridge * w, d_z


# ---------------------------------------------------------------------------
# An explicit computation graph.


class GraphNode(NamedTuple):
    """One variable of a computation graph, computed from its parents.

    Attributes:
        name: the variable's name.
        parents: names of the variables it is computed from (inputs or earlier nodes).
        op: ``op(*parent_values) -> value``.
        local_grads: ``local_grads(*parent_values) -> tuple`` of the partial derivatives
            ``d value / d parent_k`` (one per parent; elementwise, same shape as the value).
    """

    name: str
    parents: tuple[str, ...]
    op: Callable[..., Array]
    local_grads: Callable[..., tuple[Array, ...]]


class ComputationGraph(NamedTuple):
    """A DAG of elementwise operations in topological order; the last node is the output.

    FORWARD evaluates the nodes in order from the inputs. BACKWARD visits them in reverse
    and sends each node's gradient to its parents, multiplied by the local derivative:
    ``dL/dv_i = sum_{j in children(i)} dL/dv_j * dv_j/dv_i``. Each partial derivative is
    computed once and reused, unlike expanding the chain rule symbol by symbol.

    Attributes:
        inputs: names of the leaf variables (parameters and data).
        nodes: the computed variables, each after all of its parents.

    Example:
        >>> g = ComputationGraph(
        ...     inputs=("a", "b"),
        ...     nodes=(GraphNode("c", ("a", "b"), lambda a, b: a * b, lambda a, b: (b, a)),),
        ... )
        >>> grads = g.backward(g.forward({"a": 2.0, "b": 5.0}))
        >>> [float(grads["a"]), float(grads["b"])]
        [5.0, 2.0]
    """

    inputs: tuple[str, ...]
    nodes: tuple[GraphNode, ...]

    def validate(self) -> None:
        """Raise ``ValueError`` unless names are unique and parents precede children."""
        if not self.nodes:
            raise ValueError("nodes must hold at least one node, got none")
        seen = set(self.inputs)
        if len(seen) != len(self.inputs):
            raise ValueError(f"inputs must have unique names, got {self.inputs}")
        for node in self.nodes:
            missing = [p for p in node.parents if p not in seen]
            if missing:
                raise ValueError(
                    f"node {node.name!r} uses {missing} before they are defined: nodes must "
                    "be listed in topological order"
                )
            if node.name in seen:
                raise ValueError(f"node name {node.name!r} is used twice")
            seen.add(node.name)

    @property
    def output(self) -> str:
        """Name of the output variable (the last node)."""
        return self.nodes[-1].name

    def forward(self, inputs: Mapping[str, ArrayLike]) -> dict[str, Array]:
        """FORWARD: the value of every variable, given the inputs.

        Args:
            inputs: a value for each name in ``self.inputs``.

        Returns:
            ``{name: value}`` for the inputs and every node.
        """
        self.validate()
        missing = [name for name in self.inputs if name not in inputs]
        if missing:
            raise ValueError(f"inputs must give a value for {list(self.inputs)}, missing {missing}")
        values = {name: jnp.asarray(inputs[name]) for name in self.inputs}
        for node in self.nodes:
            values[node.name] = node.op(*(values[p] for p in node.parents))
        return values

    def backward(self, values: Mapping[str, Array]) -> dict[str, Array]:
        """BACKWARD: ``dL/dv`` for every variable ``v``, with ``L`` the output node.

        Args:
            values: the result of :meth:`forward`.

        Returns:
            ``{name: dL/d name}`` for the inputs and every node (``dL/dL = 1``).
        """
        self.validate()
        grads = {name: jnp.zeros_like(values[name]) for name in values}
        grads[self.output] = jnp.ones_like(values[self.output])
        for node in reversed(self.nodes):
            parent_values = [values[p] for p in node.parents]
            local = node.local_grads(*parent_values)
            if len(local) != len(node.parents):
                raise ValueError(
                    f"node {node.name!r}: local_grads returned {len(local)} derivatives for "
                    f"{len(node.parents)} parents"
                )
            for parent, partial in zip(node.parents, local, strict=True):
                grads[parent] = grads[parent] + grads[node.name] * partial
        return grads


def sigmoid_neuron_ridge_graph(ridge: float) -> ComputationGraph:
    """The computation graph of :func:`sigmoid_neuron_ridge_loss`.

    Inputs ``w, b, x, y``; nodes ``z = w x + b``, ``u = sigma(z)``,
    ``l = 1/2 (y - u)^2``, ``r = w^2``, ``L = l + lambda r``. BACKWARD then gives
    ``dL/dr = lambda``, ``dL/dl = 1``, ``dL/du = u - y``, ``dL/dz = (u - y) sigma'(z)``,
    ``dL/dw = dL/dz x + 2 lambda w`` and ``dL/db = dL/dz``.

    Args:
        ridge: ``lambda``.

    Returns:
        the :class:`ComputationGraph`.

    Example:
        >>> g = sigmoid_neuron_ridge_graph(0.5)
        >>> grads = g.backward(g.forward({"w": 0.0, "b": 0.0, "x": 2.0, "y": 1.0}))
        >>> float(grads["w"]), float(grads["r"])
        (-0.25, 0.5)
    """

    def sigmoid_derivative(z):
        u = jax.nn.sigmoid(z)
        return u * (1.0 - u)

    nodes = (
        GraphNode("z", ("w", "x", "b"), lambda w, x, b: w * x + b, lambda w, x, b: (x, w, 1.0)),
        GraphNode("u", ("z",), jax.nn.sigmoid, lambda z: (sigmoid_derivative(z),)),
        GraphNode("l", ("u", "y"), lambda u, y: 0.5 * (y - u) ** 2, lambda u, y: (u - y, y - u)),
        GraphNode("r", ("w",), lambda w: w * w, lambda w: (2.0 * w,)),
        GraphNode("L", ("l", "r"), lambda l, r: l + ridge * r, lambda l, r: (1.0, ridge)),
    )
    return ComputationGraph(inputs=("w", "b", "x", "y"), nodes=nodes)
