"""The slides' CNN, LeNet-5, the 1-D CNN and the per-pixel classifier: shapes and counts."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn import count_multiply_adds, count_params
from jaxdl.nn.cnn import CNN1D, FullyConvolutionalNet, LeNet5, SlidesCNN
from jaxdl.nn.conv import conv_output_size


def _abstract(model, shape):
    key = jax.eval_shape(jax.random.key, 0)
    return jax.eval_shape(model.init, key, jax.ShapeDtypeStruct(shape, jnp.float32))


def test_slides_cnn_shape_facts():
    model = SlidesCNN(num_classes=7)
    variables = _abstract(model, (1, 28, 28, 1))
    maps = jax.eval_shape(
        lambda v, x: model.apply(v, x, method=SlidesCNN.feature_maps),
        variables,
        jax.ShapeDtypeStruct((3, 28, 28, 1), jnp.float32),
    )
    assert maps["conv"].shape == (3, 12, 12, 16)  # Conv(1 -> 16, 5x5, stride 2)
    assert maps["pool"].shape == (3, 5, 5, 16)  # max-pool 3 stride 2
    assert int(np.prod(maps["pool"].shape[1:])) == 400  # the dense layer's input
    assert variables["params"]["head"]["kernel"].shape == (400, 7)
    assert count_params(variables["params"]) == 16 * 26 + 401 * 7
    assert conv_output_size(28, 5, stride=2) == 12 and conv_output_size(12, 3, stride=2) == 5


def test_lenet5_counts_and_shapes():
    model = LeNet5()
    variables = _abstract(model, (1, 28, 28, 1))
    assert count_params(variables["params"]) == 61_706
    maps = jax.eval_shape(
        lambda v, x: model.apply(v, x, method=LeNet5.feature_maps),
        variables,
        jax.ShapeDtypeStruct((1, 28, 28, 1), jnp.float32),
    )
    assert [maps[k].shape[1:] for k in ("c1", "s2", "c3", "s4")] == [
        (28, 28, 6),
        (14, 14, 6),
        (10, 10, 16),
        (5, 5, 16),
    ]
    # multiply-adds: C1 28*28*6*25 + C3 10*10*16*150 + 400*120 + 120*84 + 84*10
    assert count_multiply_adds(model, (28, 28, 1)) == 117_600 + 240_000 + 48_000 + 10_080 + 840


def test_fully_convolutional_net_is_per_pixel_and_size_agnostic():
    model = FullyConvolutionalNet(features=(3, 3), num_classes=4)
    x = jax.random.normal(jax.random.key(0), (1, 10, 9, 2))
    variables = jax.jit(model.init)(jax.random.key(1), x)
    apply = jax.jit(model.apply)
    y = apply(variables, x)
    assert y.shape == (1, 10, 9, 4)
    assert apply(variables, jnp.zeros((1, 6, 13, 2))).shape == (1, 6, 13, 4)
    # a pixel's scores depend only on its receptive field: (3-1)*1 + (3-1)*2 = 6 -> radius 3
    far = x.at[0, 9, 8].add(10.0)
    np.testing.assert_allclose(apply(variables, far)[0, :5, :4], y[0, :5, :4], atol=1e-5)
    assert not np.allclose(apply(variables, far)[0, 7:, 6:], y[0, 7:, 6:])


def test_cnn1d_readouts_and_errors():
    x = jnp.ones((2, 40))
    flat = _abstract(CNN1D(features=(4, 4), strides=2), (2, 40))
    assert flat["params"]["Dense_0"]["kernel"].shape == (10 * 4, 10)  # 40 -> 20 -> 10
    pooled = jax.eval_shape(
        lambda v, x: CNN1D(features=(4,), readout="global").apply(v, x),
        _abstract(CNN1D(features=(4,), readout="global"), (1, 40)),
        jax.ShapeDtypeStruct((3, 57), jnp.float32),
    )
    assert pooled.shape == (3, 10)  # any length with the global readout
    with pytest.raises(ValueError, match="readout must be"):
        CNN1D(readout="max").init(jax.random.key(0), x)
