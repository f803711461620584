"""MLP: forward pass vs hand computation and PyTorch, output units, parameter counts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl import losses
from jaxdl.nn import MLP, count_params, get_output_unit, initializers, mlp_num_params
from jaxdl.nn.backprop import mlp_weights_and_biases
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


def _numpy_forward(weights, biases, hidden, x):
    h = np.asarray(x, np.float64)
    for i, (w, b) in enumerate(zip(weights, biases, strict=True)):
        s = h @ np.asarray(w, np.float64) + np.asarray(b, np.float64)
        h = hidden[i](s) if i < len(weights) - 1 else s
    return h


def test_forward_matches_numpy_with_per_layer_activations(key):
    k1, k2 = jax.random.split(key)
    x = jax.random.normal(k1, (4, 3))
    model = MLP(features=(5, 6, 2), activation=("tanh", "gaussian"), output="linear")
    params = model.init(k2, x)
    weights, biases = mlp_weights_and_biases(params)
    assert [w.shape for w in weights] == [(3, 5), (5, 6), (6, 2)]
    expected = _numpy_forward(weights, biases, [np.tanh, lambda s: np.exp(-(s**2) / 2)], x)
    np.testing.assert_allclose(model.apply(params, x), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("output", ["sigmoid", "softmax", "linear", None])
def test_output_units_and_logits(key, output):
    k1, k2 = jax.random.split(key)
    x = jax.random.normal(k1, (5, 3))
    model = MLP(features=(4, 3), activation="relu", output=output)
    params = model.init(k2, x)
    logits = model.apply(params, x, return_logits=True)
    out = model.apply(params, x, train=True)
    np.testing.assert_allclose(out, get_output_unit(output)(logits), rtol=1e-6)
    if output == "softmax":
        np.testing.assert_allclose(jnp.sum(out, axis=-1), 1.0, rtol=1e-6)
    if output == "sigmoid":
        assert bool(jnp.all((out > 0) & (out < 1)))


def test_matches_torch_sequential_with_same_weights(key):
    k1, k2 = jax.random.split(key)
    x = jax.random.normal(k1, (6, 4))
    model = MLP(features=(8, 5, 3), activation=("relu", "sigmoid"), output="softmax")
    params = model.init(k2, x)
    weights, biases = mlp_weights_and_biases(params)
    layers = []
    for w, b in zip(weights, biases, strict=True):
        linear = torch.nn.Linear(w.shape[0], w.shape[1]).double()
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(np.asarray(w, np.float64).T))
            linear.bias.copy_(torch.tensor(np.asarray(b, np.float64)))
        layers.append(linear)
    net = torch.nn.Sequential(
        layers[0], torch.nn.ReLU(), layers[1], torch.nn.Sigmoid(), layers[2], torch.nn.Softmax(-1)
    )
    expected = net(torch.tensor(np.asarray(x, np.float64))).detach().numpy()
    np.testing.assert_allclose(model.apply(params, x), expected, rtol=1e-5, atol=1e-6)


def test_course_xor_network_with_relu():
    """The two-layer ReLU network of the course solves XOR with W = 1, c = (0, -1), w = (1, -2)."""
    model = MLP(features=(2, 1), activation="relu")
    params = {
        "params": {
            "Dense_0": {"kernel": jnp.ones((2, 2)), "bias": jnp.array([0.0, -1.0])},
            "Dense_1": {"kernel": jnp.array([[1.0], [-2.0]]), "bias": jnp.zeros(1)},
        }
    }
    x = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert model.apply(params, x)[:, 0].tolist() == [0.0, 1.0, 1.0, 0.0]


def test_initializers_are_used(key):
    model = MLP(
        features=(7, 2),
        kernel_init=initializers.small_uniform(0.01),
        bias_init=initializers.constant(0.5),
    )
    params = model.init(key, jnp.ones((1, 3)))
    weights, biases = mlp_weights_and_biases(params)
    assert all(float(jnp.max(jnp.abs(w))) <= 0.01 for w in weights)
    assert all(bool(jnp.all(b == 0.5)) for b in biases)
    assert (
        "bias"
        not in MLP(features=(2,), use_bias=False).init(key, jnp.ones((1, 3)))["params"]["Dense_0"]
    )


def test_parameter_counts(key):
    # The course's MNIST network 784-200-200-10 and its one-hidden-layer formula.
    assert mlp_num_params((784, 200, 200, 10)) == 199_210
    n, hidden = 3, 10
    assert mlp_num_params((n, hidden, 1)) == hidden * (n + 1) + (hidden + 1) == 51
    assert mlp_num_params((1, 10, 1)) == 31  # the MCycle regression network
    assert mlp_num_params((4, 3), use_bias=False) == 12
    abstract = jax.eval_shape(MLP(features=(200, 200, 10)).init, key, jnp.ones((1, 784)))
    assert count_params(abstract) == 199_210
    params = MLP(features=(20, 10)).init(jax.random.clone(key), jnp.ones((1, 30)))
    assert count_params(params) == 31 * 20 + 21 * 10
    with pytest.raises(ValueError, match="features must hold the input size"):
        mlp_num_params((5,))
    with pytest.raises(ValueError, match=r"features\[1\] must be > 0"):
        mlp_num_params((5, 0, 2))


def test_gradients_jit_and_vmap(key):
    k1, k2, k3 = jax.random.split(key, 3)
    x = jax.random.normal(k1, (3, 3))
    labels = jax.random.randint(k2, (3,), 0, 3)
    model = MLP(features=(4, 3), activation=["softplus"], output="softmax")
    params = model.init(k3, x)

    def loss(p, inputs):
        logits = model.apply(p, inputs, return_logits=True)
        return jnp.mean(losses.softmax_cross_entropy(logits, labels))

    assert_grads_close(loss, params, x)
    assert_jit_matches_eager(lambda p, v: model.apply(p, v), params, x)
    assert_vmap_matches_loop(
        lambda p, v: model.apply(p, v[None, :])[0], params, x, in_axes=(None, 0)
    )


def test_integer_inputs_are_cast(key):
    model = MLP(features=(2,))
    params = model.init(key, jnp.ones((1, 3)))
    out = model.apply(params, jnp.ones((1, 3), jnp.int32))
    np.testing.assert_allclose(out, model.apply(params, jnp.ones((1, 3))))


def test_errors(key):
    x = jnp.ones((2, 3))
    with pytest.raises(ValueError, match="activation must be one activation or a list of 2"):
        MLP(features=(4, 4, 1), activation=["relu"]).init(key, x)
    with pytest.raises(ValueError, match="output must be one of linear, sigmoid, softmax"):
        MLP(features=(4,), output="tanh").init(key, x)
    with pytest.raises(ValueError, match="features must list at least one layer"):
        MLP(features=()).init(key, x)
    with pytest.raises(ValueError, match=r"features\[1\] must be > 0, got 0"):
        MLP(features=(4, 0)).init(key, x)
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP(features=(4, 1), activation="swish-ish").init(key, x)
    with pytest.raises(ValueError, match="x must have a feature axis"):
        MLP(features=(4,)).init(key, jnp.array(1.0))


def test_parameter_counts_of_the_course_slides(key):
    """Seed 003 (slides, parameter counts): a deep MLP with n inputs, L hidden layers of H
    units and K outputs has n H + (L - 1) H^2 + H K weights; n = 10^4, H = 300, K = 1000,
    L = 10 gives 4,110,000. Seeds 001/003: the 784-256-10 network with biases has 203,530.
    """
    n, hidden, k, depth = 10_000, 300, 1000, 10
    widths = (n,) + (hidden,) * depth + (k,)
    weights = mlp_num_params(widths, use_bias=False)
    assert weights == n * hidden + (depth - 1) * hidden**2 + hidden * k == 4_110_000
    deep = MLP(features=(hidden,) * depth + (k,), use_bias=False)
    assert count_params(jax.eval_shape(deep.init, key, jnp.ones((1, n)))) == 4_110_000
    assert mlp_num_params((784, 256, 10)) == 203_530
    net = MLP(features=(256, 10), activation="relu", output="softmax")
    assert count_params(jax.eval_shape(net.init, key, jnp.ones((1, 784)))) == 203_530


def test_maxout_hidden_layers_and_clipped_output(key):
    model = MLP(features=(6, 2), maxout=3, output="clipped_linear")
    x = jax.random.normal(key, (4, 5))
    params = model.init(jax.random.clone(key), x)
    inner = params["params"]
    assert inner["Maxout_0"]["kernel"].shape == (5, 6, 3)
    assert count_params(params) == 5 * 6 * 3 + 6 * 3 + 6 * 2 + 2
    pieces = jnp.einsum("nd,dfk->nfk", x, inner["Maxout_0"]["kernel"])
    hidden = jnp.max(pieces + inner["Maxout_0"]["bias"][None], axis=-1)
    logits = hidden @ inner["Dense_1"]["kernel"] + inner["Dense_1"]["bias"][None]
    np.testing.assert_allclose(model.apply(params, x, return_logits=True), logits, rtol=1e-5)
    np.testing.assert_allclose(model.apply(params, x), jnp.clip(logits, 0, 1), rtol=1e-5)
    with pytest.raises(ValueError, match="maxout must be > 0"):
        MLP(features=(6, 2), maxout=0).init(jax.random.clone(key), x)
