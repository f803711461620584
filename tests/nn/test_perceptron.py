"""Perceptron: convergence on separable data within Novikoff's bound, failure on XOR."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn import perceptron as pc
from jaxdl.testing import assert_vmap_matches_loop

XOR_X = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = jnp.array([-1.0, 1.0, 1.0, -1.0])


def _separable(key, n=40, margin=0.2):
    """Points in [-1, 1]^2 labelled by a random line, keeping only those away from it."""
    k_w, k_x = jax.random.split(key)
    w_true = jax.random.normal(k_w, (3,))
    w_true = w_true / jnp.linalg.norm(w_true[1:])
    x = pc.add_bias_input(jax.random.uniform(k_x, (4 * n, 2), minval=-1.0, maxval=1.0))
    net = x @ w_true
    keep = np.flatnonzero(np.abs(np.asarray(net)) > margin)[:n]
    assert keep.size == n
    return x[keep], jnp.where(net[keep] > 0, 1.0, -1.0), w_true


def test_converges_on_separable_data_within_the_bound(key):
    k_data, k_fit = jax.random.split(key)
    x, t, w_true = _separable(k_data)
    result = pc.perceptron_fit(k_fit, x, t, max_steps=20_000)
    assert bool(result.converged)
    np.testing.assert_array_equal(pc.perceptron_predict(result.weights, x), t)
    bound = pc.perceptron_bound(x, t, w_true)
    assert float(bound.margin) > 0
    assert 0 < int(result.num_updates) <= float(bound.bound)
    assert int(result.num_updates) <= int(result.num_steps) < 20_000


def test_learning_rate_only_rescales_from_zero(key):
    k_data, k_fit = jax.random.split(key)
    x, t, _ = _separable(k_data, n=20)
    slow = pc.perceptron_fit(k_fit, x, t, learning_rate=1.0)
    fast = pc.perceptron_fit(jax.random.clone(k_fit), x, t, learning_rate=0.01)
    assert int(slow.num_updates) == int(fast.num_updates)
    np.testing.assert_allclose(fast.weights * 100.0, slow.weights, rtol=1e-4)


def test_xor_does_not_converge(key):
    result = pc.perceptron_fit(key, pc.add_bias_input(XOR_X), XOR_T, max_steps=300)
    assert not bool(result.converged)
    assert int(result.num_steps) == 300
    mistakes = jnp.sum(pc.perceptron_predict(result.weights, pc.add_bias_input(XOR_X)) != XOR_T)
    assert int(mistakes) >= 1


def test_update_rule_step_by_step():
    # One update from w = 0 on a negative example: o = sign(0) = +1 != t = -1,
    # so w <- 0 + eta (t - o) x = -2 eta x.
    x = jnp.array([[1.0, 2.0]])
    result = pc.perceptron_fit(jax.random.key(3), x, jnp.array([-1.0]), learning_rate=0.5)
    np.testing.assert_allclose(result.weights, [-1.0, -2.0])
    assert int(result.num_updates) == 1 and bool(result.converged)


def test_bound_quantities():
    x = jnp.array([[3.0, 4.0], [1.0, -1.0]])
    t = jnp.array([1.0, -1.0])
    bound = pc.perceptron_bound(x, t, jnp.array([0.0, 2.0]))  # normalized to (0, 1)
    assert float(bound.radius) == pytest.approx(5.0)
    assert float(bound.margin) == pytest.approx(1.0)
    assert float(bound.bound) == pytest.approx(25.0)
    not_separating = pc.perceptron_bound(x, t, jnp.array([0.0, -1.0]))
    assert float(not_separating.margin) < 0 and bool(jnp.isinf(not_separating.bound))


def test_bound_of_a_point_on_the_hyperplane_is_infinite():
    # x_2 lies on the hyperplane of w (0.1 * 3 - 0.3 * 1 = 0 exactly, but not in float32):
    # the float32 margin is rounding error, not a proof of separation.
    x = jnp.array([[1.0, 0.0], [0.1, 3.0]])
    w = jnp.array([0.3, -0.01])
    exact_margin = min(1.0 * 0.3, 0.1 * 0.3 - 3.0 * 0.01)  # = 0 in real arithmetic
    assert exact_margin == pytest.approx(0.0, abs=1e-12)
    bound = pc.perceptron_bound(x, jnp.array([1.0, 1.0]), w)
    assert abs(float(bound.margin)) < 1e-6
    assert bool(jnp.isinf(bound.bound))


def test_perceptron_module(key):
    model = pc.Perceptron(features=2)
    x = jax.random.normal(key, (5, 3))
    params = model.init(jax.random.key(1), x)
    out = model.apply(params, x)
    assert out.shape == (5, 2)
    assert set(np.unique(np.asarray(out)).tolist()) <= {-1.0, 1.0}
    net = model.apply(params, x, return_net=True)
    np.testing.assert_array_equal(out, jnp.where(net >= 0, 1.0, -1.0))


def test_vmap_over_keys(key):
    k_data, k_fit = jax.random.split(key)
    x, t, _ = _separable(k_data, n=6, margin=0.4)

    def fit(k, inputs, targets):
        return pc.perceptron_fit(k, inputs, targets, max_steps=30)

    # perceptron_fit is jitted inside; vmapping it over keys equals a loop over keys.
    keys = jax.random.split(k_fit, 3)
    assert_vmap_matches_loop(jax.jit(fit), keys, x, t, in_axes=(0, None, None))


def test_errors(key):
    x = pc.add_bias_input(XOR_X)
    with pytest.raises(ValueError, match=r"t must hold labels -1 or \+1"):
        pc.perceptron_fit(key, x, jnp.array([0.0, 1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="x and t must have the same number of rows"):
        pc.perceptron_fit(key, x, XOR_T[:3])
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        pc.perceptron_fit(key, x, XOR_T, learning_rate=-1.0)
    with pytest.raises(TypeError, match="max_steps must be an int"):
        pc.perceptron_fit(key, x, XOR_T, max_steps=10.0)
    with pytest.raises(ValueError, match=r"initial_weights must have shape \(3\)"):
        pc.perceptron_fit(key, x, XOR_T, initial_weights=jnp.zeros(2))
    with pytest.raises(ValueError, match=r"w_star must have shape \(3\)"):
        pc.perceptron_bound(x, XOR_T, jnp.zeros(2))
    with pytest.raises(ValueError, match="x must have rank 2"):
        pc.add_bias_input(jnp.ones(3))
