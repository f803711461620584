"""Hand-written backpropagation equals jax.grad: MLP deltas, one neuron, a computation graph."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings

from jaxdl import losses
from jaxdl.nn import MLP, backprop
from jaxdl.nn.activations import get_activation
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager
from jaxdl.testing import strategies as jst

LOSS_FUNCTIONS = {
    "half_squared_error": lambda out, y: losses.half_squared_error(out, y),
    "mean_squared_error": lambda out, y: losses.mean_squared_error(out, y),
    "softmax_cross_entropy": lambda out, y: losses.softmax_cross_entropy(out, y),
    "sigmoid_bce": lambda out, y: jnp.sum(losses.sigmoid_binary_cross_entropy(out, y), -1),
}


def _random_network(key, sizes):
    keys = jax.random.split(key, 2 * len(sizes))
    weights = [
        jax.random.normal(keys[2 * i], (n_in, n_out)) / jnp.sqrt(n_in)
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True))
    ]
    biases = [0.1 * jax.random.normal(keys[2 * i + 1], (n,)) for i, n in enumerate(sizes[1:])]
    return weights, biases


def _autodiff_loss(params, activations, x, y, loss):
    weights, biases = params
    h = x
    for w, b, a in zip(weights, biases, activations, strict=True):
        h = get_activation(a)(h @ w + b[None, :])
    return jnp.mean(LOSS_FUNCTIONS[loss](h, y))


CASES = [
    ((3, 2), ["sigmoid"], "half_squared_error"),
    ((4, 6, 5, 3), ["relu", "gaussian", "linear"], "softmax_cross_entropy"),
    ((3, 5, 2), ["tanh", "linear"], "mean_squared_error"),
    ((2, 4, 4, 3, 2), ["softplus", "sigmoid", "leaky_relu", "linear"], "sigmoid_bce"),
]


@pytest.mark.parametrize(("sizes", "activations", "loss"), CASES)
def test_delta_recursion_equals_jax_grad(key, sizes, activations, loss):
    k_net, k_x, k_y = jax.random.split(key, 3)
    weights, biases = _random_network(k_net, sizes)
    x = jax.random.normal(k_x, (7, sizes[0]))
    if loss == "softmax_cross_entropy":
        y = jax.random.randint(k_y, (7,), 0, sizes[-1])
    elif loss == "sigmoid_bce":
        y = jax.random.bernoulli(k_y, 0.5, (7, sizes[-1])).astype(jnp.float32)
    else:
        y = jax.random.normal(k_y, (7, sizes[-1]))

    @jax.jit
    def both(weights, biases, x, y):
        ours = backprop.mlp_forward_backward(weights, biases, activations, x, y, loss)
        theirs = jax.value_and_grad(_autodiff_loss)((weights, biases), activations, x, y, loss)
        return ours, theirs

    result, (expected_loss, (grad_w, grad_b)) = both(weights, biases, x, y)
    np.testing.assert_allclose(result.loss, expected_loss, rtol=1e-5)
    for ours, theirs in zip(result.weight_grads, grad_w, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    for ours, theirs in zip(result.bias_grads, grad_b, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)
    assert [d.shape for d in result.deltas] == [(7, n) for n in sizes[1:]]


def test_deltas_are_gradients_of_pre_activations(key):
    """Delta^(l) = dL/dS^(l), checked by perturbing S^(l) in the forward pass."""
    k_net, k_x, k_y = jax.random.split(key, 3)
    weights, biases = _random_network(k_net, (3, 4, 2))
    x = jax.random.normal(k_x, (5, 3))
    y = jax.random.normal(k_y, (5, 2))
    result = jax.jit(lambda w, b: backprop.mlp_forward_backward(w, b, ["tanh", "linear"], x, y))(
        weights, biases
    )

    def loss_given_offsets(offsets):
        s1 = x @ weights[0] + biases[0][None, :] + offsets[0]
        s2 = jnp.tanh(s1) @ weights[1] + biases[1][None, :] + offsets[1]
        return jnp.mean(losses.half_squared_error(s2, y))

    zeros = [jnp.zeros((5, 4)), jnp.zeros((5, 2))]
    expected_deltas = jax.jit(jax.grad(loss_given_offsets))(zeros)
    for delta, expected in zip(result.deltas, expected_deltas, strict=True):
        np.testing.assert_allclose(delta, expected, rtol=1e-5, atol=1e-7)


def test_matches_flax_mlp_gradients(key):
    k_init, k_x, k_y = jax.random.split(key, 3)
    model = MLP(features=(5, 4, 3), activation=["sigmoid", "tanh"], output="softmax")
    x = jax.random.normal(k_x, (6, 2))
    labels = jax.random.randint(k_y, (6,), 0, 3)
    params = model.init(k_init, x)

    def loss(p):
        logits = model.apply(p, x, return_logits=True)
        return jnp.mean(losses.softmax_cross_entropy(logits, labels))

    @jax.jit
    def both(params):
        weights, biases = backprop.mlp_weights_and_biases(params)
        result = backprop.mlp_forward_backward(
            weights, biases, ["sigmoid", "tanh", "linear"], x, labels, "softmax_cross_entropy"
        )
        return result, jax.value_and_grad(loss)(params)

    result, (expected_loss, grads) = both(params)
    np.testing.assert_allclose(result.loss, expected_loss, rtol=1e-6)
    grad_w, grad_b = backprop.mlp_weights_and_biases(grads)
    for ours, theirs in zip(result.weight_grads + result.bias_grads, grad_w + grad_b, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_custom_loss_and_callable_activation(key):
    k_net, k_x, k_y = jax.random.split(key, 3)
    weights, biases = _random_network(k_net, (2, 3, 1))
    x = jax.random.normal(k_x, (4, 2))
    y = jax.random.normal(k_y, (4, 1))

    def cube(s):
        return s**3 / 3.0

    def absolute_error(out, target):
        return jnp.sum(jnp.abs(out - target), axis=-1)

    result = jax.jit(
        lambda w, b: backprop.mlp_forward_backward(w, b, [cube, "sigmoid"], x, y, absolute_error)
    )(weights, biases)

    def reference(params):
        (w1, w2), (b1, b2) = params
        out = jax.nn.sigmoid(cube(x @ w1 + b1[None, :]) @ w2 + b2[None, :])
        return jnp.mean(absolute_error(out, y))

    grad_w, grad_b = jax.jit(jax.grad(reference))((weights, biases))
    for ours, theirs in zip(result.weight_grads + result.bias_grads, grad_w + grad_b, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_forward_backward_jit(key):
    k_net, k_x = jax.random.split(key)
    weights, biases = _random_network(k_net, (3, 4, 2))
    x = jax.random.normal(k_x, (5, 3))
    y = jnp.zeros((5, 2))
    assert_jit_matches_eager(
        lambda w, b, inputs: backprop.mlp_forward_backward(w, b, ["relu", "linear"], inputs, y),
        weights,
        biases,
        x,
    )


def test_forward_backward_errors(key):
    weights, biases = _random_network(key, (3, 4, 2))
    x = jnp.ones((5, 3))
    y = jnp.zeros((5, 2))
    with pytest.raises(ValueError, match="one entry per layer, got 2, 2 and 1"):
        backprop.mlp_forward_backward(weights, biases, ["relu"], x, y)
    with pytest.raises(ValueError, match=r"layer 1: weights\[1\] must have shape \(4, n\)"):
        backprop.mlp_forward_backward([weights[0], weights[1].T], biases, ["relu", "linear"], x, y)
    with pytest.raises(ValueError, match=r"y must have shape \(5, 2\)"):
        backprop.mlp_forward_backward(weights, biases, ["relu", "linear"], x, y[:, :1])
    with pytest.raises(ValueError, match="loss must be one of"):
        backprop.mlp_forward_backward(weights, biases, ["relu", "linear"], x, y, loss="hinge")
    with pytest.raises(ValueError, match="activations\\[-1\\] must be 'linear'"):
        backprop.mlp_forward_backward(
            weights,
            biases,
            ["relu", "softplus"],
            x,
            jnp.array([0, 1, 0, 1, 1]),
            "softmax_cross_entropy",
        )
    with pytest.raises(ValueError, match="weights must hold at least one layer"):
        backprop.mlp_forward_backward([], [], [], x, y)


def test_sigmoid_neuron_ridge_gradient(key):
    values = jax.random.normal(key, (4,))
    w, b, x, y = (values[i] for i in range(4))
    ridge = 0.3
    closed_w, closed_b = backprop.sigmoid_neuron_ridge_grad(w, b, x, y, ridge)
    auto_w, auto_b = jax.grad(backprop.sigmoid_neuron_ridge_loss, argnums=(0, 1))(w, b, x, y, ridge)
    np.testing.assert_allclose(closed_w, auto_w, rtol=1e-5)
    np.testing.assert_allclose(closed_b, auto_b, rtol=1e-5)
    assert_grads_close(
        lambda p, inputs: backprop.sigmoid_neuron_ridge_loss(p[0], p[1], inputs[0], inputs[1], 0.3),
        jnp.stack([w, b]),
        jnp.stack([x, y]),
    )
    # Worked numbers: w = b = 0, x = 2, y = 1: sigma = 1/2, sigma' = 1/4,
    # dL/dw = (1/2 - 1) (1/4) 2 + 0 = -1/4, dL/db = -1/8.
    grads = backprop.sigmoid_neuron_ridge_grad(0.0, 0.0, 2.0, 1.0, ridge)
    assert [float(g) for g in grads] == [-0.25, -0.125]


def test_computation_graph_backward_equals_jax_grad_and_course_partials(key):
    values = jax.random.normal(key, (4,))
    inputs = dict(zip(("w", "b", "x", "y"), (values[i] for i in range(4)), strict=True))
    ridge = 0.7
    graph = backprop.sigmoid_neuron_ridge_graph(ridge)
    forward = graph.forward(inputs)
    np.testing.assert_allclose(
        forward["L"], backprop.sigmoid_neuron_ridge_loss(**inputs, ridge=ridge), rtol=1e-6
    )
    grads = graph.backward(forward)
    auto = jax.grad(backprop.sigmoid_neuron_ridge_loss, argnums=(0, 1, 2, 3))(
        inputs["w"], inputs["b"], inputs["x"], inputs["y"], ridge
    )
    for name, expected in zip(("w", "b", "x", "y"), auto, strict=True):
        np.testing.assert_allclose(grads[name], expected, rtol=1e-5, atol=1e-7)
    # The partials of the worked example, node by node.
    u, z, y = forward["u"], forward["z"], inputs["y"]
    assert float(grads["L"]) == 1.0 and float(grads["l"]) == 1.0
    assert float(grads["r"]) == pytest.approx(ridge)
    np.testing.assert_allclose(grads["u"], u - y, rtol=1e-6)
    np.testing.assert_allclose(grads["z"], (u - y) * jax.nn.sigmoid(z) * (1 - u), rtol=1e-5)
    np.testing.assert_allclose(
        grads["w"], grads["z"] * inputs["x"] + ridge * 2 * inputs["w"], rtol=1e-5
    )
    np.testing.assert_allclose(grads["b"], grads["z"], rtol=1e-6)


def test_computation_graph_with_shared_variable_and_jit():
    # f = (a * b) + sin(a): "a" has two children, so its gradient sums both paths.
    graph = backprop.ComputationGraph(
        inputs=("a", "b"),
        nodes=(
            backprop.GraphNode("c", ("a", "b"), lambda a, b: a * b, lambda a, b: (b, a)),
            backprop.GraphNode("d", ("a",), jnp.sin, lambda a: (jnp.cos(a),)),
            backprop.GraphNode("f", ("c", "d"), lambda c, d: c + d, lambda c, d: (1.0, 1.0)),
        ),
    )

    def grads(a, b):
        g = graph.backward(graph.forward({"a": a, "b": b}))
        return g["a"], g["b"]

    a, b = jnp.array([0.3, -1.2]), jnp.array([2.0, 0.5])
    auto = jax.vmap(jax.grad(lambda a, b: a * b + jnp.sin(a), argnums=(0, 1)))(a, b)
    np.testing.assert_allclose(jax.jit(grads)(a, b)[0], auto[0], rtol=1e-6)
    np.testing.assert_allclose(grads(a, b)[1], auto[1], rtol=1e-6)


def test_computation_graph_errors():
    node = backprop.GraphNode("c", ("a", "b"), lambda a, b: a * b, lambda a, b: (b, a))
    with pytest.raises(ValueError, match="node 'c' uses \\['b'\\] before they are defined"):
        backprop.ComputationGraph(inputs=("a",), nodes=(node,)).forward({"a": 1.0})
    with pytest.raises(ValueError, match="missing \\['b'\\]"):
        backprop.ComputationGraph(inputs=("a", "b"), nodes=(node,)).forward({"a": 1.0})
    with pytest.raises(ValueError, match="node name 'a' is used twice"):
        backprop.ComputationGraph(inputs=("a", "b"), nodes=(node._replace(name="a"),)).forward(
            {"a": 1.0, "b": 2.0}
        )
    with pytest.raises(ValueError, match="nodes must hold at least one node"):
        backprop.ComputationGraph(inputs=("a",), nodes=()).forward({"a": 1.0})
    bad = backprop.ComputationGraph(
        inputs=("a", "b"), nodes=(node._replace(local_grads=lambda a, b: (b,)),)
    )
    with pytest.raises(ValueError, match="returned 1 derivatives for 2 parents"):
        bad.backward(bad.forward({"a": 1.0, "b": 2.0}))


@settings(max_examples=4)
@given(jst.mlp_configs(max_hidden_layers=3, max_width=5), jst.keys())
def test_delta_recursion_on_random_architectures(config, key):
    k_net, k_x, k_y = jax.random.split(key, 3)
    sizes = (config.num_inputs, *config.features)
    weights, biases = _random_network(k_net, sizes)
    x = jax.random.normal(k_x, (4, config.num_inputs))
    loss = {
        "linear": "half_squared_error",
        "sigmoid": "sigmoid_bce",
        "softmax": "softmax_cross_entropy",
    }[config.output]
    if loss == "softmax_cross_entropy":
        y = jax.random.randint(k_y, (4,), 0, sizes[-1])
    else:
        y = jax.random.uniform(k_y, (4, sizes[-1]))
    activations = [*config.activations, "linear"]

    @jax.jit
    def both(weights, biases):
        result = backprop.mlp_forward_backward(weights, biases, activations, x, y, loss)
        return result, jax.grad(_autodiff_loss)((weights, biases), activations, x, y, loss)

    result, (grad_w, grad_b) = both(weights, biases)
    for ours, theirs in zip(result.weight_grads + result.bias_grads, grad_w + grad_b, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_chain_rule_and_jacobian_of_the_course_example():
    """Seed 002 (ch. 6, chain rule): f(x1, x2) = x1^2 + 2 x2 with x = (sin t, cos t) has
    df/dt = 2 sin t cos t - 2 sin t; g(s, t) = (s sin t, s cos t) has the Jacobian
    [[sin t, s cos t], [cos t, -s sin t]], and h = f o g has dh/d(s, t) = [2 x1, 2] J_g."""
    graph = backprop.ComputationGraph(
        inputs=("t",),
        nodes=(
            backprop.GraphNode("x1", ("t",), jnp.sin, lambda t: (jnp.cos(t),)),
            backprop.GraphNode("x2", ("t",), jnp.cos, lambda t: (-jnp.sin(t),)),
            backprop.GraphNode(
                "f", ("x1", "x2"), lambda a, b: a * a + 2.0 * b, lambda a, b: (2.0 * a, 2.0)
            ),
        ),
    )
    for t in (-1.3, 0.4, 2.0):
        expected = 2 * np.sin(t) * np.cos(t) - 2 * np.sin(t)
        grads = graph.backward(graph.forward({"t": jnp.float32(t)}))
        np.testing.assert_allclose(grads["t"], expected, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(
            jax.grad(lambda u: jnp.sin(u) ** 2 + 2.0 * jnp.cos(u))(t), expected, rtol=1e-5
        )

    def g(st):
        return jnp.stack([st[0] * jnp.sin(st[1]), st[0] * jnp.cos(st[1])])

    s, t = 1.7, 0.6
    jacobian = jax.jacfwd(g)(jnp.array([s, t]))
    expected_jacobian = [[np.sin(t), s * np.cos(t)], [np.cos(t), -s * np.sin(t)]]
    np.testing.assert_allclose(jacobian, expected_jacobian, rtol=1e-5)
    x1 = s * np.sin(t)
    dh = jax.grad(lambda st: g(st)[0] ** 2 + 2.0 * g(st)[1])(jnp.array([s, t]))
    np.testing.assert_allclose(dh, np.array([2 * x1, 2.0]) @ np.array(expected_jacobian), rtol=1e-5)
