"""Tests of jaxdl.optim.hyperparams: reading and setting injected hyperparameters.

Checked on optax's ``inject_hyperparams`` states, alone and nested in a chain; a value set
is the value the next update uses; a leading member axis gives a vmappable population.
"""

from __future__ import annotations

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.optim.hyperparams import get_hyperparams, set_hyperparams

PARAMS = jnp.array([1.0, -2.0, 0.5])
GRADS = jnp.array([0.5, 1.0, -2.0])


def injected_sgd(learning_rate=0.1):
    return optax.inject_hyperparams(optax.sgd)(learning_rate=learning_rate, momentum=0.9)


def test_get_reads_every_injected_hyperparameter():
    found = get_hyperparams(injected_sgd(0.25).init(PARAMS))
    assert set(found) == {"learning_rate", "momentum"}
    np.testing.assert_allclose(found["learning_rate"], 0.25)
    np.testing.assert_allclose(found["momentum"], 0.9)


def test_get_finds_states_nested_in_a_chain_first_one_wins():
    tx = optax.chain(
        optax.clip_by_global_norm(1.0),
        optax.inject_hyperparams(optax.adam)(learning_rate=0.01),
        optax.inject_hyperparams(optax.scale)(step_size=-2.0),
        optax.inject_hyperparams(optax.sgd)(learning_rate=0.5),
    )
    found = get_hyperparams(tx.init(PARAMS))
    np.testing.assert_allclose(found["learning_rate"], 0.01)
    np.testing.assert_allclose(found["step_size"], -2.0)


def test_plain_optimizers_have_no_injected_hyperparameters():
    assert get_hyperparams(optax.adam(1e-3).init(PARAMS)) == {}
    with pytest.raises(KeyError, match="learning_rate"):
        set_hyperparams(optax.adam(1e-3).init(PARAMS), learning_rate=0.1)


def test_set_changes_what_the_next_update_uses():
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    state = set_hyperparams(tx.init(PARAMS), learning_rate=0.3)
    updates, state = tx.update(GRADS, state)
    np.testing.assert_allclose(updates, -0.3 * GRADS, rtol=1e-6)
    np.testing.assert_allclose(get_hyperparams(state)["learning_rate"], 0.3)


def test_set_keeps_the_dtype_and_leaves_other_values():
    state = injected_sgd().init(PARAMS)
    new = set_hyperparams(state, learning_rate=1)  # a Python int
    assert new.hyperparams["learning_rate"].dtype == state.hyperparams["learning_rate"].dtype
    np.testing.assert_allclose(get_hyperparams(new)["momentum"], 0.9)
    chex.assert_trees_all_equal_structs(new, state)
    np.testing.assert_allclose(get_hyperparams(state)["learning_rate"], 0.1)  # not in place


def test_unknown_names_are_refused_with_the_available_ones():
    with pytest.raises(
        KeyError, match=r"\['weight_decay'\].*available: \['learning_rate', 'momentum'\]"
    ):
        set_hyperparams(injected_sgd().init(PARAMS), weight_decay=0.1)


def test_a_member_axis_gives_a_vmappable_population():
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    rates = jnp.array([0.1, 0.2, 0.4])
    states = jax.vmap(tx.init)(jnp.stack([PARAMS] * 3))
    states = set_hyperparams(states, learning_rate=rates)
    updates, states = jax.vmap(tx.update)(jnp.stack([GRADS] * 3), states)
    np.testing.assert_allclose(updates, -rates[:, None] * GRADS[None, :], rtol=1e-6)
    np.testing.assert_allclose(get_hyperparams(states)["learning_rate"], rates)


def test_set_works_under_jit_with_traced_values():
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)

    @jax.jit
    def update_with(rate):
        state = set_hyperparams(tx.init(PARAMS), learning_rate=rate)
        return tx.update(GRADS, state)[0]

    np.testing.assert_allclose(update_with(jnp.float32(0.5)), -0.5 * GRADS, rtol=1e-6)
    # the rate is a traced value: one compilation serves every rate
    np.testing.assert_allclose(update_with(jnp.float32(0.25)), -0.25 * GRADS, rtol=1e-6)
    assert update_with._cache_size() == 1
