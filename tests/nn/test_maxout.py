"""Maxout: NumPy reference, ReLU and |x| as special cases, gradients, jit and vmap."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn import Maxout
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


def test_maxout_matches_numpy_reference_and_gradients(key):
    layer = Maxout(features=3, num_pieces=4)
    init_key, bias_key, data_key = jax.random.split(key, 3)
    x = jax.random.normal(data_key, (6, 5))
    params = layer.init(init_key, x)
    params = {
        "params": {
            "kernel": params["params"]["kernel"],
            "bias": jax.random.normal(bias_key, (3, 4)),
        }
    }
    kernel = np.asarray(params["params"]["kernel"], np.float64)
    bias = np.asarray(params["params"]["bias"], np.float64)
    expected = np.stack(
        [
            np.max([np.asarray(x, np.float64) @ kernel[:, i, j] + bias[i, j] for j in range(4)], 0)
            for i in range(3)
        ],
        axis=-1,
    )
    np.testing.assert_allclose(layer.apply(params, x), expected, rtol=1e-5, atol=1e-6)
    assert_grads_close(lambda p: jnp.sum(layer.apply(p, x) ** 2), params)
    assert_jit_matches_eager(lambda v: layer.apply(params, v), x)
    assert_vmap_matches_loop(lambda v: layer.apply(params, v), x)


def test_maxout_represents_relu_and_absolute_value():
    """Two pieces (s, 0) give ReLU(s); (s, -s) give |s| (Goodfellow et al., 2013)."""
    layer = Maxout(features=1, num_pieces=2)
    x = jnp.linspace(-2.0, 2.0, 9)[:, None]
    relu = {"params": {"kernel": jnp.array([[[1.0, 0.0]]]), "bias": jnp.zeros((1, 2))}}
    absolute = {"params": {"kernel": jnp.array([[[1.0, -1.0]]]), "bias": jnp.zeros((1, 2))}}
    np.testing.assert_allclose(layer.apply(relu, x)[:, 0], jax.nn.relu(x[:, 0]))
    np.testing.assert_allclose(layer.apply(absolute, x)[:, 0], jnp.abs(x[:, 0]))
    # One piece is a dense layer; the gradient reaches only the winning piece.
    grads = jax.grad(lambda p: layer.apply(p, jnp.array([[1.5]])).sum())(absolute)
    np.testing.assert_allclose(grads["params"]["kernel"], [[[1.5, 0.0]]])


def test_maxout_errors(key):
    with pytest.raises(ValueError, match="num_pieces must be > 0"):
        Maxout(features=2, num_pieces=0).init(key, jnp.ones((1, 3)))
    with pytest.raises(ValueError, match="feature axis"):
        Maxout(features=2).init(jax.random.clone(key), jnp.float32(1.0))
