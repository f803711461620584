"""Learning-rate schedules: values, equality with optax, dtypes, transforms, bad input."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import optim
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

COUNTS = jnp.arange(0, 25, dtype=jnp.int32)


def test_constant_is_constant():
    np.testing.assert_allclose(jax.vmap(optim.constant(0.3))(COUNTS), np.full(25, 0.3))


@pytest.mark.parametrize("offset", [1.0, 5.0])
def test_hyperbolic_decay_is_c_over_k(offset):
    schedule = optim.hyperbolic_decay(2.0, offset=offset)
    expected = 2.0 / (np.arange(25) + offset)
    np.testing.assert_allclose(jax.vmap(schedule)(COUNTS), expected, rtol=1e-6)
    if offset == 1.0:  # the course's C / k with k = 1, 2, 3, ...
        assert float(schedule(0)) == pytest.approx(2.0)
        assert float(schedule(9)) == pytest.approx(2.0 / 10)


def test_linear_decay_follows_the_course_formula():
    eps0, eps_tau, tau = 0.5, 0.005, 10
    schedule = optim.linear_decay(eps0, eps_tau, decay_steps=tau)
    expected = []
    for k in range(25):
        alpha = k / tau
        expected.append((1 - alpha) * eps0 + alpha * eps_tau if k <= tau else eps_tau)
    np.testing.assert_allclose(jax.vmap(schedule)(COUNTS), expected, rtol=1e-6)


@pytest.mark.parametrize(("eps0", "eps_tau", "tau"), [(1.0, 0.01, 7), (0.1, 0.2, 3), (3.0, 1.0, 1)])
def test_linear_decay_equals_optax_linear_schedule(eps0, eps_tau, tau):
    ours = jax.vmap(optim.linear_decay(eps0, eps_tau, tau))(COUNTS)
    theirs = jax.vmap(optax.linear_schedule(eps0, eps_tau, tau))(COUNTS)
    wrapped = jax.vmap(optim.as_optax_linear_schedule(eps0, eps_tau, tau))(COUNTS)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(wrapped, theirs, rtol=0)


def test_schedules_jit_and_vmap():
    for schedule in (
        optim.constant(0.2),
        optim.hyperbolic_decay(1.0),
        optim.linear_decay(1, 0.1, 5),
    ):
        assert_jit_matches_eager(schedule, jnp.int32(3))
        assert_vmap_matches_loop(schedule, COUNTS)


def test_schedule_dtype_follows_x64():
    schedule = optim.hyperbolic_decay(1.0)
    assert schedule(jnp.int32(2)).dtype == jnp.float32
    with jax.enable_x64(True):
        assert schedule(jnp.int32(2)).dtype == jnp.float64
        assert optim.linear_decay(1.0, 0.1, 4)(jnp.int32(2)).dtype == jnp.float64


def test_schedule_drives_sgd_steps():
    tx = optax.sgd(optim.hyperbolic_decay(1.0))
    state = tx.init(jnp.zeros(1))
    steps = []
    for _ in range(4):
        updates, state = tx.update(jnp.ones(1), state)
        steps.append(float(updates[0]))
    np.testing.assert_allclose(steps, [-1.0, -1 / 2, -1 / 3, -1 / 4], rtol=1e-6)


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: optim.constant(0.0), ValueError, "learning_rate must be > 0"),
        (lambda: optim.constant(-1.0), ValueError, "learning_rate must be > 0"),
        (lambda: optim.hyperbolic_decay(0.0), ValueError, "scale must be > 0"),
        (lambda: optim.hyperbolic_decay(1.0, offset=0.0), ValueError, "offset must be > 0"),
        (lambda: optim.linear_decay(1.0, 0.1, 0), ValueError, "decay_steps must be > 0"),
        (lambda: optim.linear_decay(1.0, 0.1, -5), ValueError, "decay_steps must be > 0"),
        (lambda: optim.linear_decay(1.0, 0.1, 2.5), TypeError, "decay_steps must be an int"),
        (lambda: optim.linear_decay(0.0, 0.1, 5), ValueError, "initial_learning_rate must be > 0"),
        (lambda: optim.linear_decay(1.0, -0.1, 5), ValueError, "final_learning_rate must be > 0"),
        (lambda: optim.as_optax_linear_schedule(1.0, 0.1, 0), ValueError, "decay_steps"),
    ],
)
def test_bad_schedule_arguments_raise(make, error, match):
    with pytest.raises(error, match=match):
        make()
