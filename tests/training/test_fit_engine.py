"""fit as the one engine: custom update steps, the chunk guard, input checks, resume, signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.training import (
    Checkpointer,
    EarlyStopping,
    NonFiniteLossError,
    NonFiniteMetricError,
    RunLogger,
    TrainState,
    create_train_state,
    fit,
    fit_many,
    make_supervised_loss,
    update_step,
)

pytestmark = pytest.mark.standard_dtype_promotion


def _bitwise_equal(a, b) -> bool:
    return all(
        np.array_equal(np.asarray(u), np.asarray(v))
        for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


def _raw_state(params, opt_state=None) -> TrainState:
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        opt_state={} if opt_state is None else opt_state,
        model_state={},
        apply_fn=None,
        tx=None,
    )


# A GAN-like step: two networks, two optimizers, k=2 "discriminator" updates per
# "generator" update, noise from the step key.
_G, _D = nn.Dense(2), nn.Dense(1)
_G_TX, _D_TX = optax.adam(1e-2), optax.sgd(0.05)


def _two_player_state():
    g = _G.init(jax.random.key(0), jnp.zeros((1, 2)))["params"]
    d = _D.init(jax.random.key(1), jnp.zeros((1, 2)))["params"]
    opt = {"g": _G_TX.init(g), "d": _D_TX.init(d)}
    return _raw_state({"g": g, "d": d}, opt)


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

    class Stop(Exception):
        pass

    def stop_at_2(record):
        if record["epoch"] == 2:
            raise Stop

    ckpt = dict(checkpoint_dir=str(tmp_path), checkpoint_every_steps=1)
    with pytest.raises(Stop):
        fit(
            jax.random.key(3),
            _two_player_state(),
            objective,
            (real,),
            callback=stop_at_2,
            **ckpt,
            **kwargs,
        )
    resumed = fit(jax.random.key(3), _two_player_state(), objective, (real,), **ckpt, **kwargs)
    assert _bitwise_equal(resumed.state.params, reference.state.params)
    assert _bitwise_equal(resumed.state.opt_state, reference.state.opt_state)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]


def test_non_gradient_step_through_fit():
    def mean_step(key, state, batch):  # running mean of the data: no gradient, no optimizer
        (x,) = batch
        mean = state.params + (jnp.mean(x) - state.params) / (state.step + 1.0)
        return state.replace(params=mean), {"mean": mean}

    x = jnp.arange(12.0)[:, None]
    result = fit(
        jax.random.key(0),
        _raw_state(jnp.zeros(())),
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


def _counting_step(bad_at: int | None = None):
    def step(key, state, batch):
        params = state.params + 1.0
        loss = jnp.where(state.step == bad_at, jnp.nan, 1.0) if bad_at is not None else 1.0
        return state.replace(params=params), {"loss": jnp.asarray(loss, jnp.float32)}

    return update_step(step)


def test_nonfinite_inside_a_chunk_names_the_step_and_returns_the_last_good_state(tmp_path):
    x = jnp.zeros((4, 1))
    with pytest.raises(NonFiniteLossError, match="non-finite loss at step 7") as info:
        fit(
            jax.random.key(0),
            _raw_state(jnp.zeros(())),
            _counting_step(bad_at=7),
            (x,),
            num_epochs=6,
            batch_size=1,
            epochs_per_chunk=3,
            progress=False,
            checkpoint_dir=str(tmp_path),
            checkpoint_every_steps=1,
        )
    error = info.value
    assert error.step == 7
    assert int(error.state.step) == 7 and float(error.state.params) == 7.0  # 7 good updates
    assert error.checkpoint_step is None  # the first chunk failed: nothing good was saved yet


def test_one_epoch_with_long_chunks_computes_one_epoch():
    calls = []

    def step(key, state, batch):
        jax.debug.callback(lambda: calls.append(1))
        return state.replace(params=state.params + 1.0), {"loss": jnp.zeros(())}

    x = jnp.zeros((5, 1))
    result = fit(
        jax.random.key(0),
        _raw_state(jnp.zeros(())),
        update_step(step),
        (x,),
        num_epochs=1,
        batch_size=1,
        epochs_per_chunk=10,
        progress=False,
    )
    jax.effects_barrier()
    assert len(calls) == 5 and int(result.state.step) == 5 and len(result.history) == 1


def test_no_recompilation_after_the_first_chunk():
    traces = []

    def step(key, state, batch):
        traces.append(1)
        return state.replace(params=state.params + 1.0), {"loss": jnp.zeros(())}

    seen_after_first = []
    x = jnp.zeros((4, 1))
    fit(
        jax.random.key(0),
        _raw_state(jnp.zeros(())),
        update_step(step),
        (x,),
        num_epochs=7,
        batch_size=2,
        epochs_per_chunk=3,
        progress=False,
        callback=lambda r: seen_after_first.append(len(traces)),
    )
    assert len(set(seen_after_first)) == 1 and len(traces) == 1


def _mlp_problem(n=64):
    x = jax.random.normal(jax.random.key(0), (n, 3))
    y = (x[:, 0] > 0).astype(jnp.int32)
    model = nn.Dense(2)
    state = create_train_state(jax.random.key(1), model, x[:1], optax.sgd(0.1))
    return model, state, x, y


def test_resume_history_is_complete_and_metrics_jsonl_not_duplicated(tmp_path):
    model, state, x, y = _mlp_problem()
    logger = RunLogger(tmp_path / "run")
    kwargs = dict(
        num_epochs=6,
        batch_size=16,
        progress=False,
        logger=logger,
        checkpoint_dir=str(tmp_path / "ckpt"),
        checkpoint_every_steps=8,
    )

    class Stop(Exception):
        pass

    def stop_at_5(record):
        if record["epoch"] == 5:
            raise Stop

    with pytest.raises(Stop):
        fit(
            jax.random.key(2),
            state,
            make_supervised_loss(model),
            (x, y),
            callback=stop_at_5,
            **kwargs,
        )
    resumed = fit(jax.random.key(2), state, make_supervised_loss(model), (x, y), **kwargs)
    epochs = [r["epoch"] for r in logger.read_metrics()]
    assert epochs == [1, 2, 3, 4, 5, 6]
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4, 5, 6]


def test_key_must_be_a_typed_key():
    model, state, x, y = _mlp_problem()
    loss = make_supervised_loss(model)
    for bad in (0, jnp.arange(2, dtype=jnp.uint32), jax.random.PRNGKey(0), np.int32(3)):
        with pytest.raises(TypeError, match="key must be a typed PRNG key"):
            fit(bad, state, loss, (x, y), num_epochs=1, progress=False)


def test_nonfinite_data_is_reported_with_array_and_index():
    model, state, x, y = _mlp_problem()
    loss = make_supervised_loss(model)
    bad = x.at[5, 2].set(jnp.nan)
    with pytest.raises(ValueError, match=r"train_data\[0\] holds a non-finite value .* \(5, 2\)"):
        fit(jax.random.key(0), state, loss, (bad, y), num_epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"val_data\[0\] holds a non-finite value \(inf\)"):
        fit(
            jax.random.key(0),
            state,
            loss,
            (x, y),
            val_data=(x.at[0, 0].set(jnp.inf), y),
            num_epochs=1,
            progress=False,
        )
    with pytest.raises(NonFiniteLossError):  # skipping the check lets training meet the NaN
        fit(
            jax.random.key(0),
            state,
            loss,
            (bad, y),
            num_epochs=1,
            progress=False,
            check_finite_data=False,
        )


def test_nonfinite_validation_metric_under_early_stopping_is_an_error():
    model, state, x, y = _mlp_problem()

    def eval_fn(params, model_state, batch):
        return {"loss": jnp.asarray(jnp.nan)}

    with pytest.raises(NonFiniteMetricError, match="'val_loss' is not finite at epoch 1"):
        fit(
            jax.random.key(0),
            state,
            make_supervised_loss(model),
            (x, y),
            val_data=(x, y),
            eval_fn=eval_fn,
            early_stopping=EarlyStopping("val_loss"),
            num_epochs=3,
            progress=False,
        )


SIGNAL_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    import jax, jax.numpy as jnp, optax
    import flax.linen as nn
    from jaxdl.training import TrainingInterrupted, create_train_state, fit, make_supervised_loss
    ckpt, signame = sys.argv[1], sys.argv[2]
    x = jax.random.normal(jax.random.key(0), (32, 3)); y = (x[:, 0] > 0).astype(jnp.int32)
    model = nn.Dense(2)
    state = create_train_state(jax.random.key(1), model, x[:1], optax.sgd(0.1))
    before = signal.getsignal(signal.SIGTERM)
    def send(record):
        if record["epoch"] == 2:
            os.kill(os.getpid(), getattr(signal, signame))
    try:
        fit(jax.random.key(2), state, make_supervised_loss(model), (x, y), num_epochs=50,
            batch_size=8, progress=False, checkpoint_dir=ckpt, callback=send)
    except TrainingInterrupted as error:
        restored = signal.getsignal(signal.SIGTERM) is before
        print(json.dumps({"step": error.step, "checkpoint_step": error.checkpoint_step,
                          "signal": int(error.signal), "restored": restored}))
        sys.exit(error.exit_code)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_signal_saves_a_checkpoint_and_raises_training_interrupted(tmp_path, signame):
    ckpt = tmp_path / "ckpt"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_SCRIPT, str(ckpt), signame],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    signum = int(getattr(signal, signame))
    assert done.returncode == 128 + signum, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["signal"] == signum and report["restored"]
    assert report["step"] == 8  # the chunk of epoch 2 finished: 2 epochs of 4 steps
    assert report["checkpoint_step"] == report["step"]
    with Checkpointer(ckpt) as checkpointer:  # the saved checkpoint is the reported one
        assert checkpointer.latest_step() == report["step"]


def test_fit_many_strategies_agree():
    model, _, x, y = _mlp_problem(n=32)
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
