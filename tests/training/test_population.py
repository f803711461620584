"""fit_many: a population trained in one compiled program, by "vmap" or "map"."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.testing import assert_pytrees_allclose
from jaxdl.training import (
    create_train_state,
    fit,
    fit_many,
    make_supervised_loss,
    set_hyperparams,
)
from jaxdl.training.population import choose_strategy
from tests._fixtures import TinyNet, classification_data, count_traces, linear_problem

pytestmark = pytest.mark.standard_dtype_promotion


def test_fit_many_strategies_agree():
    model, _, x, y = linear_problem(n=32)
    tx = optax.sgd(0.1)
    states = jax.vmap(lambda k: create_train_state(k, model, x[:1], tx))(
        jax.random.split(jax.random.key(4), 3)
    )
    loss = make_supervised_loss(model)
    runs = {
        strategy: fit_many(
            jax.random.split(jax.random.key(5), 3),
            states,
            loss,
            (x, y),
            num_epochs=2,
            batch_size=8,
            strategy=strategy,
            block_size=2,
        )
        for strategy in ("vmap", "map")
    }
    for a, b in zip(
        jax.tree.leaves(runs["vmap"].state.params),
        jax.tree.leaves(runs["map"].state.params),
        strict=True,
    ):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert runs["map"].history["train_loss"].shape == (3, 2)


def test_fit_many_matches_separate_runs_and_learning_rate_grid():
    x, y = classification_data()
    model = TinyNet()
    loss_fn = make_supervised_loss(model)
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    rates = jnp.array([0.01, 0.1, 0.5])
    init_keys = jax.random.split(jax.random.key(19), 3)
    states = jax.vmap(lambda k: create_train_state(k, model, x[:2], tx))(init_keys)
    states = states.replace(opt_state=set_hyperparams(states.opt_state, learning_rate=rates))
    run_keys = jax.random.split(jax.random.key(20), 3)
    many = fit_many(run_keys, states, loss_fn, (x, y), num_epochs=3, batch_size=16, val_data=(x, y))
    assert many.history["train_loss"].shape == (3, 3)
    assert np.all(np.asarray(many.nonfinite_step) == -1)
    for i in range(3):
        member = jax.tree.map(lambda a, i=i: a[i], states)
        single = fit(
            jax.random.split(jax.random.key(20), 3)[i],
            member,
            loss_fn,
            (x, y),
            num_epochs=3,
            batch_size=16,
            progress=False,
        )
        member_params = jax.tree.map(lambda a, i=i: a[i], many.state.params)
        assert_pytrees_allclose(member_params, single.state.params, rtol=1e-4, atol=1e-5)


def test_fit_many_reuses_its_compiled_program():
    x, y = classification_data()
    model = TinyNet()
    counting_loss, traces = count_traces(make_supervised_loss(model))

    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    for seed in (30, 31):
        keys = jax.random.split(jax.random.key(seed), 2)
        states = jax.vmap(lambda k: create_train_state(k, model, x[:2], tx))(keys)
        fit_many(
            jax.random.key(seed + 10), states, counting_loss, (x, y), num_epochs=2, batch_size=32
        )
    assert len(traces) == 1


def test_vmap_and_map_agree_on_four_tiny_members():
    x = jax.random.normal(jax.random.key(0), (16, 2))
    y = (x[:, 0] > 0).astype(jnp.int32)
    model = nn.Dense(2)
    tx = optax.sgd(0.2)
    states = jax.vmap(lambda k: create_train_state(k, model, x[:1], tx))(
        jax.random.split(jax.random.key(1), 4)
    )
    assert choose_strategy(states, 4) == ("vmap", 4)  # tiny members fit in one block
    loss = make_supervised_loss(model)
    vmap, mapped = (
        fit_many(
            jax.random.key(2),
            states,
            loss,
            (x, y),
            num_epochs=2,
            batch_size=4,
            strategy=strategy,
            block_size=block,
        )
        for strategy, block in (("vmap", None), ("map", 1))
    )
    assert_pytrees_allclose(vmap.state.params, mapped.state.params, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        vmap.history["train_loss"], mapped.history["train_loss"], rtol=1e-5, atol=1e-6
    )
    assert vmap.history["train_loss"].shape == (4, 2)
    assert not np.array_equal(vmap.state.params["kernel"][0], vmap.state.params["kernel"][1])


def test_a_diverging_member_is_rerun_guarded_and_reports_the_step_fit_reports():
    """Members run without the per-step guard; only a non-finite one is rerun with it."""
    x, _ = classification_data(n=32)
    y = x @ jnp.array([[1.0], [-2.0], [0.5], [0.0]])
    model = nn.Dense(1)
    loss_fn = make_supervised_loss(model, "mse", ())
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    states = jax.vmap(lambda k: create_train_state(k, model, x[:2], tx))(
        jax.random.split(jax.random.key(40), 3)
    )
    rates = jnp.array([0.01, 1e6, 0.03])  # the middle member overflows within a few steps
    states = states.replace(opt_state=set_hyperparams(states.opt_state, learning_rate=rates))
    run_keys = jax.random.split(jax.random.key(41), 3)
    many = fit_many(run_keys, states, loss_fn, (x, y), num_epochs=3, batch_size=8)
    bad = jax.tree.map(lambda a: a[1], states)
    with pytest.raises(FloatingPointError) as error:
        key = jax.random.split(jax.random.key(41), 3)[1]
        fit(key, bad, loss_fn, (x, y), num_epochs=3, batch_size=8, progress=False)
    steps = np.asarray(many.nonfinite_step)
    assert steps[1] == error.value.step > 0 and steps[0] == steps[2] == -1
    member = jax.tree.map(lambda a: a[1], many.state.params)
    assert_pytrees_allclose(member, error.value.state.params, rtol=1e-5, atol=0)
    assert np.all(np.isfinite(np.asarray(many.history["train_loss"][::2])))


@pytest.mark.parametrize(
    ("features", "inputs", "members", "expected"),
    [
        ((100, 100, 10), 40, 8, ("vmap", 8)),  # small members: one batched program
        ((100, 100, 10), 40, 32, ("vmap", 32)),
        ((100, 100, 10), 40, 128, ("map", 32)),  # at most 32 members per block
        ((500, 10), 784, 16, ("map", 2)),  # 4.8 MB of Adam state each: blocks of two
    ],
)
def test_auto_strategy_blocks_by_member_state_bytes(features, inputs, members, expected):
    from jaxdl.nn import MLP
    from jaxdl.training.population import state_bytes_per_member

    model = MLP(features=features)
    tx = optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)
    x = jax.ShapeDtypeStruct((1, inputs), jnp.float32)
    keys = jax.random.split(jax.random.key(0), members)
    states = jax.eval_shape(jax.vmap(lambda k: create_train_state(k, model, x, tx)), keys)
    weights = sum(a * b + b for a, b in zip((inputs, *features[:-1]), features, strict=True))
    assert 3 * 4 * weights <= state_bytes_per_member(states, members) <= 3 * 4 * weights + 64
    assert choose_strategy(states, members) == expected
