"""Tests of jaxdl.training.state: TrainState and create_train_state.

The state is a pytree that passes through jit, vmap and scan; ``apply_gradients`` is one
optax update (checked against optax itself); ``create_train_state`` initializes exactly
what ``model.init`` gives, keeps non-trained collections apart and clips when asked.
"""

from __future__ import annotations

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.nn import MLP
from jaxdl.training import TrainState, create_train_state


class BatchNormNet(nn.Module):
    """A model with a non-trained collection and a dropout rng stream."""

    @nn.compact
    def __call__(self, x, *, train: bool = False):
        x = nn.Dense(3)(x)
        x = nn.BatchNorm(use_running_average=not train)(x)
        return nn.Dropout(0.5, deterministic=not train)(x)


def quadratic_state(tx=None):
    params = {"w": jnp.array([1.0, -2.0]), "b": jnp.array(0.5)}
    return TrainState.create(apply_fn=lambda v, x: x, params=params, tx=tx or optax.sgd(0.1))


def grads_of(params):
    return jax.grad(lambda p: jnp.sum(p["w"] ** 2) + p["b"] ** 2)(params)


@pytest.mark.standard_dtype_promotion
def test_create_starts_at_step_zero_with_the_optimizer_state():
    tx = optax.adam(1e-2)
    state = quadratic_state(tx)
    assert state.step.dtype == jnp.int32 and int(state.step) == 0
    chex.assert_trees_all_equal(state.opt_state, tx.init(state.params))
    assert state.model_state == {} and state.input_spec is None
    assert state.variables == {"params": state.params}


@pytest.mark.standard_dtype_promotion  # optax's Adam mixes a Python float and an int32 count
@pytest.mark.parametrize(
    "make_tx", [lambda: optax.sgd(0.1, momentum=0.9), lambda: optax.adam(0.05)]
)
def test_apply_gradients_is_one_optax_update(make_tx):
    tx = make_tx()
    state = quadratic_state(tx)
    params, opt_state = state.params, tx.init(state.params)
    for k in range(3):
        state = state.apply_gradients(grads_of(state.params))
        updates, opt_state = tx.update(grads_of(params), opt_state, params)
        params = optax.apply_updates(params, updates)
        assert int(state.step) == k + 1
        chex.assert_trees_all_close(state.params, params, rtol=1e-6)
        chex.assert_trees_all_close(state.opt_state, opt_state, rtol=1e-6)


def test_apply_gradients_replaces_other_fields():
    state = quadratic_state().replace(model_state={"batch_stats": {"mean": jnp.zeros(2)}})
    new = state.apply_gradients(
        grads_of(state.params), model_state={"batch_stats": {"mean": jnp.ones(2)}}
    )
    chex.assert_trees_all_equal(new.model_state["batch_stats"]["mean"], jnp.ones(2))
    assert set(new.variables) == {"params", "batch_stats"}


def test_static_fields_are_not_leaves():
    state = quadratic_state()
    leaves = jax.tree.leaves(state)
    assert len(leaves) == 1 + 2 + len(jax.tree.leaves(state.opt_state))
    assert all(isinstance(leaf, jax.Array) for leaf in leaves)


def test_jit_and_scan_match_eager_steps():
    state = quadratic_state(optax.sgd(0.1, momentum=0.5))

    def step(state, _):
        return state.apply_gradients(grads_of(state.params)), None

    eager = state
    for _ in range(4):
        eager, _ = step(eager, None)
    scanned, _ = jax.jit(lambda s: jax.lax.scan(step, s, None, length=4))(state)
    chex.assert_trees_all_close(scanned, eager, rtol=1e-6)
    assert int(scanned.step) == 4


def test_vmap_over_a_population_matches_a_loop():
    tx = optax.sgd(0.1)
    starts = jnp.array([[1.0, 0.0], [-1.0, 2.0], [0.5, 0.5]])

    def make(w):
        return TrainState.create(apply_fn=None, params={"w": w, "b": jnp.array(0.0)}, tx=tx)

    def two_steps(state):
        for _ in range(2):
            state = state.apply_gradients(grads_of(state.params))
        return state

    population = jax.vmap(lambda w: two_steps(make(w)))(starts)
    for i, w in enumerate(starts):
        chex.assert_trees_all_close(
            jax.tree.map(lambda x, i=i: x[i], population), two_steps(make(w)), rtol=1e-6
        )


def test_create_train_state_matches_model_init(key):
    model = MLP(features=(4, 2))
    x = jnp.ones((5, 3))
    params_key, _ = jax.random.split(jax.random.clone(key))
    state = create_train_state(key, model, x, optax.sgd(0.1))
    chex.assert_trees_all_equal(state.params, model.init(params_key, x)["params"])
    assert state.input_spec == ((3,), "float32")
    assert state.model_state == {}
    out = state.apply_fn(state.variables, x)
    assert out.shape == (5, 2)


class TwoInputNet(nn.Module):
    """``Dense(x) * Dense(z)``: a model whose ``init`` needs two inputs."""

    @nn.compact
    def __call__(self, x, z):
        return nn.Dense(2, name="left")(x) * nn.Dense(2, name="right")(z)


def test_create_train_state_with_extra_inputs_matches_model_init(key):
    x, z = jnp.ones((5, 3)), jnp.ones((5, 4))
    params_key, _ = jax.random.split(jax.random.clone(key))
    state = create_train_state(key, TwoInputNet(), x, optax.sgd(0.1), extra_inputs=(z,))
    chex.assert_trees_all_equal(state.params, TwoInputNet().init(params_key, x, z)["params"])
    assert state.params["right"]["kernel"].shape == (4, 2)
    assert state.input_spec == ((3,), "float32")  # the spec describes the first input
    with pytest.raises(TypeError):
        create_train_state(key, TwoInputNet(), x, optax.sgd(0.1))  # z missing


def test_create_train_state_keeps_non_trained_collections_apart(key):
    x = jax.random.normal(jax.random.key(1), (8, 2))
    state = create_train_state(key, BatchNormNet(), x, optax.sgd(0.1), init_kwargs={"train": False})
    assert set(state.model_state) == {"batch_stats"}
    assert "batch_stats" not in state.params
    out, updates = state.apply_fn(
        state.variables, x, train=True, mutable=["batch_stats"], rngs={"dropout": jax.random.key(2)}
    )
    assert out.shape == (8, 3) and set(updates) == {"batch_stats"}


def test_max_grad_norm_clips_the_global_norm(key):
    x = jnp.ones((1, 2))
    state = create_train_state(key, MLP(features=(1,)), x, optax.sgd(1.0), max_grad_norm=1.0)
    grads = jax.tree.map(lambda p: jnp.full_like(p, 10.0), state.params)
    new = state.apply_gradients(grads)
    step = jax.tree.map(lambda a, b: a - b, state.params, new.params)
    np.testing.assert_allclose(optax.tree.norm(step), 1.0, rtol=1e-5)


@pytest.mark.parametrize("max_grad_norm", [0.0, -1.0])
def test_bad_max_grad_norm_is_refused(key, max_grad_norm):
    with pytest.raises(ValueError, match="max_grad_norm"):
        create_train_state(
            key, MLP(features=(1,)), jnp.ones((1, 2)), optax.sgd(0.1), max_grad_norm=max_grad_norm
        )
