"""Tests for proximal L1 and max-norm GradientTransformations."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.losses.regularizers import l1_penalty, l2_penalty
from jaxdl.optim.constraints import (
    l1_proximal,
    l1_proximal_sgd,
    max_norm,
    project_max_norm,
    soft_threshold,
)
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop
from tests._fixtures import optax_steps


def _sparse_regression(key, num_examples=40, num_features=10):
    """y depends on 3 of 10 features."""
    x_key, n_key = jax.random.split(key)
    x = jax.random.normal(x_key, (num_examples, num_features))
    true_w = jnp.zeros(num_features).at[jnp.array([0, 3, 7])].set(jnp.array([2.0, -1.5, 1.0]))
    y = x @ true_w + 0.05 * jax.random.normal(n_key, (num_examples,))
    return x, y


def _train(tx, x, y, penalty=None, num_steps=300):
    params = {"kernel": jnp.zeros(x.shape[1]) + 0.3, "bias": jnp.zeros(())}

    def loss(p):
        data = jnp.mean(jnp.square(x @ p["kernel"] + p["bias"] - y)) / 2
        return data if penalty is None else data + penalty(p)

    return optax_steps(tx, params, loss, num_steps)


def test_soft_threshold_values_and_exact_zeros():
    out = soft_threshold(jnp.array([-3.0, -0.5, 0.0, 0.9, 2.0]), 1.0)
    np.testing.assert_array_equal(out, [-2.0, 0.0, 0.0, 0.0, 1.0])


def test_soft_threshold_is_the_proximal_map(key):
    """prox_t(v) = argmin_w t|w| + (w - v)^2 / 2, checked on a dense grid."""
    v = jax.random.normal(key, (7,)) * 2
    grid = jnp.linspace(-6, 6, 24001)
    objective = 0.7 * jnp.abs(grid[:, None]) + 0.5 * jnp.square(grid[:, None] - v[None, :])
    brute = grid[jnp.argmin(objective, axis=0)]
    np.testing.assert_allclose(soft_threshold(v, 0.7), brute, atol=1e-3)


def test_soft_threshold_grad_jit_vmap(key):
    v = jnp.array([-2.0, 1.5, 3.0])
    assert_grads_close(lambda z: jnp.sum(soft_threshold(z, 0.5) ** 2), v)
    assert_jit_matches_eager(lambda z: soft_threshold(z, 0.5), v)
    assert_vmap_matches_loop(lambda z: soft_threshold(z, 0.5), jax.random.normal(key, (4, 3)))


def test_proximal_l1_produces_exact_zeros_and_l2_does_not(key):
    x, y = _sparse_regression(key)
    lr = 0.05
    w_l1 = _train(l1_proximal_sgd(lr, 0.1), x, y)["kernel"]
    w_l2 = _train(optax.sgd(lr), x, y, penalty=lambda p: l2_penalty(p, 0.1))["kernel"]
    w_sub = _train(optax.sgd(lr), x, y, penalty=lambda p: l1_penalty(p, 0.1))["kernel"]
    zeros_l1 = int(np.sum(np.asarray(w_l1) == 0.0))
    assert zeros_l1 >= 5  # most of the 7 irrelevant features are removed exactly
    assert np.all(np.asarray(w_l1)[[0, 3, 7]] != 0.0)  # the relevant ones survive
    assert int(np.sum(np.asarray(w_l2) == 0.0)) == 0  # weight decay only shrinks
    assert int(np.sum(np.asarray(w_sub) == 0.0)) == 0  # subgradient steps oscillate around 0


def test_proximal_l1_matches_lasso_solution(key):
    from sklearn.linear_model import Lasso

    x, y = _sparse_regression(key)
    params = _train(l1_proximal_sgd(0.1, 0.05), x, y, num_steps=2000)
    # sklearn's Lasso objective: ||y - Xw - b||^2 / (2n) + alpha ||w||_1, same as ours
    ref = Lasso(alpha=0.05, fit_intercept=True, tol=1e-8, max_iter=100000).fit(
        np.asarray(x, np.float64), np.asarray(y, np.float64)
    )
    np.testing.assert_allclose(params["kernel"], ref.coef_, atol=2e-3)
    np.testing.assert_array_equal(np.asarray(params["kernel"]) == 0, ref.coef_ == 0)


def test_proximal_l1_leaves_biases_alone():
    params = {"kernel": jnp.array([0.01, 1.0]), "bias": jnp.array([0.01])}
    tx = l1_proximal(0.1, 1.0)
    zero = jax.tree.map(jnp.zeros_like, params)
    updates, _ = tx.update(zero, tx.init(params), params)
    new = optax.apply_updates(params, updates)
    np.testing.assert_allclose(new["kernel"], [0.0, 0.9], rtol=1e-6)
    np.testing.assert_array_equal(new["bias"], params["bias"])


def test_transforms_need_params():
    params = {"kernel": jnp.ones((2, 2))}
    for tx in (l1_proximal(0.1, 0.1), max_norm(1.0)):
        with pytest.raises(ValueError, match="needs the current parameters"):
            tx.update(params, tx.init(params))


def test_transform_argument_errors():
    with pytest.raises(ValueError, match="strength must be >= 0"):
        l1_proximal(0.1, -0.1)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        l1_proximal(0.0, 0.1)
    with pytest.raises(ValueError, match="max_value must be > 0"):
        max_norm(-2.0)
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        soft_threshold(jnp.ones(2), -1.0)
    with pytest.raises(ValueError, match="selected no parameter"):
        tx = max_norm(1.0, include="Conv")
        params = {"Dense_0": {"kernel": jnp.ones((2, 2))}}
        tx.update(params, tx.init(params), params)


def test_project_max_norm_per_unit_columns():
    w = jnp.array([[3.0, 0.3], [4.0, 0.4]])  # column norms 5 and 0.5
    out = project_max_norm(w, 1.0)
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), [1.0, 0.5], rtol=1e-6)
    np.testing.assert_allclose(out[:, 1], w[:, 1])  # inside the ball: unchanged
    np.testing.assert_allclose(out[:, 0] / np.linalg.norm(out[:, 0]), [0.6, 0.8], rtol=1e-6)
    rows = project_max_norm(w, 1.0, axis=1)
    np.testing.assert_allclose(np.linalg.norm(rows, axis=1), [1.0, 1.0], rtol=1e-6)


def test_project_max_norm_conv_kernel_and_grads(key):
    kernel = jax.random.normal(key, (3, 3, 2, 4)) * 3
    out = project_max_norm(kernel, 2.0)
    norms = np.sqrt(np.sum(np.square(np.asarray(out)), axis=(0, 1, 2)))
    assert np.all(norms <= 2.0 + 1e-5)
    w = jnp.array([[3.0, 0.3], [4.0, 0.4]])
    assert_grads_close(lambda z: jnp.sum(project_max_norm(z, 1.0) ** 2), w)
    assert_jit_matches_eager(lambda z: project_max_norm(z, 1.0), w)
    assert_vmap_matches_loop(lambda z: project_max_norm(z, 1.0), kernel[0])


def test_max_norm_transform_keeps_kernels_in_ball_during_training(key):
    x, y = _sparse_regression(key)
    params = {"Dense_0": {"kernel": jnp.zeros((10, 1)), "bias": jnp.zeros((1,))}}
    tx = optax.chain(optax.sgd(0.1), max_norm(1.0))

    def loss(p):
        pred = x @ p["Dense_0"]["kernel"] + p["Dense_0"]["bias"][None, :]
        return jnp.mean(jnp.square(pred[:, 0] - y))

    def body(carry, _):
        p, s = carry
        updates, s = tx.update(jax.grad(loss)(p), s, p)
        return (optax.apply_updates(p, updates), s), None

    (params, _), _ = jax.lax.scan(body, (params, tx.init(params)), None, length=30)
    norm = float(jnp.linalg.norm(params["Dense_0"]["kernel"]))
    # the unconstrained solution has norm ~2.7; the constraint is active and respected
    np.testing.assert_allclose(norm, 1.0, rtol=1e-5)
