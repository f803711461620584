"""The chunked engine under fit: the non-finite guard inside a chunk, chunk lengths,
one compilation, resume history, and non-finite validation metrics."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest

from jaxdl.training import (
    EarlyStopping,
    NonFiniteLossError,
    NonFiniteMetricError,
    RunLogger,
    fit,
    make_supervised_loss,
    update_step,
)
from jaxdl.training.engine import steps_per_epoch, tree_where
from tests._fixtures import Interrupt, linear_problem, raw_state, stop_at_epoch

pytestmark = pytest.mark.standard_dtype_promotion


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
            raw_state(jnp.zeros(())),
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
        raw_state(jnp.zeros(())),
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
        raw_state(jnp.zeros(())),
        update_step(step),
        (x,),
        num_epochs=7,
        batch_size=2,
        epochs_per_chunk=3,
        progress=False,
        callback=lambda r: seen_after_first.append(len(traces)),
    )
    assert len(set(seen_after_first)) == 1 and len(traces) == 1


def test_resume_history_is_complete_and_metrics_jsonl_not_duplicated(tmp_path):
    model, state, x, y = linear_problem()
    logger = RunLogger(tmp_path / "run")
    kwargs = dict(
        num_epochs=6,
        batch_size=16,
        progress=False,
        logger=logger,
        checkpoint_dir=str(tmp_path / "ckpt"),
        checkpoint_every_steps=8,
    )

    with pytest.raises(Interrupt):
        fit(
            jax.random.key(2),
            state,
            make_supervised_loss(model),
            (x, y),
            callback=stop_at_epoch(5),
            **kwargs,
        )
    resumed = fit(jax.random.key(2), state, make_supervised_loss(model), (x, y), **kwargs)
    epochs = [r["epoch"] for r in logger.read_metrics()]
    assert epochs == [1, 2, 3, 4, 5, 6]
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4, 5, 6]


def test_nonfinite_validation_metric_under_early_stopping_is_an_error():
    model, state, x, y = linear_problem()

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


@pytest.mark.parametrize(("n", "batch_size", "steps"), [(10, None, 1), (10, 3, 3), (10, 10, 1)])
def test_steps_per_epoch_drops_the_last_partial_batch(n, batch_size, steps):
    assert steps_per_epoch(n, batch_size) == steps


def test_tree_where_selects_whole_trees():
    new = {"a": jnp.ones(2), "b": jnp.ones(())}
    old = {"a": jnp.zeros(2), "b": jnp.zeros(())}
    assert float(tree_where(jnp.asarray(True), new, old)["b"]) == 1.0
    assert tree_where(jnp.asarray(False), new, old)["a"].tolist() == [0.0, 0.0]
