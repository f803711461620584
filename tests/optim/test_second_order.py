"""Newton's method and nonlinear conjugate gradients."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.optimize

from jaxdl import optim
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


def spd_quadratic(dimension: int, seed: int, condition: float = 50.0):
    """A random SPD matrix with eigenvalues in [1, condition], a linear term, and J."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(dimension, dimension)))
    A = Q @ np.diag(np.geomspace(1.0, condition, dimension)) @ Q.T
    b = rng.normal(size=dimension)

    def loss(theta):
        A_, b_ = jnp.asarray(A, theta.dtype), jnp.asarray(b, theta.dtype)
        return 0.5 * theta @ A_ @ theta - b_ @ theta

    return A, b, loss


def test_newton_solves_a_quadratic_in_one_step():
    A, b, loss = spd_quadratic(6, seed=0)
    with jax.enable_x64(True):
        result = optim.newton_method(loss, jnp.ones(6), num_steps=1)
        norms = np.asarray(result.gradient_norms)
    np.testing.assert_allclose(result.params, np.linalg.solve(A, b), rtol=1e-10)
    assert result.trajectory.shape == (2, 6)
    assert norms[-1] < 1e-10 < norms[0]


def test_newton_on_a_pytree_matches_the_flat_solution():
    A, b, loss = spd_quadratic(5, seed=1)

    def tree_loss(params):
        return loss(jnp.concatenate([params["w"].reshape(-1), params["b"]]))

    with jax.enable_x64(True):
        start = {"w": jnp.zeros((2, 2)), "b": jnp.zeros(1)}
        result = optim.newton_method(tree_loss, start, num_steps=1)
    solution = np.linalg.solve(A, b)
    np.testing.assert_allclose(result.params["b"], solution[4:], rtol=1e-10)
    np.testing.assert_allclose(result.params["w"].reshape(-1), solution[:4], rtol=1e-10)
    assert result.trajectory["w"].shape == (2, 2, 2)


def test_damped_newton_step_matches_numpy():
    def loss(theta):
        return jnp.sum(jnp.cosh(theta)) + theta[0] * theta[1] ** 2

    theta0 = np.array([0.3, -0.7])
    with jax.enable_x64(True):
        result = optim.newton_method(loss, jnp.asarray(theta0), num_steps=1, damping=0.5)
    g = np.sinh(theta0) + np.array([theta0[1] ** 2, 2 * theta0[0] * theta0[1]])
    H = np.diag(np.cosh(theta0)) + np.array([[0, 2 * theta0[1]], [2 * theta0[1], 2 * theta0[0]]])
    expected = theta0 - np.linalg.solve(H + 0.5 * np.eye(2), g)
    np.testing.assert_allclose(result.params, expected, rtol=1e-12)


def test_undamped_newton_jumps_to_a_saddle_point():
    saddle = lambda p: p[0] ** 2 - p[1] ** 2
    result = optim.newton_method(saddle, jnp.array([1.0, 2.0]), num_steps=1)
    np.testing.assert_allclose(result.params, [0.0, 0.0], atol=1e-6)
    kind = optim.classify_critical_point(saddle, result.params).kind
    assert optim.critical_point_name(kind) == "saddle"


def test_newton_matches_scipy_newton_cg_on_a_smooth_convex_problem():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(30, 3)), rng.integers(0, 2, size=30).astype(float)

    def logistic_loss(w):
        z = jnp.asarray(X, w.dtype) @ w
        return jnp.mean(jnp.logaddexp(0.0, z) - jnp.asarray(y, w.dtype) * z) + 0.05 * w @ w

    with jax.enable_x64(True):
        result = optim.newton_method(logistic_loss, jnp.zeros(3), num_steps=8)
        value_and_grad = jax.jit(jax.value_and_grad(logistic_loss))
        reference = scipy.optimize.minimize(
            lambda w: tuple(np.asarray(v, np.float64) for v in value_and_grad(jnp.asarray(w))),
            np.zeros(3),
            jac=True,
            method="BFGS",
            options={"gtol": 1e-12},
        )
    np.testing.assert_allclose(result.params, reference.x, atol=1e-6)
    assert np.all(np.diff(np.asarray(result.losses)) <= 1e-12)


@pytest.mark.parametrize("beta", ["fletcher_reeves", "polak_ribiere"])
def test_conjugate_gradient_reaches_a_quadratic_minimum_in_k_steps(beta):
    k = 6
    A, b, loss = spd_quadratic(k, seed=2)
    with jax.enable_x64(True):
        result = optim.conjugate_gradient(loss, jnp.zeros(k), num_steps=k, beta=beta)
        norms = np.asarray(result.gradient_norms)
    np.testing.assert_allclose(result.params, np.linalg.solve(A, b), rtol=1e-8, atol=1e-10)
    assert norms[-1] < 1e-8 * norms[0]
    assert norms[k - 1] > 1e-6  # not done one step earlier: all k steps were needed


