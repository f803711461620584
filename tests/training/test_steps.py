"""Custom update steps (``update_step``): wrapping a function, and steps driven by fit."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.testing import assert_bitwise_equal
from jaxdl.training import TrainState, fit, update_step
from jaxdl.training.steps import UpdateStep, as_update_step, default_eval_fn, make_train_step
from tests._fixtures import Interrupt, raw_state, stop_at_epoch

pytestmark = pytest.mark.standard_dtype_promotion


# A GAN-like step: two networks, two optimizers, k=2 "discriminator" updates per
# "generator" update, noise from the step key.
_G, _D = nn.Dense(2), nn.Dense(1)
_G_TX, _D_TX = optax.adam(1e-2), optax.sgd(0.05)


def _two_player_state():
    g = _G.init(jax.random.key(0), jnp.zeros((1, 2)))["params"]
    d = _D.init(jax.random.key(1), jnp.zeros((1, 2)))["params"]
    opt = {"g": _G_TX.init(g), "d": _D_TX.init(d)}
    return raw_state({"g": g, "d": d}, opt)


def _two_player_step(key, state, batch):
    (real,) = batch
    g, d = state.params["g"], state.params["d"]
    d_opt = state.opt_state["d"]
    for j in range(2):
        z = jax.random.normal(jax.random.fold_in(key, j), real.shape)
        fake = _G.apply({"params": g}, z)

        def d_loss(p, fake=fake):
            real_logit = _D.apply({"params": p}, real)
            fake_logit = _D.apply({"params": p}, fake)
            return jnp.mean(nn.softplus(-real_logit) + nn.softplus(fake_logit))

        d_value, grads = jax.value_and_grad(d_loss)(d)
        updates, d_opt = _D_TX.update(grads, d_opt, d)
        d = optax.apply_updates(d, updates)
    z = jax.random.normal(jax.random.fold_in(key, 99), real.shape)

    def g_loss(p):
        return jnp.mean(nn.softplus(-_D.apply({"params": d}, _G.apply({"params": p}, z))))

    g_value, grads = jax.value_and_grad(g_loss)(g)
    updates, g_opt = _G_TX.update(grads, state.opt_state["g"], g)
    g = optax.apply_updates(g, updates)
    new = state.replace(params={"g": g, "d": d}, opt_state={"g": g_opt, "d": d_opt})
    return new, {"loss": d_value + g_value, "d_loss": d_value, "g_loss": g_value}


def test_custom_two_optimizer_step_trains_and_resumes_bitwise(tmp_path):
    real = jax.random.normal(jax.random.key(2), (48, 2)) + 3.0
    objective = update_step(_two_player_step)
    kwargs = dict(num_epochs=4, batch_size=8, progress=False, epochs_per_chunk=1)
    reference = fit(jax.random.key(3), _two_player_state(), objective, (real,), **kwargs)
    assert int(reference.state.step) == 4 * 6
    assert {"train_loss", "train_d_loss", "train_g_loss"} <= set(reference.history[-1])

    ckpt = dict(checkpoint_dir=str(tmp_path), checkpoint_every_steps=1)
    with pytest.raises(Interrupt):
        fit(
            jax.random.key(3),
            _two_player_state(),
            objective,
            (real,),
            callback=stop_at_epoch(2),
            **ckpt,
            **kwargs,
        )
    resumed = fit(jax.random.key(3), _two_player_state(), objective, (real,), **ckpt, **kwargs)
    assert_bitwise_equal(resumed.state.params, reference.state.params)
    assert_bitwise_equal(resumed.state.opt_state, reference.state.opt_state)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]


def test_non_gradient_step_through_fit():
    def mean_step(key, state, batch):  # running mean of the data: no gradient, no optimizer
        (x,) = batch
        mean = state.params + (jnp.mean(x) - state.params) / (state.step + 1.0)
        return state.replace(params=mean), {"mean": mean}

    x = jnp.arange(12.0)[:, None]
    result = fit(
        jax.random.key(0),
        raw_state(jnp.zeros(())),
        update_step(mean_step),
        (x,),
        num_epochs=1,
        batch_size=1,
        shuffle=False,
        progress=False,
    )
    assert float(result.state.params) == pytest.approx(5.5)
    assert int(result.state.step) == 12
    assert result.history[0]["train_mean"] == pytest.approx(
        np.mean(np.cumsum(x) / np.arange(1, 13))
    )


def test_update_step_wraps_a_function_and_refuses_non_callables():
    def step(key, state, batch):
        return state, {"loss": jnp.zeros(())}

    def evaluate(params, model_state, batch):
        return {"loss": jnp.zeros(())}

    wrapped = update_step(step, evaluate=evaluate)
    assert isinstance(wrapped, UpdateStep) and wrapped.fn is step
    assert wrapped.evaluate is evaluate and default_eval_fn(wrapped, None) is evaluate
    assert as_update_step(wrapped) is step
    state = raw_state(jnp.zeros(()))
    assert wrapped(jax.random.key(0), state, (jnp.zeros((1, 1)),))[0] is state
    with pytest.raises(TypeError, match="needs a callable"):
        update_step(3)


def test_a_loss_becomes_a_gradient_step_reporting_loss_and_metrics():
    def loss_fn(params, model_state, batch, key):
        (x,) = batch
        loss = jnp.mean((x - params["w"]) ** 2)
        return loss, (model_state, {"w": params["w"]})

    state = TrainState.create(apply_fn=None, params={"w": jnp.zeros(())}, tx=optax.sgd(0.25))
    batch = (jnp.full((4,), 2.0),)
    new, (loss, metrics) = make_train_step(loss_fn)(state, batch, jax.random.key(0))
    assert float(loss) == 4.0 and float(new.params["w"]) == 1.0  # w - 0.25 * (-4)
    new2, step_metrics = as_update_step(loss_fn)(jax.random.key(0), state, batch)
    assert sorted(step_metrics) == ["loss", "w"] and float(new2.params["w"]) == 1.0
    assert default_eval_fn(loss_fn, None) is None


def test_a_custom_steps_metrics_reach_the_history_and_validation():
    def step(key, state, batch):
        (x,) = batch
        total = jnp.sum(x)
        return state.replace(params=state.params + total), {"total": total, "loss": total}

    def evaluate(params, model_state, batch):
        return {"size": jnp.asarray(batch[0].shape[0], jnp.float32)}

    x = jnp.ones((6, 1))
    result = fit(
        jax.random.key(0),
        raw_state(jnp.zeros(())),
        update_step(step, evaluate=evaluate),
        (x,),
        val_data=(x[:3],),
        num_epochs=2,
        batch_size=2,
        progress=False,
    )
    assert [r["train_total"] for r in result.history] == [2.0, 2.0]
    assert result.history[-1]["val_size"] == 3.0
    assert float(result.state.params) == 12.0 and int(result.state.step) == 6
