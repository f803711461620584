"""Tests of jaxdl.optim.transforms: the course's AdaGrad scaling and delta-bar-delta.

References: NumPy transcriptions of the update rules on random gradient sequences
(hypothesis), closed forms on constant and alternating gradients, and the documented
difference from optax's ``scale_by_rss``; jit, vmap and grad.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given
from hypothesis import strategies as st

from jaxdl.optim import scale_by_course_adagrad, scale_by_delta_bar_delta
from jaxdl.optim.transforms import ScaleByCourseAdagradState, ScaleByDeltaBarDeltaState
from jaxdl.testing import strategies as jst
from jaxdl.testing.gradcheck import assert_grads_close

NUM_STEPS = 5
WIDTH = 3


def _flush_subnormals(g):
    """XLA on CPU flushes float32 subnormals to zero: the reference sees them as zeros too."""
    return jnp.where(jnp.abs(g) < np.finfo(np.float32).tiny, 0.0, g)


gradient_sequences = jst.float_arrays(shape=(NUM_STEPS, WIDTH), min_value=-3.0, max_value=3.0).map(
    _flush_subnormals
)


def run(tx, gradients):
    """Apply ``tx`` to each row of ``gradients`` in turn: (updates per step, final state)."""

    def body(state, g):
        updates, state = tx.update(g, state)
        return state, updates

    state, updates = jax.lax.scan(body, tx.init(gradients[0]), gradients)
    return updates, state


def numpy_course_adagrad(gradients, delta):
    r, out = np.zeros(gradients.shape[1]), []
    for g in np.asarray(gradients, np.float64):
        r = r + g * g
        out.append(g / (delta + np.sqrt(r)))
    return np.stack(out), r


def numpy_delta_bar_delta(gradients, rate, kappa, phi, theta):
    rates = np.full(gradients.shape[1], rate)
    bar = np.zeros(gradients.shape[1])
    out = []
    for g in np.asarray(gradients, np.float64):
        agreement = np.sign(bar) * np.sign(g)
        rates = np.where(
            agreement > 0, rates + kappa, np.where(agreement < 0, rates * (1 - phi), rates)
        )
        out.append(rates * g)
        bar = (1 - theta) * g + theta * bar
    return np.stack(out), rates, bar


# ---------------------------------------------------------------- course AdaGrad

_adagrad_run = jax.jit(lambda g: run(scale_by_course_adagrad(delta=1e-3), g))


@given(gradients=gradient_sequences)
def test_course_adagrad_matches_its_rule(gradients):
    updates, state = _adagrad_run(gradients)
    expected, r = numpy_course_adagrad(gradients, 1e-3)
    np.testing.assert_allclose(updates, expected, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(state.sum_of_squares, r, rtol=2e-5, atol=1e-6)
    assert isinstance(state, ScaleByCourseAdagradState)


@given(gradients=gradient_sequences)
def test_course_adagrad_updates_are_bounded_by_one(gradients):
    """|u_k| = |g_k| / (delta + sqrt(sum_j<=k g_j^2)) <= 1, and the first step is sign(g)."""
    updates, _ = _adagrad_run(gradients)
    assert bool(jnp.all(jnp.abs(updates) <= 1.0))
    first = np.asarray(gradients[0])
    big = np.abs(first) > 1e-1
    np.testing.assert_allclose(np.asarray(updates[0])[big], np.sign(first[big]), rtol=1e-2)


def test_course_adagrad_differs_from_optax_scale_by_rss():
    g = jnp.array([0.5, -2.0])
    ours, _ = scale_by_course_adagrad().update(g, scale_by_course_adagrad().init(g))
    rss = optax.scale_by_rss()
    theirs, _ = rss.update(g, rss.init(g))
    np.testing.assert_allclose(ours, [1.0, -1.0], rtol=1e-5)
    assert not np.allclose(ours, theirs, rtol=1e-3)  # optax starts its accumulator at 0.1


# ---------------------------------------------------------------- delta-bar-delta

_dbd_settings = {"learning_rate": 0.1, "increment": 0.02, "decrement": 0.3, "averaging": 0.6}
_dbd_run = jax.jit(lambda g: run(scale_by_delta_bar_delta(**_dbd_settings), g))


@given(gradients=gradient_sequences)
def test_delta_bar_delta_matches_jacobs_rule(gradients):
    updates, state = _dbd_run(gradients)
    expected, rates, bar = numpy_delta_bar_delta(gradients, 0.1, 0.02, 0.3, 0.6)
    np.testing.assert_allclose(updates, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state.learning_rates, rates, rtol=1e-5)
    np.testing.assert_allclose(state.bar_delta, bar, rtol=1e-5, atol=1e-6)
    assert isinstance(state, ScaleByDeltaBarDeltaState)


@given(gradients=gradient_sequences)
def test_delta_bar_delta_rates_stay_positive_and_bounded(gradients):
    """Rates never reach zero and grow by at most one increment a step."""
    _, state = _dbd_run(gradients)
    rates = np.asarray(state.learning_rates)
    assert np.all(rates > 0)
    assert np.all(rates <= 0.1 + (NUM_STEPS - 1) * 0.02 + 1e-6)


@given(
    rate=st.floats(0.01, 1.0),
    kappa=st.floats(1e-3, 0.1),
    phi=st.floats(0.05, 0.95),
    magnitude=st.floats(0.1, 5.0),
)
def test_delta_bar_delta_closed_forms(rate, kappa, phi, magnitude):
    """A steady slope grows the rate by kappa a step; an oscillation (theta = 0) shrinks it
    by (1 - phi) a step; the first step never changes it (bar_delta starts at 0)."""
    steps = 4
    steady = np.full((steps, 1), magnitude)
    alternating = magnitude * np.array([[1.0], [-1.0], [1.0], [-1.0]])
    _, grown, _ = numpy_delta_bar_delta(steady, rate, kappa, phi, 0.0)
    _, shrunk, _ = numpy_delta_bar_delta(alternating, rate, kappa, phi, 0.0)
    np.testing.assert_allclose(grown, rate + (steps - 1) * kappa)
    np.testing.assert_allclose(shrunk, rate * (1 - phi) ** (steps - 1))
    tx = scale_by_delta_bar_delta(rate, increment=kappa, decrement=phi, averaging=0.0)
    for gradients, expected in ((steady, grown), (alternating, shrunk)):
        state = tx.init(jnp.zeros(1))
        for g in gradients:
            _, state = tx.update(jnp.asarray(g, jnp.float32), state)
        np.testing.assert_allclose(state.learning_rates, expected, rtol=1e-5)


# ---------------------------------------------------------------- transforms in general

TRANSFORMS = {
    "course_adagrad": lambda: scale_by_course_adagrad(delta=0.1),
    "delta_bar_delta": lambda: scale_by_delta_bar_delta(0.1),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_jit_and_vmap_match_eager(name):
    tx = TRANSFORMS[name]()
    gradients = jnp.array([[[0.5, -1.0], [1.0, 1.0]], [[2.0, 0.1], [-2.0, 0.3]]])  # [2, 2, 2]
    eager = [run(tx, g) for g in gradients]
    stacked = jax.tree.map(lambda *x: jnp.stack(x), *eager)
    chex.assert_trees_all_close(jax.jit(lambda g: run(tx, g))(gradients[0]), eager[0], rtol=1e-6)
    chex.assert_trees_all_close(jax.vmap(lambda g: run(tx, g))(gradients), stacked, rtol=1e-6)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_updates_are_differentiable_in_the_gradients(name):
    tx = TRANSFORMS[name]()

    def second_update(g):
        state = tx.init(g)
        _, state = tx.update(g, state)
        updates, _ = tx.update(jnp.sin(g) + 1.0, state)
        return jnp.sum(updates**2)

    assert_grads_close(second_update, jnp.array([0.5, -1.0, 2.0]))


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_pytree_structure_and_dtype_are_kept(name):
    tx = TRANSFORMS[name]()
    params = {"w": jnp.ones((2, 3)), "b": jnp.zeros(3, jnp.float32)}
    updates, state = tx.update(params, tx.init(params))
    chex.assert_trees_all_equal_shapes_and_dtypes(updates, params)
    for leaf_tree in state:
        chex.assert_trees_all_equal_structs(leaf_tree, params)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: scale_by_course_adagrad(delta=0.0), "delta"),
        (lambda: scale_by_delta_bar_delta(0.0), "learning_rate"),
        (lambda: scale_by_delta_bar_delta(optax.constant_schedule(0.1)), "schedule"),
        (lambda: scale_by_delta_bar_delta(0.1, increment=-1.0), "increment"),
        (lambda: scale_by_delta_bar_delta(0.1, decrement=0.0), "decrement"),
        (lambda: scale_by_delta_bar_delta(0.1, averaging=1.0), "averaging"),
    ],
)
def test_bad_hyperparameters_are_refused(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_delta_bar_delta_reads_the_sign_of_tiny_gradients():
    """Two gradients of 1e-20 agree in sign although their product underflows in float32."""
    tx = scale_by_delta_bar_delta(0.1, increment=0.05, averaging=0.0)
    state = tx.init(jnp.zeros(1))
    for _ in range(2):
        _, state = tx.update(jnp.full(1, 1e-20, jnp.float32), state)
    np.testing.assert_allclose(state.learning_rates, [0.15], rtol=1e-6)
