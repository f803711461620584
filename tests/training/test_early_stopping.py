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
