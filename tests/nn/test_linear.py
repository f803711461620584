"""Linear models: closed form == gradient descent == scikit-learn."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge

from jaxdl import nn as jnn
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


def _regression_data(key, n=40, d=3, k=None):
    k1, k2, k3 = jax.random.split(key, 3)
    x = jax.random.normal(k1, (n, d)) + 0.5
    true_w = jax.random.normal(k2, (d,) if k is None else (d, k))
    y = x @ true_w + 1.5 + 0.1 * jax.random.normal(k3, (n,) if k is None else (n, k))
    return x, y


def _np(x):
    return np.asarray(x, np.float64)


def test_least_squares_matches_sklearn_and_numpy_lstsq(key):
    x, y = _regression_data(key)
    model = jnn.least_squares(x, y)
    reference = LinearRegression().fit(_np(x), _np(y))
    np.testing.assert_allclose(model.weights, reference.coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.intercept, reference.intercept_, rtol=1e-4, atol=1e-5)
    no_intercept = jnn.least_squares(x, y, fit_intercept=False)
    lstsq = np.linalg.lstsq(_np(x), _np(y), rcond=None)[0]
    np.testing.assert_allclose(no_intercept.weights, lstsq, rtol=1e-4, atol=1e-5)
    assert float(no_intercept.intercept) == 0.0


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_ridge_matches_sklearn_multi_output(key, fit_intercept):
    x, y = _regression_data(key, k=2)
    model = jnn.ridge(x, y, strength=3.0, fit_intercept=fit_intercept)
    reference = Ridge(alpha=3.0, fit_intercept=fit_intercept).fit(_np(x), _np(y))
    np.testing.assert_allclose(model.weights, reference.coef_.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(model.intercept, reference.intercept_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        jnn.linear_predict(model, x), reference.predict(_np(x)), rtol=1e-4, atol=1e-4
    )


def test_ridge_normal_equations_and_shrinkage(key):
    x, y = _regression_data(key)
    model = jnn.ridge(x, y, strength=2.0, fit_intercept=False)
    # (X^T X + alpha I) w = X^T y holds.
    lhs = (x.T @ x + 2.0 * jnp.eye(3)) @ model.weights
    np.testing.assert_allclose(lhs, x.T @ y, rtol=1e-4, atol=1e-4)
    norms = [
        float(jnp.linalg.norm(jnn.ridge(x, y, strength=a).weights)) for a in (0.0, 10.0, 1000.0)
    ]
    assert norms[0] > norms[1] > norms[2]


def test_gradient_descent_reaches_the_closed_form(key):
    x, y = _regression_data(key)
    for alpha in (0.0, 5.0):
        closed = jnn.ridge(x, y, strength=alpha)
        fitted, info = jnn.linear_regression_gd(
            x, y, strength=alpha, learning_rate=0.2, num_steps=800
        )
        np.testing.assert_allclose(fitted.weights, closed.weights, rtol=1e-3, atol=1e-4)
        np.testing.assert_allclose(fitted.intercept, closed.intercept, rtol=1e-3, atol=1e-4)
        assert info.loss.shape == (800,)
        assert bool(jnp.all(jnp.diff(info.loss) <= 1e-6))  # monotone descent
    fitted, _ = jnn.linear_regression_gd(
        x, y, learning_rate=0.2, num_steps=800, fit_intercept=False
    )
    closed = jnn.least_squares(x, y, fit_intercept=False)
    np.testing.assert_allclose(fitted.weights, closed.weights, rtol=1e-3, atol=1e-4)


def test_linear_regression_loss_gradient(key):
    x, y = _regression_data(key, n=8)
    model = jnn.LinearModel(jnp.array([0.1, -0.2, 0.3]), jnp.array(0.5))
    assert_grads_close(jnn.linear_regression_loss, model, x, y, 0.7)
    # The course's form: -1/N X^T (y - X w - b) + alpha/N w.
    grad = jax.grad(jnn.linear_regression_loss)(model, x, y, 0.7)
    residual = y - jnn.linear_predict(model, x)
    np.testing.assert_allclose(
        grad.weights, (-(x.T @ residual) + 0.7 * model.weights) / 8, rtol=1e-5, atol=1e-6
    )


def _classification_data(key, n=60):
    k1, k2 = jax.random.split(key)
    x = jax.random.normal(k1, (n, 2))
    logits = 2.0 * x[:, 0] - x[:, 1] + 0.3
    y = jax.random.bernoulli(k2, jax.nn.sigmoid(logits)).astype(jnp.int32)
    return x, y


def test_logistic_regression_gd_matches_sklearn(key):
    x, y = _classification_data(key)
    l2 = 0.01
    fitted, info = jnn.logistic_regression_gd(x, y, strength=l2, learning_rate=1.0, num_steps=1500)
    assert float(info.loss[-1]) < float(info.loss[0])
    reference = LogisticRegression(C=1.0 / (x.shape[0] * l2), tol=1e-10, max_iter=10_000)
    reference.fit(_np(x), np.asarray(y))
    np.testing.assert_allclose(fitted.weights, reference.coef_[0], rtol=2e-3, atol=2e-4)
    np.testing.assert_allclose(fitted.intercept, reference.intercept_[0], rtol=2e-3, atol=2e-4)
    # Almost unregularized (large C) agrees to a looser tolerance.
    nearly_free, _ = jnn.logistic_regression_gd(
        x, y, strength=1e-6, learning_rate=1.0, num_steps=3000
    )
    reference = LogisticRegression(C=1e6, tol=1e-10, max_iter=10_000).fit(_np(x), np.asarray(y))
    np.testing.assert_allclose(nearly_free.weights, reference.coef_[0], rtol=2e-2)


def test_logistic_regression_loss_gradient(key):
    x, y = _classification_data(key, n=10)
    model = jnn.LinearModel(jnp.array([0.4, -0.3]), jnp.array(0.1))
    assert_grads_close(jnn.logistic_regression_loss, model, x, y, 0.1)
    grad = jax.grad(jnn.logistic_regression_loss)(model, x, y, 0.0)
    p = jax.nn.sigmoid(jnn.linear_predict(model, x))
    np.testing.assert_allclose(
        grad.weights, x.T @ (p - y.astype(jnp.float32)) / 10, rtol=1e-5, atol=1e-6
    )


def test_logistic_regression_module(key):
    k1, k2 = jax.random.split(key)
    x = jax.random.normal(k1, (5, 4))
    binary = jnn.LogisticRegression(num_classes=2)
    params = binary.init(k2, x)
    assert binary.apply(params, x).shape == (5,)
    multi = jnn.LogisticRegression(num_classes=3)
    assert multi.apply(multi.init(jax.random.clone(k2), x), x).shape == (5, 3)
    with pytest.raises(ValueError, match="num_classes must be >= 2, got 1"):
        jnn.LogisticRegression(num_classes=1).init(jax.random.clone(k2), x)


def test_jit_and_vmap(key):
    x, y = _regression_data(key, n=10)
    assert_jit_matches_eager(jnn.ridge, x, y, 1.0)
    # vmap over several data sets (e.g. bootstrap resamples) equals a loop.
    xs = jnp.stack([x, 2.0 * x])
    ys = jnp.stack([y, y + 1.0])
    assert_vmap_matches_loop(lambda a, b: jnn.ridge(a, b, 1.0), xs, ys, rtol=1e-4)


def test_errors(key):
    x, y = _regression_data(key, n=5)
    with pytest.raises(ValueError, match="x and y must have the same number of rows"):
        jnn.ridge(x, y[:4], 1.0)
    with pytest.raises(ValueError, match="strength must be >= 0, got -1.0"):
        jnn.ridge(x, y, -1.0)
    with pytest.raises(ValueError, match="x must have rank 2"):
        jnn.least_squares(x[0], y)
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        jnn.least_squares(jnp.ones((5, 3), jnp.int32), y)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        jnn.linear_regression_gd(x, y, learning_rate=0.0)
    with pytest.raises(TypeError, match="num_steps must be an int"):
        jnn.linear_regression_gd(x, y, num_steps=2.5)
    with pytest.raises(ValueError, match="y must have rank 1"):
        jnn.logistic_regression_gd(x, jnp.zeros((5, 2)))
    with pytest.raises(ValueError, match="strength must be >= 0"):
        jnn.logistic_regression_gd(x, jnp.zeros(5), strength=-0.1)


def test_gradient_descent_cost_values_of_the_course_example():
    """Seed 002 (ch. 2, gradient descent): J(theta) = 1/(2m) sum (theta x - y)^2 on
    {(1, 1), (2, 2), (3, 3)}. J(1) = 0, J(0) = 14/6 = 2.333 and J(-0.5) = 31.5/6 = 5.25;
    the seed prints J(0.5) ~ 0.67, but (0.25 + 1 + 2.25) / 6 = 0.5833 is the correct value.
    """
    x = jnp.array([[1.0], [2.0], [3.0]])
    y = jnp.array([1.0, 2.0, 3.0])

    def cost(theta):
        return float(jnn.linear_regression_loss(jnn.LinearModel(jnp.array([theta]), 0.0), x, y))

    np.testing.assert_allclose(
        [cost(t) for t in (1.0, 0.5, 0.0, -0.5)], [0.0, 3.5 / 6, 14 / 6, 31.5 / 6], rtol=1e-6
    )
    assert round(cost(0.5), 4) == 0.5833 and round(cost(0.0), 3) == 2.333
    assert abs(cost(0.5) - 0.67) > 0.08  # the seed's printed value is off


def test_minimum_norm_solutions_of_one_equation():
    """Seed 002 (ch. 7, L1 vs L2 geometry): the point ([10, 1], 5) has a line of
    solutions; minimum L1 norm (0.5, 0) (sparse), minimum L2 norm (0.4950, 0.0495)."""
    x, y = jnp.array([[10.0, 1.0]]), jnp.array([5.0])
    l1 = jnn.minimum_norm_solution(x, y, norm="l1")
    l2 = jnn.minimum_norm_solution(x, y, norm="l2")
    np.testing.assert_allclose(l1, [0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(l2, [0.4950, 0.0495], atol=5e-5)
    np.testing.assert_allclose(l2, np.array([10.0, 1.0]) * 5 / 101, rtol=1e-6)
    for w in (l1, l2):  # both solve the equation
        np.testing.assert_allclose(x @ w, y, rtol=1e-6)
    # Each is the smallest in its own norm among points on the line w2 = 5 - 10 w1.
    w1 = np.linspace(-1.0, 1.5, 2001)
    line = np.stack([w1, 5.0 - 10.0 * w1], axis=1)
    assert np.abs(line).sum(1).min() >= float(jnp.abs(l1).sum()) - 1e-6
    assert np.linalg.norm(line, axis=1).min() >= float(jnp.linalg.norm(l2)) - 1e-6
    # L2 with several equations is the pseudo-inverse (lstsq's minimum-norm) solution.
    x3 = jnp.array([[1.0, 2.0, 3.0], [0.0, 1.0, -1.0]])
    np.testing.assert_allclose(
        jnn.minimum_norm_solution(x3, jnp.array([1.0, 2.0])),
        np.linalg.lstsq(_np(x3), [1.0, 2.0], rcond=None)[0],
        rtol=1e-5,
        atol=1e-6,
    )
    with pytest.raises(ValueError, match="one equation"):
        jnn.minimum_norm_solution(x3, jnp.array([1.0, 2.0]), norm="l1")
    with pytest.raises(ValueError, match="norm must be"):
        jnn.minimum_norm_solution(x, y, norm="l0")


def test_feature_expansions_fitted_by_least_squares(key):
    """Seed 003 (slides, features and perceptrons): r(x) = b + sum_j w_j phi_j(x) with
    polynomial features [1, x, x^2, x^3] or sigmoid features sigma(5x + 5),
    sigma(5x - 5), sigma(5x - 10), the weights by least squares."""
    x = jnp.linspace(-2.0, 3.0, 25)
    y = jnp.sin(1.5 * x) + 0.1 * jax.random.normal(key, (25,))
    phi = jnn.polynomial_features(x, 3)
    np.testing.assert_allclose(phi, np.vander(np.asarray(x), 4, increasing=True), rtol=1e-6)
    cubic = jnn.least_squares(phi, y, fit_intercept=False)
    np.testing.assert_allclose(
        cubic.weights, np.polyfit(_np(x), _np(y), 3)[::-1], rtol=2e-3, atol=2e-4
    )
    slopes, offsets = jnp.array([5.0, 5.0, 5.0]), jnp.array([5.0, -5.0, -10.0])
    sig = jnn.sigmoid_features(x[:, None], slopes, offsets)
    np.testing.assert_allclose(
        sig, 1 / (1 + np.exp(-(5 * _np(x)[:, None] + _np(offsets)))), rtol=1e-5, atol=1e-7
    )
    fit = jnn.least_squares(sig, y)
    design = np.column_stack([np.ones(25), _np(sig)])
    reference = np.linalg.lstsq(design, _np(y), rcond=None)[0]
    np.testing.assert_allclose(np.r_[fit.intercept, fit.weights], reference, rtol=2e-3, atol=2e-3)
    # The sigmoid features are a hidden layer of fixed perceptrons: the same predictions
    # as a 1-3-1 MLP with these hidden weights and the fitted output layer.
    params = {
        "params": {
            "Dense_0": {"kernel": slopes[None, :], "bias": offsets},
            "Dense_1": {"kernel": fit.weights[:, None], "bias": fit.intercept[None]},
        }
    }
    mlp = jnn.MLP(features=(3, 1), activation="sigmoid")
    np.testing.assert_allclose(
        mlp.apply(params, x[:, None])[:, 0], jnn.linear_predict(fit, sig), rtol=1e-5
    )
    with pytest.raises(ValueError, match="degree must be > 0"):
        jnn.polynomial_features(x, 0)
    with pytest.raises(ValueError, match="offsets"):
        jnn.sigmoid_features(x, slopes, offsets[:2])
