"""Activations: closed forms, hand-written derivatives vs autodiff, PReLU."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl.nn import activations as act
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop

SMOOTH = ["sigmoid", "tanh", "gaussian", "linear", "softplus", "cosine"]
KINKED = ["relu", "leaky_relu", "step", "sign"]


def _away_from_zero(key, shape=(64,)):
    """Points with |x| >= 0.1, so kinked activations are differentiable there."""
    x = jax.random.uniform(key, shape, minval=-4.0, maxval=4.0)
    return jnp.where(jnp.abs(x) < 0.1, 0.5, x)


@pytest.mark.parametrize("name", SMOOTH + KINKED)
def test_derivative_matches_autodiff(key, name):
    fn, derivative = act.ACTIVATIONS[name]
    x = _away_from_zero(key)
    expected = jax.vmap(jax.grad(fn))(x)
    np.testing.assert_allclose(derivative(x), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", SMOOTH)
def test_smooth_activations_pass_gradient_check(key, name):
    fn, derivative = act.ACTIVATIONS[name]
    x = jax.random.normal(key, (6,))
    # The activation and its hand-written derivative (so also the second derivative).
    assert_grads_close(lambda v: jnp.sum(fn(v) ** 2 + derivative(v)), x)


def test_closed_forms_against_numpy_and_torch(key):
    x = jax.random.normal(key, (50,)) * 3.0
    xn = np.asarray(x, dtype=np.float64)
    xt = torch.tensor(xn)
    cases = {
        "sigmoid": torch.sigmoid(xt).numpy(),
        "tanh": (1 - np.exp(-2 * xn)) / (1 + np.exp(-2 * xn)),
        "relu": torch.relu(xt).numpy(),
        "gaussian": np.exp(-(xn**2) / 2),
        "linear": xn,
        "softplus": torch.nn.functional.softplus(xt).numpy(),
        "step": (xn >= 0).astype(float),
        "sign": np.where(xn >= 0, 1.0, -1.0),
    }
    for name, expected in cases.items():
        np.testing.assert_allclose(act.get_activation(name)(x), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        act.leaky_relu(x, negative_slope=0.2),
        torch.nn.functional.leaky_relu(xt, 0.2).numpy(),
        rtol=1e-5,
        atol=1e-6,
    )


def test_course_derivative_identities(key):
    x = jax.random.normal(key, (20,))
    s = act.sigmoid(x)
    np.testing.assert_allclose(act.sigmoid_derivative(x), s * (1 - s), rtol=1e-6)
    np.testing.assert_allclose(act.tanh(x), 2 * act.sigmoid(2 * x) - 1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(act.gaussian_derivative(x), -x * act.gaussian(x), rtol=1e-6)
    np.testing.assert_allclose(act.softplus_derivative(x), s, rtol=1e-6)
    assert float(act.sigmoid_derivative(0.0)) == pytest.approx(0.25)
    assert float(jnp.max(act.sigmoid_derivative(x))) <= 0.25


def test_step_and_sign_have_zero_derivative_and_two_values(key):
    x = jax.random.normal(key, (30,))
    for fn, derivative, values in (
        (act.step, act.step_derivative, {0.0, 1.0}),
        (act.sign, act.sign_derivative, {-1.0, 1.0}),
    ):
        assert set(np.unique(np.asarray(fn(x))).tolist()) <= values
        assert not np.any(np.asarray(derivative(x)))
        assert not np.any(np.asarray(jax.vmap(jax.grad(fn))(x)))
    assert float(act.sign(0.0)) == 1.0
    assert float(act.step(0.0)) == 1.0


def test_kink_conventions():
    assert float(act.relu_derivative(0.0)) == float(jax.grad(act.relu)(0.0)) == 0.0
    assert float(act.leaky_relu_derivative(0.0, 0.3)) == pytest.approx(0.3)
    assert act.leaky_relu_derivative(jnp.array([-1.0, 1.0]), 0.3).tolist() == pytest.approx(
        [0.3, 1.0]
    )


def test_integer_input_becomes_float():
    out = act.relu(jnp.array([-1, 2]))
    assert jnp.issubdtype(out.dtype, jnp.floating)
    assert out.tolist() == [0.0, 2.0]


def test_get_activation_callable_and_unknown_name():
    def custom(x):
        return x**3

    assert act.get_activation(custom) is custom
    assert act.get_activation("logistic") is act.sigmoid
    with pytest.raises(ValueError, match="activation must be one of .*got 'swishy'"):
        act.get_activation("swishy")
    with pytest.raises(ValueError, match="activation must be one of"):
        act.get_activation_derivative("swishy")
    with pytest.raises(ValueError, match="activation must be one of"):
        act.get_activation(3)


def test_get_activation_derivative_for_callables(key):
    x = jax.random.normal(key, (10,))
    assert act.get_activation_derivative(act.tanh) is act.tanh_derivative
    cube = act.get_activation_derivative(lambda v: v**3)
    np.testing.assert_allclose(cube(x), 3 * x**2, rtol=1e-6)


def test_activations_jit_and_vmap(key):
    x = jax.random.normal(key, (4, 3))

    def all_activations(v):
        return {name: (fn(v), derivative(v)) for name, (fn, derivative) in act.ACTIVATIONS.items()}

    assert_jit_matches_eager(all_activations, x)
    assert_vmap_matches_loop(all_activations, x)


class TestPReLU:
    def test_scalar_slope_matches_leaky_relu_and_torch(self, key):
        x = jax.random.normal(key, (5, 4))
        layer = act.PReLU(negative_slope_init=0.25)
        params = layer.init(jax.random.key(1), x)
        assert params["params"]["negative_slope"].shape == (1,)
        out = layer.apply(params, x)
        np.testing.assert_allclose(out, act.leaky_relu(x, 0.25), rtol=1e-6)
        torch_layer = torch.nn.PReLU(init=0.25)
        expected = torch_layer(torch.tensor(np.asarray(x))).detach().numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-6)

    def test_per_feature_slopes_are_learnable(self, key):
        x = jax.random.normal(key, (6, 3)) - 1.0  # mostly negative inputs
        layer = act.PReLU(num_slopes=3)
        params = layer.init(jax.random.key(1), x)
        slopes = jnp.array([0.1, 0.2, 0.3])
        params = {"params": {"negative_slope": slopes}}
        np.testing.assert_allclose(
            layer.apply(params, x), jnp.where(x > 0, x, slopes[None, :] * x), rtol=1e-6
        )

        def loss(p):
            return jnp.sum(layer.apply(p, x) ** 2)

        grad = jax.grad(loss)(params)["params"]["negative_slope"]
        expected = jnp.sum(jnp.where(x > 0, 0.0, 2 * slopes[None, :] * x * x), axis=0)
        np.testing.assert_allclose(grad, expected, rtol=1e-5)
        assert_grads_close(loss, params)

    def test_wrong_feature_count_raises(self):
        layer = act.PReLU(num_slopes=3)
        with pytest.raises(ValueError, match="num_slopes=3"):
            layer.init(jax.random.key(1), jnp.ones((2, 4)))
        with pytest.raises(ValueError, match="num_slopes must be > 0"):
            act.PReLU(num_slopes=0).init(jax.random.key(1), jnp.ones((2, 4)))


def test_clipped_linear_output_has_no_gradient_outside_the_unit_interval(key):
    """Seed 002 (ch. 6, output units): the output max(0, min(1, w . h + b)) is a valid
    probability, but its gradient in w and b vanishes whenever w . h + b leaves (0, 1)."""
    h = jax.random.normal(key, (5,))
    w = jnp.full((5,), 0.1)

    def unit(w, b):
        return act.clipped_linear(jnp.dot(w, h) + b)

    z0 = float(jnp.dot(w, h))
    for target_z, inside in ((-3.0, False), (0.3, True), (0.8, True), (4.0, False)):
        b = jnp.float32(target_z - z0)
        grad_w, grad_b = jax.grad(unit, argnums=(0, 1))(w, b)
        if inside:
            np.testing.assert_allclose(grad_w, h, rtol=1e-6)
            assert float(grad_b) == 1.0
        else:
            assert not np.any(np.asarray(grad_w)) and float(grad_b) == 0.0
    x = jnp.array([-1.0, 0.2, 0.7, 1.5])
    np.testing.assert_array_equal(act.clipped_linear(x), np.clip(np.asarray(x), 0.0, 1.0))
    np.testing.assert_array_equal(
        act.clipped_linear_derivative(x), jax.vmap(jax.grad(act.clipped_linear))(x)
    )
    assert_grads_close(lambda v: jnp.sum(act.clipped_linear(v) ** 2), jnp.array([0.2, 0.6]))
