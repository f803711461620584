"""Batch norm against PyTorch and a NumPy final phase; layer norm against PyTorch."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl.nn.normalization import (
    BatchNorm,
    LayerNorm,
    batch_norm,
    final_phase_statistics,
    layer_norm,
)
from jaxdl.testing import assert_grads_close

RNG = np.random.default_rng(0)


def _rand(*shape, loc=0.0, scale=1.0):
    return (loc + scale * RNG.standard_normal(shape)).astype(np.float32)


@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5, 2)])
def test_batchnorm_matches_torch_train_eval_and_running_statistics(shape):
    num_features = shape[-1]
    torch_bn = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
        num_features, momentum=0.1, eps=1e-5
    )
    gamma, beta = _rand(num_features, loc=1.0), _rand(num_features)
    with torch.no_grad():
        torch_bn.weight.copy_(torch.from_numpy(gamma))
        torch_bn.bias.copy_(torch.from_numpy(beta))
    layer = BatchNorm(momentum=0.9, epsilon=1e-5)
    variables = {
        "params": {"scale": jnp.asarray(gamma), "bias": jnp.asarray(beta)},
        "batch_stats": {"mean": jnp.zeros(num_features), "var": jnp.ones(num_features)},
    }
    apply_train = jax.jit(lambda v, x: layer.apply(v, x, train=True, mutable=["batch_stats"]))

    def to_torch(x):
        return torch.from_numpy(np.moveaxis(x, -1, 1).copy())

    torch_bn.train()
    for step in range(2):
        x = _rand(*shape, loc=3.0 * step, scale=2.0)
        y, state = apply_train(variables, x)
        variables = {**variables, **state}
        expected = np.moveaxis(torch_bn(to_torch(x)).detach().numpy(), 1, -1)
        np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(
        variables["batch_stats"]["mean"], torch_bn.running_mean.numpy(), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(
        variables["batch_stats"]["var"], torch_bn.running_var.numpy(), rtol=1e-5, atol=1e-6
    )
    torch_bn.eval()
    x = _rand(*shape)
    np.testing.assert_allclose(
        jax.jit(lambda v, x: layer.apply(v, x, train=False))(variables, x),
        np.moveaxis(torch_bn(to_torch(x)).detach().numpy(), 1, -1),
        rtol=1e-4,
        atol=1e-4,
    )


class _Net(nn.Module):
    """Dense -> BN -> ReLU -> Dense -> BN -> ReLU -> Dense."""

    @nn.compact
    def __call__(self, x, train: bool = False):
        for features in (5, 4):
            x = nn.relu(BatchNorm()(nn.Dense(features)(x), train=train))
        return nn.Dense(2)(x)


def test_final_phase_equals_numpy_layer_by_layer():
    model = _Net()
    x = _rand(23, 3, scale=2.0, loc=1.0)
    variables = jax.jit(model.init)(jax.random.key(0), x[:2])
    # a training step, so that the running averages are not the answer
    train = jax.jit(lambda v, x: model.apply(v, x, train=True, mutable=["batch_stats"])[1])
    variables = {**variables, **train(variables, x[:8])}
    result = final_phase_statistics(model, variables, x, batch_size=10)  # 10 + 10 + 3
    p = jax.tree.map(np.asarray, variables["params"])
    h = x.astype(np.float64)
    for i, bn in enumerate(("BatchNorm_0", "BatchNorm_1")):
        dense = p[f"Dense_{i}"]
        a = h @ dense["kernel"] + dense["bias"]
        mean, var = a.mean(axis=0), a.var(axis=0)  # the whole training set at this layer
        np.testing.assert_allclose(result["batch_stats"][bn]["mean"], mean, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(result["batch_stats"][bn]["var"], var, rtol=1e-4, atol=1e-5)
        h = np.maximum(p[bn]["scale"] * (a - mean) / np.sqrt(var + 1e-5) + p[bn]["bias"], 0.0)
    out = jax.jit(lambda v, x: model.apply(v, x, train=False))(result, x)
    np.testing.assert_allclose(
        out, h @ p["Dense_2"]["kernel"] + p["Dense_2"]["bias"], rtol=1e-4, atol=1e-4
    )
    # on conv feature maps the statistics run over examples and positions
    fmap = _rand(4, 3, 5, 2, loc=2.0)
    layer = BatchNorm()
    stats = final_phase_statistics(layer, layer.init(jax.random.key(1), fmap), fmap, batch_size=3)
    np.testing.assert_allclose(stats["batch_stats"]["mean"], fmap.mean(axis=(0, 1, 2)), rtol=1e-5)
    np.testing.assert_allclose(
        stats["batch_stats"]["var"], fmap.var(axis=(0, 1, 2), dtype=np.float64), rtol=1e-4
    )


def test_batchnorm_gradients_float64():
    x = jnp.asarray(RNG.standard_normal((5, 3)))
    layer = BatchNorm()
    variables = layer.init(jax.random.key(0), x)

    def loss(params, x):
        y, _ = layer.apply(
            {"params": params["bn"], "batch_stats": variables["batch_stats"]},
            params["x"],
            train=True,
            mutable=["batch_stats"],
        )
        return jnp.sum(jnp.sin(y) * x)

    params = {"bn": {"scale": jnp.asarray([1.0, 2.0, 0.5]), "bias": jnp.zeros(3)}, "x": x}
    assert_grads_close(loss, params, jnp.cos(x), mode="full")


def test_batchnorm_edges_and_errors():
    layer = BatchNorm()
    variables = layer.init(jax.random.key(0), jnp.ones((1, 3)))  # init on one example is fine
    with pytest.raises(ValueError, match="got a batch of one"):
        layer.apply(variables, jnp.ones((1, 3)), train=True, mutable=["batch_stats"])
    # a constant unit: variance 0, eps keeps the output finite (the shift alone)
    y, _ = layer.apply(variables, jnp.full((4, 3), 7.0), train=True, mutable=["batch_stats"])
    np.testing.assert_allclose(y, 0.0, atol=1e-6)
    # a variance that rounding made slightly negative is clamped, not a NaN
    out = batch_norm(jnp.ones((2, 1)), jnp.ones(1), jnp.array([-1e-9]), epsilon=1e-5)
    assert bool(jnp.all(jnp.isfinite(out)))
    with pytest.raises(ValueError, match="momentum must lie in"):
        BatchNorm(momentum=1.0).init(jax.random.key(0), jnp.ones((2, 3)))
    with pytest.raises(ValueError, match="batch_stats"):
        final_phase_statistics(nn.Dense(2), {"params": {}}, jnp.ones((2, 3)))


def test_layer_norm_matches_torch_and_flax():
    x = _rand(4, 6, loc=2.0)
    gamma, beta = _rand(6, loc=1.0), _rand(6)
    torch_ln = torch.nn.LayerNorm(6, eps=1e-6)
    with torch.no_grad():
        torch_ln.weight.copy_(torch.from_numpy(gamma))
        torch_ln.bias.copy_(torch.from_numpy(beta))
    expected = torch_ln(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(layer_norm(x, gamma, beta), expected, rtol=1e-4, atol=1e-5)
    flax_out = LayerNorm(epsilon=1e-6).apply({"params": {"scale": gamma, "bias": beta}}, x)
    np.testing.assert_allclose(flax_out, expected, rtol=1e-4, atol=1e-5)
