"""Gradient-norm traces, Hessian spectra, condition numbers, critical points."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import optim
from jaxdl.testing import assert_grads_close, assert_vmap_matches_loop

CURVATURES = np.array([1.0, 25.0])


def quadratic(p):
    return 0.5 * jnp.sum(jnp.asarray(CURVATURES, p.dtype) * p**2)


def test_gradient_norm_trace_matches_a_numpy_loop():
    trace = optim.gradient_norm_trace(quadratic, jnp.array([1.0, 1.0]), optax.sgd(0.05), 8)
    theta, norms, losses = np.array([1.0, 1.0]), [], []
    for _ in range(8):
        g = CURVATURES * theta
        norms.append(np.linalg.norm(g))
        losses.append(0.5 * np.sum(CURVATURES * theta**2))
        theta = theta - 0.05 * g
    np.testing.assert_allclose(trace.gradient_norms, norms, rtol=1e-5)
    np.testing.assert_allclose(trace.losses, losses, rtol=1e-5)
    np.testing.assert_allclose(trace.params, theta, rtol=1e-5)


def test_gradient_norm_trace_over_minibatches():
    targets = jnp.array([[1.0], [2.0], [3.0], [4.0]])

    def batch_loss(w, target):
        return jnp.sum((w - target) ** 2)

    trace = optim.gradient_norm_trace(batch_loss, jnp.zeros(1), optax.sgd(0.25), batches=targets)
    w, norms = 0.0, []
    for t in [1.0, 2.0, 3.0, 4.0]:
        g = 2 * (w - t)
        norms.append(abs(g))
        w -= 0.25 * g
    np.testing.assert_allclose(trace.gradient_norms, norms, rtol=1e-6)
    assert trace.losses.shape == (4,)


def test_gradient_norm_trace_bad_input():
    with pytest.raises(ValueError, match="num_steps must be given"):
        optim.gradient_norm_trace(quadratic, jnp.ones(2), optax.sgd(0.1))
    with pytest.raises(ValueError, match="num_steps must be > 0"):
        optim.gradient_norm_trace(quadratic, jnp.ones(2), optax.sgd(0.1), 0)
    with pytest.raises(ValueError, match="share one leading"):
        optim.gradient_norm_trace(
            lambda p, b: quadratic(p),
            jnp.ones(2),
            optax.sgd(0.1),
            batches=(jnp.ones(3), jnp.ones(4)),
        )
    with pytest.raises(ValueError, match="num_steps must equal"):
        optim.gradient_norm_trace(
            lambda p, b: quadratic(p), jnp.ones(2), optax.sgd(0.1), 5, batches=jnp.ones(3)
        )


def test_hessian_matrix_and_eigenvalues_match_numpy():
    rng = np.random.default_rng(0)
    M = rng.normal(size=(4, 4))
    A = M + M.T

    def loss(params):
        theta = jnp.concatenate([params["a"], params["b"].reshape(-1)])
        return 0.5 * theta @ jnp.asarray(A) @ theta + jnp.sum(theta**3) / 6

    params = {"a": jnp.array([0.1, -0.2]), "b": jnp.array([[0.3, 0.0]])}
    theta = np.array([0.1, -0.2, 0.3, 0.0])
    expected = A + np.diag(theta)
    np.testing.assert_allclose(optim.hessian_matrix(loss, params), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        optim.hessian_eigenvalues(loss, params), np.linalg.eigvalsh(expected), rtol=1e-5, atol=1e-5
    )


def test_condition_number_of_quadratics():
    assert float(optim.condition_number(quadratic, jnp.ones(2))) == pytest.approx(25.0, rel=1e-5)
    # a zero eigenvalue is skipped: the ratio uses the smallest nonzero one
    flat_direction = lambda p: 0.5 * (4.0 * p[0] ** 2 + p[1] ** 2) + 0.0 * p[2]
    assert float(optim.condition_number(flat_direction, jnp.ones(3))) == pytest.approx(4.0)
    # indefinite: magnitudes
    saddle = lambda p: 3.0 * p[0] ** 2 - 0.5 * p[1] ** 2
    assert float(optim.condition_number(saddle, jnp.ones(2))) == pytest.approx(6.0)
    assert np.isinf(optim.condition_number(lambda p: jnp.sum(p), jnp.ones(2)))
    with pytest.raises(ValueError, match="relative_tolerance must be > 0"):
        optim.condition_number(quadratic, jnp.ones(2), relative_tolerance=0.0)


def test_eigenvalues_are_differentiable_in_the_point():
    loss = lambda p: jnp.sum(jnp.sin(p)) + p[0] ** 2 * p[1]
    assert_grads_close(
        lambda p: jnp.sum(optim.hessian_eigenvalues(loss, p) ** 2), jnp.array([0.3, 1.1])
    )


@pytest.mark.parametrize(
    ("loss", "point", "name"),
    [
        (lambda p: p[0] ** 2 + 3 * p[1] ** 2, [0.0, 0.0], "minimum"),
        (lambda p: -(p[0] ** 2) - p[1] ** 2, [0.0, 0.0], "maximum"),
        (lambda p: p[0] ** 2 - p[1] ** 2, [0.0, 0.0], "saddle"),
        (lambda p: p[0] ** 3 - 3 * p[0] + p[1] ** 2, [1.0, 0.0], "minimum"),
        (lambda p: p[0] ** 3 - 3 * p[0] + p[1] ** 2, [-1.0, 0.0], "saddle"),
        (lambda p: p[0] ** 4 + p[1] ** 2, [0.0, 0.0], "degenerate"),
        (lambda p: p[0] ** 2 - p[1] ** 4, [0.0, 0.0], "degenerate"),
        (lambda p: p[0] ** 2 + p[1] ** 2, [1.0, 0.0], "not_critical"),
    ],
)
def test_classify_critical_point(loss, point, name):
    result = optim.classify_critical_point(loss, jnp.asarray(point))
    assert optim.critical_point_name(result.kind) == name
    assert result.eigenvalues.shape == (2,)


def test_classify_under_vmap_matches_a_loop():
    loss = lambda p: p[0] ** 3 - 3 * p[0] + p[1] ** 2
    points = jnp.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 0.0]])
    kinds = assert_vmap_matches_loop(lambda p: optim.classify_critical_point(loss, p).kind, points)
    assert [optim.critical_point_name(k) for k in kinds] == ["minimum", "saddle", "not_critical"]


def test_classify_tolerances_and_names():
    loss = lambda p: p[0] ** 2 + 1e-3 * p[1]  # gradient norm 1e-3 everywhere on p[0] = 0
    strict = optim.classify_critical_point(loss, jnp.zeros(2))
    loose = optim.classify_critical_point(loss, jnp.zeros(2), gradient_tolerance=1e-2)
    assert optim.critical_point_name(strict.kind) == "not_critical"
    assert optim.critical_point_name(loose.kind) == "degenerate"
    assert optim.CRITICAL_POINT_KINDS[1] == "minimum"
    with pytest.raises(ValueError, match="kind must lie in"):
        optim.critical_point_name(7)
    with pytest.raises(ValueError, match="gradient_tolerance must be >= 0"):
        optim.classify_critical_point(loss, jnp.zeros(2), gradient_tolerance=-1.0)
    with pytest.raises(ValueError, match="eigenvalue_tolerance must be >= 0"):
        optim.classify_critical_point(loss, jnp.zeros(2), eigenvalue_tolerance=-1.0)
    with pytest.raises(ValueError, match="at least one parameter"):
        optim.hessian_eigenvalues(loss, {})
