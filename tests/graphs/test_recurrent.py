"""Scarselli's fixed point (implicit vs unrolled gradients, non-convergence) and the GGNN."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.graphs import (
    FixedPointError,
    GatedGNN,
    ScarselliGNN,
    check_converged,
    contraction_penalty,
    course_example_graph,
    fixed_point,
    ggnn_gru_update,
    lipschitz_bound,
    permute_graph,
)
from jaxdl.testing import assert_grads_close
from tests.graphs.helpers import random_graph, random_permutation


def test_fixed_point_of_a_linear_map_and_its_implicit_gradient():
    def t(p, h, x):
        return p * h + x

    h, residual, iterations = fixed_point(t, 0.5, 1.0, jnp.zeros(()), 1e-6, 100)
    assert abs(float(h) - 2.0) < 1e-5 and float(residual) <= 1e-6 and int(iterations) < 40
    grad_p, grad_x = jax.grad(
        lambda p, x: fixed_point(t, p, x, jnp.zeros(()), 1e-7, 200)[0], (0, 1)
    )(0.5, 1.0)
    np.testing.assert_allclose([grad_p, grad_x], [4.0, 2.0], rtol=1e-4)  # x/(1-p)^2, 1/(1-p)


def test_scarselli_implicit_gradients_match_unrolled_backprop():
    g = course_example_graph(jnp.arange(10.0).reshape(5, 2) / 10 - 0.5)
    implicit = ScarselliGNN(features=3, tolerance=1e-7, max_iterations=300)
    unrolled = ScarselliGNN(features=3, implicit=False, max_iterations=300)
    params = implicit.init(jax.random.key(0), g.nodes, g)

    def loss(model):
        def fn(params):
            h, _ = model.apply(params, g.nodes, g)
            return jnp.sum(jnp.sin(h) * jnp.arange(1.0, 4.0)[None, :])

        return jax.value_and_grad(fn)(params)

    (value_i, grad_i), (value_u, grad_u) = loss(implicit), loss(unrolled)
    np.testing.assert_allclose(value_i, value_u, rtol=1e-5)
    for a, b in zip(jax.tree.leaves(grad_i), jax.tree.leaves(grad_u), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    h, info = implicit.apply(params, g.nodes, g)
    assert bool(info.converged) and float(lipschitz_bound(params["params"]["W"])) < 1
    # h* really is a fixed point: one more sweep (by the unrolled model) leaves it there
    np.testing.assert_allclose(unrolled.apply(params, g.nodes, g)[0], h, atol=1e-5)


def test_scarselli_implicit_gradient_float64():
    g = course_example_graph(jnp.arange(10.0).reshape(5, 2) / 10)
    model = ScarselliGNN(features=2, tolerance=1e-12, max_iterations=500)
    params = model.init(jax.random.key(1), g.nodes, g)

    def loss(params, nodes):
        return jnp.sum(model.apply(params, nodes, g)[0] ** 2)

    assert_grads_close(
        loss,
        params,
        g.nodes,
        mode="directions",
        num_samples=6,
        key=jax.random.key(7),
        rtol=1e-4,
        atol=1e-7,
    )


def test_non_contractive_transition_is_reported_and_raises():
    g = course_example_graph(jnp.ones((5, 2)))
    model = ScarselliGNN(features=2, aggregation="sum", max_iterations=50)
    params = model.init(jax.random.key(0), g.nodes, g)
    # h -> -4 * sum tanh(h): oscillates, no fixed point is reached
    params["params"]["W"] = -4.0 * jnp.eye(2)
    h, info = model.apply(params, g.nodes, g)
    assert not bool(info.converged) and int(info.iterations) == 50
    assert float(contraction_penalty(params["params"]["W"], mu=0.9)) == pytest.approx(
        3.1**2, rel=1e-5
    )
    with pytest.raises(FixedPointError, match="did not converge: residual .* after 50 iterations"):
        check_converged(info)
    with pytest.raises(ValueError, match="aggregation must be 'mean' or 'sum'"):
        ScarselliGNN(features=2, aggregation="max").init(jax.random.key(0), g.nodes, g)


def test_gru_conventions_chapter_11_vs_chapter_13():
    h, c = jnp.array([1.0, -2.0]), jnp.array([3.0, 5.0])
    z = jnp.array([0.2, 0.9])
    # chapter 11: h' = (1 - z) h + z c; chapter 13: h' = z h + (1 - z) c, i.e. z -> 1 - z
    np.testing.assert_allclose(ggnn_gru_update(h, c, z), (1 - z) * h + z * c)
    np.testing.assert_allclose(ggnn_gru_update(h, c, 1 - z), z * h + (1 - z) * c)
    # flax's GRUCell follows chapter 13: with the update gate saturated at 1 it keeps h
    cell = nn.GRUCell(features=2)
    x = jnp.ones((1, 2))
    params = cell.init(jax.random.key(0), h[None, :], x)
    params["params"]["iz"]["bias"] = jnp.full((2,), 50.0)
    new_h, _ = cell.apply(params, h[None, :], x)
    np.testing.assert_allclose(new_h[0], h, atol=1e-6)
    # the GGNN with the same saturated gate takes the candidate instead: from h = 0 with a
    # zero candidate bias and zero weights the state becomes c = tanh(0) = 0, not h
    g = course_example_graph(jnp.ones((5, 2)))
    model = GatedGNN(features=2, num_steps=1)
    p = model.init(jax.random.key(0), g.nodes, g)
    p = jax.tree.map(jnp.zeros_like, p)
    p["params"]["b_z"] = jnp.full((2,), 50.0)
    np.testing.assert_allclose(model.apply(p, g.nodes, g), 0.0, atol=1e-6)
    p["params"]["b_z"] = jnp.full((2,), -50.0)  # z = 0: the state stays h^(1) = x
    np.testing.assert_allclose(model.apply(p, g.nodes, g), g.nodes, atol=1e-6)


def test_ggnn_one_step_by_hand_and_gradients():
    g = course_example_graph(jnp.arange(10.0).reshape(5, 2) / 10)
    model = GatedGNN(features=3, num_steps=1)
    params = model.init(jax.random.key(0), g.nodes, g)
    p = {k: np.asarray(v, np.float64) for k, v in params["params"].items()}
    from jaxdl.graphs import COURSE_ADJACENCY

    h = np.pad(np.asarray(g.nodes, np.float64), ((0, 0), (0, 1)))
    a = COURSE_ADJACENCY.T @ (h @ p["W_a"] + p["b_a"])
    sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    z = sig(a @ p["W_z"] + h @ p["U_z"] + p["b_z"])
    r = sig(a @ p["W_r"] + h @ p["U_r"] + p["b_r"])
    c = np.tanh(a @ p["W"] + (r * h) @ p["U"] + p["b"])
    np.testing.assert_allclose(
        model.apply(params, g.nodes, g), (1 - z) * h + z * c, rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="features must be >= the node feature size 2"):
        GatedGNN(features=1).init(jax.random.key(0), g.nodes, g)
    two = GatedGNN(features=3, num_steps=2)

    def loss(params, nodes):
        return jnp.sum(two.apply(params, nodes, g) ** 2)

    assert_grads_close(
        loss,
        params,
        g.nodes,
        mode="directions",
        num_samples=6,
        key=jax.random.key(7),
        rtol=1e-4,
        atol=1e-7,
    )


_SCARSELLI = ScarselliGNN(features=3)
_GGNN = GatedGNN(features=3, num_steps=3)


@jax.jit
def _recurrent(params, graph):
    return _SCARSELLI.apply(params[0], graph.nodes, graph)[0], _GGNN.apply(
        params[1], graph.nodes, graph
    )


@settings(max_examples=5)
@given(st.integers(0, 10**6))
def test_recurrent_models_are_permutation_equivariant(seed):
    g = random_graph(seed)
    params = (
        _SCARSELLI.init(jax.random.key(0), g.nodes, g),
        _GGNN.init(jax.random.key(1), g.nodes, g),
    )
    perm = random_permutation(seed)
    out = _recurrent(params, g)
    out_perm = _recurrent(params, permute_graph(g, perm))
    for a, b in zip(out, out_perm, strict=True):
        np.testing.assert_allclose(b, np.asarray(a)[perm], rtol=1e-4, atol=1e-5)