@pytest.mark.parametrize("beta", ["fletcher_reeves", "polak_ribiere"])
def test_conjugate_gradient_directions_are_hessian_conjugate(beta):
    k = 5
    A, _, loss = spd_quadratic(k, seed=4)
    with jax.enable_x64(True):
        result = optim.conjugate_gradient(loss, jnp.ones(k), num_steps=k, beta=beta)
    D = np.asarray(result.directions)
    gram = D @ A @ D.T
    scale = np.sqrt(np.outer(np.diag(gram), np.diag(gram)))
    off_diagonal = (gram / scale)[~np.eye(k, dtype=bool)]
    assert np.max(np.abs(off_diagonal)) < 1e-8
    assert np.all(np.diag(gram) > 0)


def test_steepest_descent_directions_are_not_conjugate():
    """Control: after an exact search the new gradient is orthogonal, not conjugate, to the old."""
    A, _, loss = spd_quadratic(4, seed=4)
    with jax.enable_x64(True):
        result = optim.conjugate_gradient(loss, jnp.ones(4), num_steps=3)
        g0 = jax.grad(loss)(jnp.ones(4))
        g1 = jax.grad(loss)(result.trajectory[1])
        g0, g1 = np.asarray(g0), np.asarray(g1)
    assert abs(g0 @ A @ g1) > 1e-3 and abs(g0 @ g1) < 1e-10
    np.testing.assert_allclose(result.directions[0], -g0)


@pytest.mark.parametrize("line_search", ["backtracking", "golden_section"])
@pytest.mark.parametrize("beta", ["fletcher_reeves", "polak_ribiere"])
def test_inexact_line_searches_decrease_a_non_quadratic(beta, line_search):
    def loss(theta):
        return jnp.sum(jnp.log(jnp.cosh(theta - 1.0))) + 0.1 * jnp.sum(theta**4)

    result = optim.conjugate_gradient(
        loss, jnp.array([3.0, -2.0, 0.5]), num_steps=25, beta=beta, line_search=line_search
    )
    losses = np.asarray(result.losses)
    assert np.all(np.diff(losses) <= 1e-6), losses
    assert result.gradient_norms[-1] < 1e-2 * result.gradient_norms[0]
    assert np.all(np.asarray(result.step_sizes) >= 0)


def test_golden_section_line_search_is_exact_on_a_quadratic():
    A, b, loss = spd_quadratic(3, seed=5)
    with jax.enable_x64(True):
        exact = optim.conjugate_gradient(loss, jnp.zeros(3), 1, line_search="quadratic")
        golden = optim.conjugate_gradient(loss, jnp.zeros(3), 1, line_search="golden_section")
    np.testing.assert_allclose(golden.step_sizes, exact.step_sizes, rtol=1e-6)


def test_second_order_methods_jit_vmap_and_grad():
    loss = lambda p: jnp.sum((p - 0.5) ** 2 * jnp.array([1.0, 3.0])) + 0.1 * jnp.sum(p**4)
    newton = functools.partial(optim.newton_method, loss, num_steps=2)
    cg = functools.partial(optim.conjugate_gradient, loss, num_steps=2)
    start = jnp.array([2.0, -1.0])
    # newton_method's eager run is covered by the NumPy references above (it always jits)
    assert_jit_matches_eager(lambda p: cg(p).params, start)
    starts = jnp.array([[2.0, -1.0], [0.0, 1.0]])
    assert_vmap_matches_loop(lambda p: newton(p).params, starts)
    assert_vmap_matches_loop(lambda p: cg(p).params, starts)
    # The final loss as a function of the start point is smooth for a few Newton steps.
    assert_grads_close(lambda p: loss(newton(p).params), start)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: optim.newton_method(jnp.sum, jnp.ones(2), 0), ValueError, "num_steps must be > 0"),
        (
            lambda: optim.newton_method(jnp.sum, jnp.ones(2), 1.5),
            TypeError,
            "num_steps must be an int",
        ),
        (
            lambda: optim.newton_method(jnp.sum, jnp.ones(2), 1, -1.0),
            ValueError,
            "damping must be >= 0",
        ),
        (lambda: optim.newton_method(jnp.sum, jnp.ones(2, jnp.int32), 1), TypeError, "floating"),
        (lambda: optim.newton_method(jnp.sum, {}, 1), ValueError, "at least one parameter"),
        (
            lambda: optim.conjugate_gradient(jnp.sum, jnp.ones(2), 2, beta="hestenes"),
            ValueError,
            "beta must be one of",
        ),
        (
            lambda: optim.conjugate_gradient(jnp.sum, jnp.ones(2), 2, line_search="exact"),
            ValueError,
            "line_search must be one of",
        ),
        (
            lambda: optim.conjugate_gradient(jnp.sum, jnp.ones(2), 0),
            ValueError,
            "num_steps must be > 0",
        ),
        (
            lambda: optim.conjugate_gradient(jnp.sum, jnp.ones(2), 2, shrink=1.0),
            ValueError,
            "shrink must lie in",
        ),
        (
            lambda: optim.conjugate_gradient(jnp.sum, jnp.ones(2), 2, armijo=0.0),
            ValueError,
            "armijo must lie in",
        ),
        (
            lambda: optim.conjugate_gradient(jnp.sum, jnp.ones(2), 2, initial_step=0.0),
            ValueError,
            "initial_step must be > 0",
        ),
    ],
)
def test_bad_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()
