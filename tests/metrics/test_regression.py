"""Regression metrics against scikit-learn, gradients, jit/vmap and errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as skm

from jaxdl import metrics
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop

PAIRS = [
    (metrics.mean_squared_error, skm.mean_squared_error),
    (metrics.root_mean_squared_error, skm.root_mean_squared_error),
    (metrics.mean_absolute_error, skm.mean_absolute_error),
    (metrics.r2_score, skm.r2_score),
]


def _case(seed: int, shape: tuple[int, ...]):
    rng = np.random.default_rng(seed)
    targets = rng.normal(size=shape).astype(np.float32)
    predictions = (targets + rng.normal(0.0, 0.5, size=shape)).astype(np.float32)
    return predictions, targets


@pytest.mark.parametrize("shape", [(20,), (20, 3)])
@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_regression_metrics_match_sklearn(ours, theirs, shape):
    predictions, targets = _case(0, shape)
    expected = theirs(targets, predictions)  # scikit-learn takes (y_true, y_pred)
    np.testing.assert_allclose(float(ours(targets, predictions)), expected, rtol=1e-5)


def test_r2_constant_target_is_finite_like_sklearn():
    targets = np.array([[2.0, 1.0], [2.0, 2.0], [2.0, 3.0]], np.float32)
    predictions = np.array([[2.0, 1.5], [2.0, 2.0], [2.0, 2.0]], np.float32)
    expected = skm.r2_score(targets, predictions)
    np.testing.assert_allclose(float(metrics.r2_score(targets, predictions)), expected, rtol=1e-6)
    off = predictions.copy()
    off[0, 0] = 3.0
    np.testing.assert_allclose(
        float(metrics.r2_score(targets, off)), skm.r2_score(targets, off), rtol=1e-6
    )
    assert float(metrics.r2_score(targets, targets)) == 1.0


@pytest.mark.parametrize(("ours", "theirs"), PAIRS)
def test_regression_metric_gradients(ours, theirs):
    predictions, targets = _case(1, (6, 2))
    assert_grads_close(lambda p, t: ours(t, p), predictions, targets, rtol=1e-5, atol=1e-8)


def test_regression_metrics_jit_and_vmap():
    predictions, targets = _case(2, (3, 8, 2))
    for ours, _ in PAIRS:
        assert_jit_matches_eager(ours, targets[0], predictions[0])
        assert_vmap_matches_loop(ours, targets, predictions)


def test_regression_errors():
    with pytest.raises(ValueError, match=r"predictions must have shape \(4\)"):
        metrics.mean_squared_error(jnp.zeros(4), jnp.zeros(3))
    with pytest.raises(TypeError, match="targets must have a floating dtype"):
        metrics.r2_score(jnp.zeros(3, jnp.int32), jnp.zeros(3))
    with pytest.raises(ValueError, match="targets must have rank 1 or 2"):
        metrics.mean_absolute_error(jnp.zeros((2, 2, 2)), jnp.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="at least one example"):
        metrics.root_mean_squared_error(jnp.zeros(0), jnp.zeros(0))
    # The gradient of the MSE is 2 (yhat - y) / N: a closed-form check.
    predictions, targets = _case(3, (5,))
    grad = jax.grad(metrics.mean_squared_error)(predictions, targets)
    np.testing.assert_allclose(grad, 2 * (predictions - targets) / 5, rtol=1e-5)


@pytest.mark.parametrize("value", [7.0, 0.1, -3.3, 1e4])
@pytest.mark.parametrize("n", [13, 7, 100])
def test_r2_constant_float32_target_like_sklearn(value, n):
    # float32 mean of thirteen 7.0s is 7.0000005: SS_tot ~ 1e-12, not 0.
    # (scikit-learn itself gets -4.5e15 on float32 0.1s: the reference is in float64.)
    targets = np.full(n, value, np.float32)
    off = targets + np.float32(0.5)
    t64, off64 = targets.astype(np.float64), off.astype(np.float64)
    assert float(metrics.r2_score(targets, off)) == skm.r2_score(t64, off64) == 0.0
    assert float(metrics.r2_score(targets, targets)) == skm.r2_score(t64, t64) == 1.0
    both = np.stack([targets, np.linspace(0.0, 1.0, n, dtype=np.float32)], axis=1)
    predictions = both + np.float32(0.1)
    expected = skm.r2_score(both.astype(np.float64), predictions.astype(np.float64))
    np.testing.assert_allclose(float(metrics.r2_score(both, predictions)), expected, rtol=1e-5)


# Random values over a few sizes (each new size compiles every eager op again).
@settings(max_examples=25)
@given(
    value=st.floats(-1e3, 1e3, allow_nan=False, width=32),
    n=st.sampled_from([3, 13, 50]),
    relative_step=st.sampled_from([1e-2, 1e-1, 1.0]),
)
def test_r2_near_constant_target_matches_float64(value, n, relative_step):
    step = relative_step * max(abs(value), 1.0)
    targets = (value + step * (np.arange(n) % 3)).astype(np.float32)
    predictions = (targets + 0.1 * step * np.cos(np.arange(n))).astype(np.float32)
    expected = skm.r2_score(targets.astype(np.float64), predictions.astype(np.float64))
    np.testing.assert_allclose(float(metrics.r2_score(targets, predictions)), expected, atol=1e-3)
