"""Tests of jaxdl.optim.function_optimizers: the course's exact Nesterov step.

Reference: a NumPy transcription of the course's pseudocode (gradient at the interim point
``theta + alpha v``), on pytrees and random problems; the equivalence with optax's
look-ahead form; jit, vmap and grad through the step.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.optim import exact_nesterov, lookahead_params
from jaxdl.optim.function_optimizers import FunctionOptimizer, NesterovInfo, NesterovState
from jaxdl.testing import strategies as jst
from jaxdl.testing.gradcheck import assert_grads_close


def quartic(params, curvature):
    """J = sum(a w^2 / 2) + sum(b^4 / 4) over a dict of parameters: smooth, non-quadratic."""
    return 0.5 * jnp.sum(curvature * params["w"] ** 2) + 0.25 * jnp.sum(params["b"] ** 4)


def numpy_course_nesterov(w, b, curvature, rate, alpha, num_steps):
    """The course's pseudocode, in NumPy float64, on the two leaves of ``quartic``."""
    w, b = np.array(w, np.float64), np.array(b, np.float64)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    losses = []
    for _ in range(num_steps):
        iw, ib = w + alpha * vw, b + alpha * vb
        losses.append(0.5 * np.sum(curvature * iw**2) + 0.25 * np.sum(ib**4))
        vw, vb = alpha * vw - rate * curvature * iw, alpha * vb - rate * ib**3
        w, b = w + vw, b + vb
    return w, b, np.array(losses)


CURVATURE = np.array([0.5, 1.0, 2.0])
NUM_STEPS = 4


def _jitted_run(rate, alpha):
    """NUM_STEPS exact-Nesterov steps on ``quartic`` (float64), compiled once per setting."""
    opt = exact_nesterov(quartic, learning_rate=rate, momentum=alpha)

    def run(params):
        def body(state, _):
            state, info = opt.step(state, jnp.asarray(CURVATURE))
            return state, info.loss

        return jax.lax.scan(body, opt.init(params), None, length=NUM_STEPS)

    return jax.jit(run)


