"""Early stopping as an on-device state machine: jit, vmap and the patience rule."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.training import (
    EarlyStopping,
    EarlyStoppingInfo,
    EarlyStoppingState,
    early_stopping_init,
    early_stopping_update,
)


def _run(config, values):
    params = {"w": jnp.zeros(())}
    state = early_stopping_init(config, params)

    def body(state, inputs):
        step, value = inputs
        state, _ = early_stopping_update(config, state, value, step, {"w": value})
        return state, state.stopped

    steps = jnp.arange(len(values), dtype=jnp.int32)
    return jax.lax.scan(body, state, (steps, jnp.asarray(values, jnp.float32)))


def test_stops_after_patience_and_keeps_best():
    config = EarlyStopping("val_loss", "min", patience=2)
    state, stopped = jax.jit(_run, static_argnums=0)(config, [3.0, 2.0, 2.5, 1.0, 1.5, 1.2, 0.1])
    # best 1.0 at step 3, then two evaluations without improvement -> stop at step 5
    assert np.asarray(stopped).tolist() == [False, False, False, False, False, True, True]
    assert float(state.best_value) == 1.0
    assert int(state.best_step) == 3
    assert float(state.best_params["w"]) == 1.0  # frozen: 0.1 after stopping is ignored


def test_max_mode_min_delta_and_nan():
    config = EarlyStopping("val_accuracy", "max", patience=3, min_delta=0.05)
    state, _ = _run(config, [0.5, 0.52, float("nan"), 0.6, 0.61])
    assert float(state.best_value) == pytest.approx(0.6)
    assert int(state.best_step) == 3
    assert int(state.num_bad) == 1


def test_vmap_over_independent_runs_equals_separate_runs():
    config = EarlyStopping(patience=1)
    values = jnp.array([[1.0, 0.5, 0.7, 0.2], [1.0, 2.0, 3.0, 0.1]])
    batched, _ = jax.vmap(lambda v: _run(config, v))(values)
    for i in range(2):
        single, _ = _run(config, values[i])
        assert float(batched.best_value[i]) == float(single.best_value)
        assert bool(batched.stopped[i]) == bool(single.stopped)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        (EarlyStopping(mode="lowest"), "mode must be 'min' or 'max'"),
        (EarlyStopping(patience=0), "patience must be > 0"),
        (EarlyStopping(min_delta=-1.0), "min_delta must be >= 0"),
    ],
)
def test_bad_configuration(config, match):
    with pytest.raises(ValueError, match=match):
        config.validate()


def test_update_returns_state_and_info_namedtuples():
    config = EarlyStopping("val_loss", patience=2)
    state = early_stopping_init(config, {"w": jnp.zeros(())})
    state, info = early_stopping_update(config, state, 1.0, 0, {"w": jnp.ones(())})
    assert isinstance(state, EarlyStoppingState) and isinstance(info, EarlyStoppingInfo)
    assert bool(info.improved) and not bool(info.nonfinite) and not bool(info.stopped)
    state, info = early_stopping_update(config, state, float("nan"), 1, {"w": jnp.ones(())})
    assert bool(info.nonfinite) and not bool(info.improved)


def test_target_stops_at_once_in_either_mode():
    state, stopped = _run(EarlyStopping(patience=10, target=0.5), [1.0, 0.8, 0.4, 0.3])
    assert np.asarray(stopped).tolist() == [False, False, True, True]
    assert int(state.best_step) == 2  # frozen after the stop
    _, stopped = _run(EarlyStopping(mode="max", patience=10, target=0.9), [0.5, 0.95, 0.97])
    assert np.asarray(stopped).tolist() == [False, True, True]
    with pytest.raises(ValueError, match="target must be finite"):
        EarlyStopping(target=float("nan")).validate()


@pytest.mark.standard_dtype_promotion
def test_continue_on_all_data_runs_until_val_loss_beats_the_stop_training_loss():
    """The third strategy (Goodfellow et al., 2016, algorithm 7.3): keep the parameters at
    the stop, then train on train + val until the val loss is below the training loss
    recorded at the stop."""
    import optax

    from jaxdl.nn import MLP
    from jaxdl.training import continue_on_all_data, create_train_state, make_supervised_loss

    data_key, init_key, fit_key = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(data_key, (40, 2))
    y = (x[:, 0] + 0.3 * x[:, 1] > 0).astype(jnp.int32)
    model = MLP(features=(8, 2), activation="tanh")
    loss_fn = make_supervised_loss(model)
    state = create_train_state(init_key, model, x[:1], optax.sgd(0.5))
    train, val = (x[:28], y[:28]), (x[28:], y[28:])
    result = continue_on_all_data(
        fit_key,
        state,
        loss_fn,
        train,
        val,
        num_epochs=30,
        max_extra_epochs=60,
        early_stopping=EarlyStopping(patience=3),
        progress=False,
    )
    stop = result.first_run.best_state
    np.testing.assert_allclose(
        result.target, loss_fn.evaluate(stop.params, stop.model_state, train)["loss"], rtol=1e-6
    )
    history = result.second_run.history
    assert result.reached and result.num_epochs == len(history) >= 1
    assert history[-1]["val_loss"] < result.target  # the stop rule held at the end ...
    assert all(r["val_loss"] >= result.target for r in history[:-1])  # ... and not before
    # The continuation started from the parameters at the stop (not from scratch): its
    # first-epoch training loss is far below the untrained network's.
    untrained = float(loss_fn.evaluate(state.params, state.model_state, train)["loss"])
    assert history[0]["train_loss"] < untrained - 0.1
