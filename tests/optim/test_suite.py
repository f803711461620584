"""The shared optimizer suite: every optimizer of jaxdl.optim must pass every test here.

For each optimizer: it minimizes an ill-conditioned parabola and the Rosenbrock
function (whole runs inside ``lax.scan``), keeps float32 and float64 parameters and
state in their dtype, and its jitted step compiles once (no recompilation on step 2).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl import optim
from jaxdl.testing import assert_no_recompile

PARABOLA_MINIMUM = np.array([1.0, -0.5])
ROSENBROCK_MINIMUM = np.array([1.0, 1.0])
START = np.array([-1.0, 1.0])


def parabola(p):
    """J = (theta_1 - 1)^2 / 2 + 10 (theta_2 + 1/2)^2 / 2: condition number 10."""
    return 0.5 * (p[0] - 1.0) ** 2 + 5.0 * (p[1] + 0.5) ** 2


def rosenbrock(p):
    """J = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1) at the end of a curved valley."""
    return (1.0 - p[0]) ** 2 + 100.0 * (p[1] - p[0] ** 2) ** 2


class Entry(NamedTuple):
    """How to build an optimizer for each problem, and how many steps it gets."""

    kind: str  # "transform", "exact_nesterov", "newton" or "conjugate_gradient"
    parabola: Callable
    rosenbrock: Callable
    parabola_steps: int
    rosenbrock_steps: int


ENTRIES = {
    "sgd": Entry("transform", lambda: optax.sgd(0.1), lambda: optax.sgd(2e-3), 200, 6000),
    "momentum": Entry(
        "transform", lambda: optim.momentum(0.05, 0.8), lambda: optim.momentum(1e-3, 0.9), 200, 6000
    ),
    "nesterov": Entry(
        "transform", lambda: optim.nesterov(0.05, 0.8), lambda: optim.nesterov(1e-3, 0.9), 200, 6000
    ),
    "adagrad": Entry(
        "transform", lambda: optim.adagrad(0.5), lambda: optim.adagrad(0.5), 400, 6000
    ),
    "rmsprop": Entry(
        "transform",
        lambda: optim.rmsprop(optim.linear_decay(0.05, 1e-4, 300)),
        lambda: optim.rmsprop(optim.linear_decay(1e-2, 1e-4, 3000)),
        400,
        6000,
    ),
    "adam": Entry("transform", lambda: optim.adam(0.05), lambda: optim.adam(2e-2), 400, 6000),
    "delta_bar_delta": Entry(
        "transform",
        lambda: optim.delta_bar_delta(0.01, increment=1e-3, decrement=0.5),
        lambda: optim.delta_bar_delta(1e-3, increment=1e-5, decrement=0.5),
        300,
        6000,
    ),
    "exact_nesterov": Entry("exact_nesterov", lambda: (0.05, 0.8), lambda: (1e-3, 0.9), 200, 6000),
    "newton": Entry("newton", lambda: 0.0, lambda: 0.0, 1, 20),
    "conjugate_gradient_fr": Entry(
        "conjugate_gradient",
        lambda: ("fletcher_reeves", "quadratic"),
        lambda: ("fletcher_reeves", "backtracking"),
        2,
        200,
    ),
    "conjugate_gradient_pr": Entry(
        "conjugate_gradient",
        lambda: ("polak_ribiere", "quadratic"),
        lambda: ("polak_ribiere", "golden_section"),
        2,
        200,
    ),
}


def _params(name):
    marks = [pytest.mark.standard_dtype_promotion] if name == "adam" else []
    return pytest.param(name, marks=marks, id=name)


ALL = [_params(name) for name in ENTRIES]
STEPPED = [_params(n) for n, e in ENTRIES.items() if e.kind in ("transform", "exact_nesterov")]
WHOLE_RUN = [_params(n) for n, e in ENTRIES.items() if e.kind in ("newton", "conjugate_gradient")]


def minimize(name: str, problem: str, loss_fn, start):
    """Run the optimizer ``name`` on ``loss_fn`` from ``start``; return the final point."""
    entry = ENTRIES[name]
    config = getattr(entry, problem)()
    num_steps = getattr(entry, f"{problem}_steps")
    if entry.kind == "newton":
        return optim.newton_method(loss_fn, start, num_steps, damping=config).params
    if entry.kind == "conjugate_gradient":
        beta, line_search = config
        return optim.conjugate_gradient(
            loss_fn, start, num_steps, beta=beta, line_search=line_search
        ).params
    init, step = make_step(entry.kind, config, loss_fn)

    @jax.jit
    def run(params):
        final, _ = jax.lax.scan(lambda c, _: (step(*c), None), init(params), None, num_steps)
        return final[0]

    return run(start)


def make_step(kind, config, loss_fn):
    """``init(params) -> carry`` and ``step(*carry) -> carry`` with the params first."""
    if kind == "transform":
        tx = config

        def init(params):
            return params, tx.init(params)

        def step(params, state):
            updates, state = tx.update(jax.grad(loss_fn)(params), state, params)
            return optax.apply_updates(params, updates), state

        return init, step
    learning_rate, momentum = config
    opt = optim.exact_nesterov(loss_fn, learning_rate, momentum)

    def init(params):
        state = opt.init(params)
        return state.params, state

    def step(params, state):
        state, _ = opt.step(state._replace(params=params))
        return state.params, state

    return init, step


@pytest.mark.parametrize("name", ALL)
def test_minimizes_an_ill_conditioned_parabola(name):
    final = minimize(name, "parabola", parabola, jnp.asarray(START, jnp.float32))
    np.testing.assert_allclose(final, PARABOLA_MINIMUM, atol=1e-3)


@pytest.mark.parametrize("name", ALL)
def test_minimizes_rosenbrock(name):
    final = minimize(name, "rosenbrock", rosenbrock, jnp.asarray(START, jnp.float32))
    assert np.linalg.norm(np.asarray(final) - ROSENBROCK_MINIMUM) < 2e-2, final
    assert float(rosenbrock(final)) < float(rosenbrock(jnp.asarray(START))) * 1e-3


def _float_leaves(tree):
    return [x for x in jax.tree.leaves(tree) if jnp.issubdtype(jnp.result_type(x), jnp.floating)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", STEPPED)
def test_step_keeps_the_dtype_and_does_not_recompile(name, dtype):
    entry = ENTRIES[name]
    with jax.enable_x64(dtype == "float64"):
        init, step = make_step(entry.kind, entry.parabola(), parabola)
        jitted = jax.jit(step)
        first = init(jnp.asarray(START, dtype))
        second = jitted(*first)
        third = jitted(*second)
        leaves = _float_leaves(third)
        assert leaves and all(leaf.dtype == jnp.dtype(dtype) for leaf in leaves), [
            leaf.dtype for leaf in leaves
        ]
        # step 2 must reuse step 1's program: same structure, dtypes and weak types
        assert assert_no_recompile(jitted, first, second, third) <= 1


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", WHOLE_RUN)
def test_whole_run_keeps_the_dtype_and_does_not_recompile(name, dtype):
    with jax.enable_x64(dtype == "float64"):
        run = jax.jit(lambda p: minimize(name, "parabola", parabola, p))
        start = jnp.asarray(START, dtype)
        assert run(start).dtype == jnp.dtype(dtype)
        assert assert_no_recompile(run, (start,), (start + 1,)) <= 1
