"""Initializers: bounds, moments, agreement with jax, and why weights must start random."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn import MLP, initializers
from jaxdl.nn.linear import gradient_descent

NUM_DRAWS = 20_000


def _assert_uniform_moments(sample: jax.Array, limit: float) -> None:
    """Mean 0 and variance limit^2 / 3 within 5 standard errors, support inside the bounds."""
    x = np.asarray(sample, np.float64).ravel()
    n = x.size
    assert np.all(np.abs(x) <= limit)
    assert np.max(np.abs(x)) > 0.99 * limit  # the bounds are reached, not just respected
    mean_se = limit / math.sqrt(3 * n)
    assert abs(x.mean()) < 5 * mean_se
    variance = limit**2 / 3
    variance_se = math.sqrt(4 * limit**4 / 45 / n)  # sd of x^2 for U(-a, a) is sqrt(4/45) a^2
    assert abs(np.mean(x**2) - variance) < 5 * variance_se


@pytest.mark.parametrize("shape", [(400, 50), (5, 5, 16, 4)])
def test_lecun_uniform_course_bounds_and_variance(key, shape):
    fan_in = math.prod(shape[:-1])
    w = initializers.lecun_uniform_course()(key, shape)
    assert w.shape == shape and w.dtype == jnp.float32
    _assert_uniform_moments(w, 1 / math.sqrt(fan_in))


def test_glorot_uniform_normalized_bounds_variance_and_jax_equality(key):
    shape = (300, 100)
    k1, k2 = jax.random.split(key)
    w = initializers.glorot_uniform_normalized()(k1, shape)
    _assert_uniform_moments(w, math.sqrt(6 / (300 + 100)))
    np.testing.assert_allclose(w.var(), 2 / (300 + 100), rtol=0.05)
    reference_key = jax.random.clone(k2)
    np.testing.assert_allclose(
        initializers.glorot_uniform_normalized()(k2, (7, 3)),
        jax.nn.initializers.glorot_uniform()(reference_key, (7, 3)),
        rtol=1e-6,
    )


def test_small_uniform_bounds_and_variance(key):
    k1, k2, key = jax.random.split(key, 3)
    _assert_uniform_moments(initializers.small_uniform()(k1, (NUM_DRAWS,)), 0.5)
    _assert_uniform_moments(initializers.small_uniform(0.05)(k2, (NUM_DRAWS,)), 0.05)
    assert initializers.small_uniform()(key, (3,), jnp.bfloat16).dtype == jnp.bfloat16


def test_constant_and_dtype(key):
    out = initializers.constant(0.3)(key, (2, 3), jnp.float16)
    assert out.dtype == jnp.float16
    np.testing.assert_allclose(out, np.full((2, 3), 0.3, np.float16))


def test_fans_and_errors(key):
    assert initializers.fans((4, 7)) == (4, 7)
    assert initializers.fans((3, 3, 2, 8)) == (18, 72)
    with pytest.raises(ValueError, match=r"shape must have at least 2 axes.*got \(5,\)"):
        initializers.lecun_uniform_course()(key, (5,))
    with pytest.raises(ValueError, match="scale must be > 0, got -1"):
        initializers.small_uniform(-1.0)


def _train_mlp(key, kernel_init):
    """A few gradient steps of a 3-4-1 tanh MLP on random regression data."""
    k_data, k_target, k_init = jax.random.split(key, 3)
    x = jax.random.normal(k_data, (16, 3))
    y = jax.random.normal(k_target, (16, 1))
    model = MLP(
        features=(4, 1),
        activation="tanh",
        kernel_init=kernel_init,
        bias_init=initializers.constant(0.1),
    )
    params = model.init(k_init, x)

    def loss(p):
        return jnp.mean((model.apply(p, x) - y) ** 2)

    first_grads = jax.grad(loss)(params)
    trained, info = gradient_descent(loss, params, learning_rate=0.1, num_steps=20)
    return first_grads, trained, info


def test_constant_init_never_breaks_symmetry(key):
    grads, trained, info = _train_mlp(key, initializers.constant(0.3))
    assert float(info.loss[-1]) < float(info.loss[0])  # it does learn something...
    hidden_kernel = trained["params"]["Dense_0"]["kernel"]  # (3 inputs, 4 hidden units)
    hidden_grad = grads["params"]["Dense_0"]["kernel"]
    assert float(jnp.std(hidden_grad[:, 0])) > 0  # non-trivial gradients
    # ...but every hidden unit receives the same gradient, so all units stay copies.
    np.testing.assert_allclose(hidden_grad, hidden_grad[:, :1] * jnp.ones((1, 4)), rtol=1e-6)
    np.testing.assert_allclose(
        hidden_kernel, hidden_kernel[:, :1] * jnp.ones((1, 4)), rtol=1e-5, atol=1e-7
    )
    output_kernel = trained["params"]["Dense_1"]["kernel"][:, 0]
    np.testing.assert_allclose(output_kernel, output_kernel[0], rtol=1e-5)


def test_random_init_breaks_symmetry(key):
    _, trained, _ = _train_mlp(key, initializers.lecun_uniform_course())
    hidden_kernel = trained["params"]["Dense_0"]["kernel"]
    column_gaps = jnp.abs(hidden_kernel[:, :, None] - hidden_kernel[:, None, :]).max(axis=0)
    off_diagonal = column_gaps + jnp.eye(4) * 1e9
    assert float(off_diagonal.min()) > 1e-3  # every pair of hidden units differs