@pytest.mark.parametrize(("rate", "alpha"), [(0.1, 0.9), (0.05, 0.0), (0.2, 0.5)])
def test_matches_the_course_pseudocode_on_a_pytree(rate, alpha):
    with jax.enable_x64(True):
        run = _jitted_run(rate, alpha)

        @given(
            w=jst.float_arrays(shape=(3,), min_value=-2.0, max_value=2.0, as_jax=False),
            b=jst.float_arrays(shape=(2,), min_value=-1.0, max_value=1.0, as_jax=False),
        )
        def check(w, b):
            expected_w, expected_b, expected_losses = numpy_course_nesterov(
                w, b, CURVATURE, rate, alpha, NUM_STEPS
            )
            params = {"w": jnp.asarray(w, jnp.float64), "b": jnp.asarray(b, jnp.float64)}
            state, losses = run(params)
            np.testing.assert_allclose(state.params["w"], expected_w, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(state.params["b"], expected_b, rtol=1e-10, atol=1e-12)
            np.testing.assert_allclose(losses, expected_losses, rtol=1e-10, atol=1e-12)
            assert int(state.count) == NUM_STEPS

        check()


@settings(max_examples=6)
@given(
    start=jst.float_arrays(shape=(3,), min_value=-3.0, max_value=3.0),
    alpha=st.floats(0.0, 0.9),
)
def test_lookahead_point_is_what_optax_nesterov_holds(start, alpha):
    """Both forms visit the same interim points: lookahead(theta_k) == optax's params_k."""
    curvature = jnp.array([0.5, 1.0, 2.0])
    loss = lambda p: 0.5 * jnp.sum(curvature * p**2)  # noqa: E731
    opt = exact_nesterov(loss, learning_rate=0.1, momentum=alpha)
    tx = optax.sgd(0.1, momentum=alpha, nesterov=True)
    state, phi = opt.init(start), start
    tx_state = tx.init(phi)
    for _ in range(3):
        state, _ = opt.step(state)
        updates, tx_state = tx.update(jax.grad(loss)(phi), tx_state)
        phi = optax.apply_updates(phi, updates)
        np.testing.assert_allclose(lookahead_params(state, alpha), phi, rtol=1e-5, atol=1e-6)


def test_zero_momentum_is_gradient_descent():
    loss = lambda p: jnp.sum(jnp.sin(p) + p**2)  # noqa: E731
    opt = exact_nesterov(loss, learning_rate=0.05, momentum=0.0)
    state, theta = opt.init(jnp.array([0.3, -1.2])), jnp.array([0.3, -1.2])
    for _ in range(5):
        state, info = opt.step(state)
        np.testing.assert_allclose(info.loss, loss(theta), rtol=1e-6)
        theta = theta - 0.05 * jax.grad(loss)(theta)
        np.testing.assert_allclose(state.params, theta, rtol=1e-6)


def test_state_and_info_are_named_tuples_of_the_documented_shape():
    opt = exact_nesterov(lambda p: jnp.sum(p**2), learning_rate=0.1)
    assert isinstance(opt, FunctionOptimizer)
    state = opt.init(jnp.ones(3))
    assert isinstance(state, NesterovState) and state.count.dtype == jnp.int32
    chex.assert_trees_all_equal(state.velocity, jnp.zeros(3))
    state, info = opt.step(state)
    assert isinstance(info, NesterovInfo)
    np.testing.assert_allclose(info.loss, 3.0)
    np.testing.assert_allclose(info.gradient_norm, 2.0 * np.sqrt(3.0), rtol=1e-6)


def test_a_schedule_is_read_at_the_step_count():
    seen = []

    def schedule(count):
        seen.append(count)
        return 0.1 / (1.0 + count.astype(jnp.float32))

    opt = exact_nesterov(lambda p: jnp.sum(p), learning_rate=schedule, momentum=0.0)
    state = opt.init(jnp.zeros(1))
    for _ in range(3):
        state, _ = opt.step(state)
    # gradient 1 everywhere: theta = -(0.1 + 0.05 + 0.0333...)
    np.testing.assert_allclose(state.params, [-(0.1 + 0.05 + 0.1 / 3)], rtol=1e-6)
    assert [int(c) for c in seen] == [0, 1, 2]


def test_jit_matches_eager_and_vmap_matches_a_loop():
    opt = exact_nesterov(quartic, learning_rate=0.1, momentum=0.8)
    curvature = jnp.array([1.0, 2.0, 3.0])

    def run(w):
        state = opt.init({"w": w, "b": jnp.array([0.5, -0.5])})
        for _ in range(3):
            state, _ = opt.step(state, curvature)
        return state.params

    starts = jnp.array([[1.0, -1.0, 0.5], [0.0, 2.0, -2.0]])
    eager = [run(w) for w in starts]
    chex.assert_trees_all_close(jax.jit(run)(starts[0]), eager[0], rtol=1e-5)
    chex.assert_trees_all_close(
        jax.vmap(run)(starts), jax.tree.map(lambda *x: jnp.stack(x), *eager), rtol=1e-5
    )


def test_steps_are_differentiable_in_the_start_point_and_the_rate():
    def after_two_steps(theta, rate):
        opt = exact_nesterov(lambda p: jnp.sum(jnp.cos(p) + p**2), rate, momentum=0.9)
        state = opt.init(theta)
        state, _ = opt.step(state)
        state, _ = opt.step(state)
        return jnp.sum(state.params**2)

    theta = jnp.array([0.7, -1.1])
    assert_grads_close(after_two_steps, theta, jnp.asarray(0.1))
    assert_grads_close(lambda rate, theta: after_two_steps(theta, rate), jnp.asarray(0.1), theta)


def test_lookahead_params_on_a_tree():
    state = NesterovState(
        {"a": jnp.ones(2), "b": jnp.zeros(())},
        {"a": jnp.full(2, 2.0), "b": jnp.ones(())},
        jnp.zeros((), jnp.int32),
    )
    chex.assert_trees_all_close(
        lookahead_params(state, 0.25), {"a": jnp.full(2, 1.5), "b": jnp.asarray(0.25)}
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -1.0}, "learning_rate"),
        ({"learning_rate": 0.1, "momentum": 1.0}, "momentum"),
        ({"learning_rate": 0.1, "momentum": -0.1}, "momentum"),
    ],
)
def test_bad_hyperparameters_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        exact_nesterov(lambda p: jnp.sum(p**2), **kwargs)
