"""Course optimizers against NumPy transcriptions of the course's pseudocode and optax."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import optim
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop

NUM_STEPS = 6
CURVATURE = np.array([1.0, 4.0, 0.5])
START = np.array([1.5, -0.8, 2.0])


def loss_fn(theta):
    """J = sum(a theta^2) / 2 + sum(cos theta): non-quadratic, gradient a theta - sin theta."""
    return 0.5 * jnp.sum(jnp.asarray(CURVATURE, theta.dtype) * theta**2) + jnp.sum(jnp.cos(theta))


def numpy_grad(theta):
    return CURVATURE * theta - np.sin(theta)


def run_optax(tx, num_steps=NUM_STEPS, start=START):
    """Parameters after each of ``num_steps`` updates of ``tx`` (float64, one scan)."""

    def step(carry, _):
        params, state = carry
        updates, state = tx.update(jax.grad(loss_fn)(params), state, params)
        params = optax.apply_updates(params, updates)
        return (params, state), params

    @jax.jit
    def run(params):
        _, path = jax.lax.scan(step, (params, tx.init(params)), None, length=num_steps)
        return path

    with jax.enable_x64(True):
        return np.asarray(run(jnp.asarray(start, jnp.float64)))


# ---------------------------------------------------------------- NumPy pseudocode


def numpy_sgd(rate_at, num_steps=NUM_STEPS):
    theta, path = START.copy(), []
    for k in range(num_steps):
        theta = theta - rate_at(k) * numpy_grad(theta)
        path.append(theta.copy())
    return np.stack(path)


def numpy_momentum(rate_at, alpha, num_steps=NUM_STEPS):
    theta, v, path = START.copy(), np.zeros(3), []
    for k in range(num_steps):
        g = numpy_grad(theta)
        v = alpha * v - rate_at(k) * g
        theta = theta + v
        path.append(theta.copy())
    return np.stack(path)


def numpy_nesterov(rate, alpha, num_steps=NUM_STEPS):
    """Course algorithm: gradient at the interim point; returns theta and interim paths."""
    theta, v, thetas, lookaheads = START.copy(), np.zeros(3), [], []
    for _ in range(num_steps):
        interim = theta + alpha * v
        g = numpy_grad(interim)
        v = alpha * v - rate * g
        theta = theta + v
        thetas.append(theta.copy())
        lookaheads.append(theta + alpha * v)
    return np.stack(thetas), np.stack(lookaheads)


def numpy_adagrad(rate, delta, num_steps=NUM_STEPS):
    theta, r, path = START.copy(), np.zeros(3), []
    for _ in range(num_steps):
        g = numpy_grad(theta)
        r = r + g * g
        theta = theta - rate / (delta + np.sqrt(r)) * g
        path.append(theta.copy())
    return np.stack(path)


def numpy_rmsprop(rate, rho, delta, num_steps=NUM_STEPS):
    theta, r, path = START.copy(), np.zeros(3), []
    for _ in range(num_steps):
        g = numpy_grad(theta)
        r = rho * r + (1 - rho) * g * g
        theta = theta - rate / np.sqrt(delta + r) * g
        path.append(theta.copy())
    return np.stack(path)


def numpy_adam(rate, rho1, rho2, delta, num_steps=NUM_STEPS):
    theta, s, r, path = START.copy(), np.zeros(3), np.zeros(3), []
    for t in range(1, num_steps + 1):
        g = numpy_grad(theta)
        s = rho1 * s + (1 - rho1) * g
        r = rho2 * r + (1 - rho2) * g * g
        s_hat = s / (1 - rho1**t)
        r_hat = r / (1 - rho2**t)
        theta = theta - rate * s_hat / (np.sqrt(r_hat) + delta)
        path.append(theta.copy())
    return np.stack(path)


def numpy_delta_bar_delta(rate, kappa, phi, averaging, num_steps=NUM_STEPS, start=START):
    theta, rates, bar, path, rate_path = start.copy(), np.full(3, rate), np.zeros(3), [], []
    for _ in range(num_steps):
        g = numpy_grad(theta)
        for i in range(3):
            if bar[i] * g[i] > 0:
                rates[i] = rates[i] + kappa
            elif bar[i] * g[i] < 0:
                rates[i] = rates[i] * (1 - phi)
        theta = theta - rates * g
        bar = (1 - averaging) * g + averaging * bar
        path.append(theta.copy())
        rate_path.append(rates.copy())
    return np.stack(path), np.stack(rate_path)


# ---------------------------------------------------------------- equivalences


def test_sgd_matches_pseudocode_and_optax():
    schedule = optim.linear_decay(0.3, 0.03, decay_steps=4)
    expected = numpy_sgd(lambda k: 0.3 * (1 - min(k / 4, 1)) + 0.03 * min(k / 4, 1))
    np.testing.assert_allclose(run_optax(optax.sgd(schedule)), expected, rtol=1e-12)


def test_momentum_matches_pseudocode_with_a_schedule():
    schedule = optim.hyperbolic_decay(0.2, offset=1.0)
    expected = numpy_momentum(lambda k: 0.2 / (k + 1), alpha=0.9)
    np.testing.assert_allclose(run_optax(optim.momentum(schedule, 0.9)), expected, rtol=1e-12)


def test_momentum_equals_optax_for_a_constant_rate_but_not_for_a_schedule():
    ours = run_optax(optim.momentum(0.1, momentum=0.8))
    theirs = run_optax(optax.sgd(0.1, momentum=0.8))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    schedule = optim.hyperbolic_decay(0.2)
    ours = run_optax(optim.momentum(schedule, momentum=0.8))
    theirs = run_optax(optax.sgd(schedule, momentum=0.8))
    assert np.max(np.abs(ours - theirs)) > 1e-3  # optax rescales the whole velocity


def test_nesterov_transformation_holds_the_course_lookahead_point():
    thetas, lookaheads = numpy_nesterov(0.1, 0.9)
    np.testing.assert_allclose(run_optax(optim.nesterov(0.1, 0.9)), lookaheads, rtol=1e-12)
    np.testing.assert_allclose(
        run_optax(optax.sgd(0.1, momentum=0.9, nesterov=True)), lookaheads, rtol=1e-12
    )
    assert np.max(np.abs(thetas - lookaheads)) > 1e-3  # the two variables do differ


def test_exact_nesterov_matches_pseudocode_and_the_transformation():
    thetas, lookaheads = numpy_nesterov(0.1, 0.9)
    with jax.enable_x64(True):
        opt = optim.exact_nesterov(loss_fn, learning_rate=0.1, momentum=0.9)
        state = opt.init(jnp.asarray(START))
        step = jax.jit(opt.step)
        for k in range(NUM_STEPS):
            state, info = step(state)
            np.testing.assert_allclose(state.params, thetas[k], rtol=1e-12)
            np.testing.assert_allclose(
                optim.lookahead_params(state, 0.9), lookaheads[k], rtol=1e-12
            )
        assert int(state.count) == NUM_STEPS
        assert info.gradient_norm.shape == () and info.loss.dtype == jnp.float64


def test_exact_nesterov_with_extra_arguments_and_a_schedule():
    def batch_loss(theta, target):
        return jnp.sum((theta - target) ** 2)

    schedule = optim.hyperbolic_decay(0.4)
    opt = optim.exact_nesterov(batch_loss, schedule, momentum=0.5)
    state = opt.init(jnp.zeros(2))
    target = jnp.array([1.0, -1.0])
    state, _ = opt.step(state, target)
    np.testing.assert_allclose(state.params, 0.4 * 2 * np.array([1.0, -1.0]), rtol=1e-6)
    state, _ = opt.step(state, target)
    # second step: interim = theta + 0.5 v, rate 0.2
    theta1 = np.array([0.8, -0.8])
    v1 = theta1.copy()
    interim = theta1 + 0.5 * v1
    v2 = 0.5 * v1 - 0.2 * 2 * (interim - np.array([1.0, -1.0]))
    np.testing.assert_allclose(state.params, theta1 + v2, rtol=1e-6)


def test_adagrad_matches_pseudocode_and_differs_from_optax():
    ours = run_optax(optim.adagrad(0.5, delta=1e-7))
    np.testing.assert_allclose(ours, numpy_adagrad(0.5, 1e-7), rtol=1e-12)
    theirs = run_optax(optax.adagrad(0.5, eps=1e-7))
    assert np.max(np.abs(ours - theirs)) > 1e-3


def test_rmsprop_matches_pseudocode_and_is_optax_rmsprop():
    ours = run_optax(optim.rmsprop(0.05, decay_rate=0.9, delta=1e-6))
    np.testing.assert_allclose(ours, numpy_rmsprop(0.05, 0.9, 1e-6), rtol=1e-12)
    theirs = run_optax(optax.rmsprop(0.05, decay=0.9, eps=1e-6))
    np.testing.assert_allclose(ours, theirs, rtol=1e-14)


@pytest.mark.standard_dtype_promotion
def test_adam_matches_pseudocode_and_optax():
    ours = run_optax(optim.adam(0.1))
    np.testing.assert_allclose(ours, numpy_adam(0.1, 0.9, 0.999, 1e-8), rtol=1e-10)
    np.testing.assert_allclose(ours, run_optax(optax.adam(0.1)), rtol=1e-14)


def test_delta_bar_delta_matches_jacobs_rule():
    start = np.array([1.5, -0.8, 0.3])
    path, rates = numpy_delta_bar_delta(0.3, 0.05, 0.4, 0.6, num_steps=8, start=start)
    tx = optim.delta_bar_delta(0.3, increment=0.05, decrement=0.4, averaging=0.6)
    np.testing.assert_allclose(run_optax(tx, num_steps=8, start=start), path, rtol=1e-12)
    assert np.any(np.diff(rates, axis=0) > 0) and np.any(np.diff(rates, axis=0) < 0)


def test_delta_bar_delta_rates_grow_on_a_steady_slope_and_shrink_on_oscillation():
    tx = optim.scale_by_delta_bar_delta(0.1, increment=0.01, decrement=0.5, averaging=0.0)
    state = tx.init(jnp.zeros(2))
    for sign in (1.0, -1.0, 1.0, -1.0):
        _, state = tx.update(jnp.array([1.0, sign]), state)
    # parameter 0: signs agree on 3 updates; parameter 1: flips 3 times
    np.testing.assert_allclose(state.learning_rates, [0.13, 0.1 * 0.5**3], rtol=1e-6)


def test_clip_by_value_and_global_norm_match_numpy():
    g = {"w": jnp.array([3.0, -0.2, 7.0]), "b": jnp.array([-4.0])}
    updates, _ = optax.clip(1.0).update(g, None)
    np.testing.assert_allclose(updates["w"], np.clip([3.0, -0.2, 7.0], -1, 1))
    np.testing.assert_allclose(updates["b"], [-1.0])
    tx = optax.clip_by_global_norm(2.0)
    updates, _ = tx.update(g, tx.init(g))
    norm = np.sqrt(9 + 0.04 + 49 + 16)
    np.testing.assert_allclose(updates["w"], np.array([3.0, -0.2, 7.0]) * 2 / norm, rtol=1e-6)
    small = {"w": jnp.array([0.1, 0.2, 0.3]), "b": jnp.array([0.1])}
    unchanged, _ = tx.update(small, tx.init(small))
    np.testing.assert_allclose(unchanged["w"], small["w"])


def test_clip_chained_before_an_optimizer_bounds_the_step():
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.sgd(0.5))
    updates, _ = tx.update(jnp.array([30.0, 40.0]), tx.init(jnp.zeros(2)))
    np.testing.assert_allclose(jnp.linalg.norm(updates), 0.5, rtol=1e-6)


@pytest.mark.standard_dtype_promotion
def test_current_learning_rate_follows_the_schedule():
    schedule = optim.linear_decay(1.0, 0.1, decay_steps=4)
    tx = optim.with_schedule_logging(optim.momentum, learning_rate=schedule, momentum=0.5)
    params = jnp.zeros(2)
    state = tx.init(params)
    seen = []
    for _ in range(6):
        _, state = tx.update(jnp.ones(2), state, params)
        seen.append(float(optim.current_learning_rate(state)))
    np.testing.assert_allclose(seen, [float(schedule(k)) for k in range(6)], rtol=1e-6)
    chained = optax.chain(
        optax.clip(1.0), optim.with_schedule_logging(optim.adam, learning_rate=0.01)
    )
    np.testing.assert_allclose(optim.current_learning_rate(chained.init(params)), 0.01)


def test_with_schedule_logging_updates_match_the_plain_optimizer():
    schedule = optim.hyperbolic_decay(0.3)
    logged = optim.with_schedule_logging(optim.momentum, learning_rate=schedule, momentum=0.7)
    np.testing.assert_allclose(
        run_optax(logged), run_optax(optim.momentum(schedule, 0.7)), rtol=1e-6
    )


def test_current_learning_rate_without_injection_raises():
    with pytest.raises(ValueError, match="with_schedule_logging"):
        optim.current_learning_rate(optax.sgd(0.1).init(jnp.zeros(2)))


# ---------------------------------------------------------------- transforms


def test_course_adagrad_update_gradients_and_transforms():
    def first_update(g):
        tx = optim.scale_by_course_adagrad(delta=0.1)
        state = tx.init(g)
        _, state = tx.update(g, state)
        updates, _ = tx.update(2.0 * g, state)
        return updates

    g = jnp.array([0.5, -1.0, 2.0])
    assert_grads_close(lambda x: jnp.sum(first_update(x) ** 2), g)
    assert_jit_matches_eager(first_update, g)
    assert_vmap_matches_loop(first_update, jnp.stack([g, -g, 2 * g]))


def test_exact_nesterov_step_is_differentiable_in_the_start_point():
    opt = optim.exact_nesterov(loss_fn, learning_rate=0.1, momentum=0.9)

    def after_two_steps(theta):
        state = opt.init(theta)
        state, _ = opt.step(state)
        state, _ = opt.step(state)
        return loss_fn(state.params)

    assert_grads_close(after_two_steps, jnp.asarray(START, jnp.float32))


def test_transforms_keep_pytree_structure():
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3)}
    for tx in (optim.scale_by_course_adagrad(), optim.scale_by_delta_bar_delta(0.1)):
        updates, _ = tx.update(params, tx.init(params))
        assert jax.tree.structure(updates) == jax.tree.structure(params)


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: optim.momentum(0.1, momentum=1.0), r"momentum must lie in \[0.0, 1.0\)"),
        (lambda: optim.momentum(0.1, momentum=-0.1), "momentum must lie in"),
        (lambda: optim.nesterov(-1.0), "learning_rate must be > 0"),
        (lambda: optim.nesterov(0.1, momentum=1.5), "momentum must lie in"),
        (lambda: optim.adagrad(0.1, delta=0.0), "delta must be > 0"),
        (lambda: optim.adagrad(0.0), "learning_rate must be > 0"),
        (lambda: optim.rmsprop(0.1, decay_rate=1.0), "decay_rate must lie in"),
        (lambda: optim.rmsprop(0.1, delta=-1e-6), "delta must be > 0"),
        (lambda: optim.adam(0.1, first_moment_decay=1.0), "first_moment_decay must lie in"),
        (lambda: optim.adam(0.1, second_moment_decay=-0.5), "second_moment_decay must lie in"),
        (lambda: optim.adam(0.1, delta=0.0), "delta must be > 0"),
        (lambda: optim.delta_bar_delta(0.0), "learning_rate must be > 0"),
        (lambda: optim.delta_bar_delta(0.1, increment=0.0), "increment must be > 0"),
        (lambda: optim.delta_bar_delta(0.1, decrement=1.0), r"decrement must lie in \(0.0"),
        (lambda: optim.delta_bar_delta(0.1, averaging=1.0), "averaging must lie in"),
        (lambda: optim.scale_by_course_adagrad(delta=-1.0), "delta must be > 0"),
        (lambda: optim.exact_nesterov(loss_fn, 0.0), "learning_rate must be > 0"),
        (lambda: optim.exact_nesterov(loss_fn, 0.1, momentum=1.0), "momentum must lie in"),
        (lambda: optim.with_schedule_logging(optax.sgd, learning_rate=-0.1), "learning_rate"),
    ],
)
def test_bad_hyperparameters_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_delta_bar_delta_rejects_a_schedule():
    with pytest.raises(TypeError, match="learning_rate must be a number"):
        optim.delta_bar_delta(optim.constant(0.1))


@pytest.mark.parametrize("alpha", [0.1, 0.9])
def test_momentum_weights_of_past_gradients(alpha):
    """Seed 002 (ch. 8, momentum): after three steps v(3) = -eps (alpha^2 g1 + alpha g2 + g3);
    alpha = 0.1 weighs the last three gradients 1, 0.1, 0.01 and alpha = 0.9 by 1, 0.9, 0.81.
    """
    eps = 0.5
    tx = optim.momentum(eps, momentum=alpha)
    state = tx.init(jnp.zeros(3))
    # Three one-hot gradients: component i of v(3) is the weight of gradient i.
    for g in jnp.eye(3):
        velocity, state = tx.update(g, state)
    weights = np.asarray(velocity) / -eps
    np.testing.assert_allclose(weights, [alpha**2, alpha, 1.0], rtol=1e-6)
    expected = {0.1: [0.01, 0.1, 1.0], 0.9: [0.81, 0.9, 1.0]}[alpha]
    np.testing.assert_allclose(weights, expected, rtol=1e-6)
