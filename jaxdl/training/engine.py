"""The compiled chunk of ``fit``: up to ``epochs_per_chunk`` epochs as one XLA program.

Per epoch, a shuffled permutation of the device-resident training set is cut into
minibatches and ``lax.scan`` runs every update step; the epoch ends with an evaluation
(under ``lax.cond`` on the epochs that evaluate) and the early-stopping update. The epochs
themselves run in a ``lax.while_loop`` whose trip count is an argument, so a chunk never
computes an epoch that is not due (1 epoch with ``epochs_per_chunk=10`` costs one epoch)
and every chunk, the last and shorter one included, reuses one compiled program.

Two variants of the same chunk exist. The fast one applies every step and only records
whether some step's loss was not finite; the guarded one applies a step only when its
loss is finite and records the first bad step. ``fit`` runs the fast one and, when a chunk
reports a non-finite loss, reruns that chunk from its input carry with the guarded one, so
the per-step select over the whole state is paid only on the failing chunk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from jaxdl.optim.hyperparams import get_hyperparams
from jaxdl.training.early_stopping import (
    EarlyStopping,
    EarlyStoppingState,
    early_stopping_init,
    early_stopping_update,
)
from jaxdl.training.sharding import constrain, default_rules, replicated, tree_shardings
from jaxdl.training.state import TrainState
from jaxdl.training.steps import StepFn, as_update_step
from jaxdl.typing import Array, Batch, EvalFn, Metrics, PyTree


class Carry(NamedTuple):
    """What a chunk carries: the train state and the early-stopping state (or ``None``)."""

    state: TrainState
    early_stopping: EarlyStoppingState | None


def tree_where(condition: Array, new: PyTree, old: PyTree) -> PyTree:
    return jax.tree.map(lambda a, b: jnp.where(condition, a, b), new, old)


def initial_carry(state: TrainState, early_stopping: EarlyStopping | None) -> Carry:
    """The carry before the first epoch: no early-stopping history yet."""
    es = None
    if early_stopping is not None:
        kept = {"params": state.params, "model_state": state.model_state}
        es = early_stopping_init(early_stopping, kept)
    return Carry(state, es)


def with_best(state: TrainState, es: EarlyStoppingState | None) -> TrainState:
    """``state`` with the early-stopping best parameters (once one was recorded)."""
    if es is None:
        return state
    kept = es.best_params
    improved_once = es.best_step >= 0
    params = tree_where(improved_once, kept["params"], state.params)
    model_state = tree_where(improved_once, kept["model_state"], state.model_state)
    return state.replace(params=params, model_state=model_state)


def _guard_values(metrics: Metrics) -> list[Array]:
    return [metrics["loss"]] if "loss" in metrics else list(metrics.values())


def _all_finite(values: list[Array]) -> Array:
    finite = jnp.ones((), jnp.bool_)
    for value in values:
        finite = finite & jnp.all(jnp.isfinite(value))
    return finite


def carry_shardings(carry: Carry, mesh: Any, rules: Any) -> Carry:
    """Where each leaf of the carry lives on ``mesh``: the state by ``rules`` (FSDP) or
    replicated (``None``, data parallel); the early-stopping copy of the best parameters
    like the parameters, its scalars replicated."""
    rules = default_rules(mesh, rules)
    state = tree_shardings(carry.state, mesh, rules)
    es = carry.early_stopping
    if es is not None:
        scalars = jax.tree.map(lambda _: replicated(mesh), es._replace(best_params=None))
        es = scalars._replace(best_params=tree_shardings(es.best_params, mesh, rules))
    return Carry(state, es)


def steps_per_epoch(num_examples: int, batch_size: int | None) -> int:
    """Optimizer steps in one epoch: 1 for full-batch GD, else ``N // batch_size``.

    The remainder of the shuffled order is left out of that epoch.

    Example:
        >>> steps_per_epoch(100, None), steps_per_epoch(100, 32), steps_per_epoch(100, 1)
        (1, 3, 100)
    """
    return 1 if batch_size is None else num_examples // batch_size


def build_chunk_fn(
    step_fn: StepFn,
    eval_fn: EvalFn | None,
    *,
    num_examples: int,
    batch_size: int | None,
    shuffle: bool,
    early_stopping: EarlyStopping | None,
    eval_every: int,
    epochs_per_chunk: int,
    guarded: bool,
    batch_sharding: Any = None,
    state_sharding: Any = None,
) -> Callable[..., tuple[Carry, dict[str, Array], dict[str, Array]]]:
    """The pure chunk ``(carry, num_epochs, data_key, step_key, train_data, val_data) ->
    (carry, logs, flags)``; jit or vmap it.

    ``logs`` holds ``[epochs_per_chunk]`` arrays (``ran`` says which epochs ran);
    ``flags`` holds ``nonfinite`` (some step's loss was not finite), ``bad_step`` (the
    first such step, else -1; the unguarded variant applied the updates after it),
    ``metric_nonfinite`` (the early-stopping metric was NaN/Inf on an evaluation) and
    ``stopped`` (early stopping).

    ``state_sharding``, a ``(mesh, rules)`` pair, pins the carry's shardings (FSDP or
    replicated) at the chunk's entry, after every step and every epoch and at its exit, so
    the partitioner cannot drift the state's layout inside the scan and a chunk's output
    has exactly the sharding of its input (the next chunk reuses the same program).
    """
    full_batch = batch_size is None
    per_epoch = steps_per_epoch(num_examples, batch_size)
    # One jitted step: its trace for the metric structure (eval_shape) is reused by the
    # loop body, so the user's step is traced once per compilation.
    jstep = jax.jit(step_fn)

    def index_batches(epoch: Array, data_key) -> Array:
        if full_batch:
            return jnp.zeros((1, 0), jnp.int32)
        if shuffle == "iid":  # each example drawn independently, uniformly, with replacement
            shape = (per_epoch, batch_size)
            return jax.random.randint(jax.random.fold_in(data_key, epoch), shape, 0, num_examples)
        order = jnp.arange(num_examples, dtype=jnp.int32)
        if shuffle:
            order = jax.random.permutation(jax.random.fold_in(data_key, epoch), order)
        return order[: per_epoch * batch_size].reshape(per_epoch, batch_size)

    def get_batch(train_data: Batch, indices: Array) -> Batch:
        if full_batch:
            batch = train_data
        else:
            batch = jax.tree.map(lambda a: a[indices], train_data)  # in bounds
        if batch_sharding is not None:  # data parallel: split the batch over devices
            batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
        return batch

    def pin(carry: Carry) -> Carry:
        if state_sharding is None:
            return carry
        return constrain(carry, carry_shardings(carry, *state_sharding))

    def pin_state(state: TrainState) -> TrainState:
        return pin(Carry(state, None)).state

    def one_step(state: TrainState, indices: Array, step_key, train_data):
        new_state, metrics = jstep(
            jax.random.fold_in(step_key, state.step), state, get_batch(train_data, indices)
        )
        new_state = pin_state(new_state.replace(step=state.step + 1))
        return new_state, metrics, _all_finite(_guard_values(metrics))

    def run_epoch(state, bad_step, epoch, data_key, step_key, train_data):
        batches = index_batches(epoch, data_key)
        if guarded:

            def step(inner, indices):
                state, bad_step = inner
                new_state, metrics, finite = one_step(state, indices, step_key, train_data)
                apply = finite & (bad_step < 0)
                bad_step = jnp.where(~finite & (bad_step < 0), state.step, bad_step)
                return (tree_where(apply, new_state, state), bad_step), (metrics, apply)

            (state, bad_step), (metrics, applied) = jax.lax.scan(step, (state, bad_step), batches)
            count = jnp.maximum(jnp.sum(applied), 1)

            def mean(values: Array) -> Array:
                values = values.astype(jnp.float32)
                return jnp.sum(jnp.where(applied, values, 0.0)) / count

            nonfinite = bad_step >= 0
        else:

            def step(state, indices):
                state, metrics, finite = one_step(state, indices, step_key, train_data)
                return state, (metrics, finite)

            first_step = state.step
            state, (metrics, finite) = jax.lax.scan(step, state, batches)

            def mean(values: Array) -> Array:
                return jnp.mean(values.astype(jnp.float32))

            nonfinite = ~jnp.all(finite)
            # the first failing step, from the per-step flags (no select over the state):
            # the later updates of this epoch were applied, so only a donated run, which
            # has no snapshot to replay, reports it from here
            first_bad = (first_step + jnp.argmin(finite)).astype(bad_step.dtype)
            bad_step = jnp.where(nonfinite & (bad_step < 0), first_bad, bad_step)
        train_logs = {f"train_{name}": mean(value) for name, value in metrics.items()}
        return state, bad_step, nonfinite, train_logs

    def run_chunk(carry: Carry, num_epochs: Array, data_key, step_key, train_data, val_data):
        state, es = pin(carry)
        sample_key = jax.random.fold_in(step_key, state.step)
        sample_batch = get_batch(train_data, jnp.zeros((batch_size or 0,), jnp.int32))
        metric_shapes = jax.eval_shape(jstep, sample_key, state, sample_batch)[1]
        names = [f"train_{name}" for name in metric_shapes]
        val_shapes = {}
        if eval_fn is not None:
            val_shapes = jax.eval_shape(eval_fn, state.params, state.model_state, val_data)
            names += [f"val_{name}" for name in val_shapes]
        hyper_names = [k for k, v in get_hyperparams(state.opt_state).items() if jnp.size(v) == 1]
        if early_stopping is not None and early_stopping.metric not in names:
            raise KeyError(
                f"early_stopping.metric {early_stopping.metric!r} is not logged; available: "
                f"{sorted(names)} (pass val_data to get val_* metrics)"
            )
        size = epochs_per_chunk
        logs = {name: jnp.zeros((size,), jnp.float32) for name in names + hyper_names}
        logs.update(
            step=jnp.zeros((size,), jnp.int32),
            ran=jnp.zeros((size,), jnp.bool_),
            evaluated=jnp.zeros((size,), jnp.bool_),
        )

        def evaluate(state: TrainState) -> dict[str, Array]:
            values = eval_fn(state.params, state.model_state, val_data)
            return {f"val_{k}": jnp.asarray(v, jnp.float32).reshape(()) for k, v in values.items()}

        def skip_evaluation(state: TrainState) -> dict[str, Array]:
            return {f"val_{k}": jnp.full((), jnp.nan, jnp.float32) for k in val_shapes}

        def keep_going(loop):
            i, state, es, bad_step, nonfinite, metric_nonfinite, logs = loop
            going = (i < num_epochs) & ~nonfinite & ~metric_nonfinite
            if es is not None:
                going = going & ~es.stopped
            return going

        def body(loop):
            i, state, es, bad_step, nonfinite, metric_nonfinite, logs = loop
            epoch = state.step // per_epoch
            state, bad_step, nonfinite, epoch_logs = run_epoch(
                state, bad_step, epoch, data_key, step_key, train_data
            )
            evaluated = ((epoch + 1) % eval_every == 0) & ~nonfinite
            if eval_fn is not None:
                epoch_logs.update(jax.lax.cond(evaluated, evaluate, skip_evaluation, state))
            if early_stopping is not None:
                kept = {"params": state.params, "model_state": state.model_state}
                value = epoch_logs[early_stopping.metric]
                updated, info = early_stopping_update(early_stopping, es, value, state.step, kept)
                es = tree_where(evaluated, updated, es)
                metric_nonfinite = evaluated & info.nonfinite
            hyper = get_hyperparams(state.opt_state)
            epoch_logs.update(
                {k: jnp.asarray(hyper[k], jnp.float32).reshape(()) for k in hyper_names}
            )
            epoch_logs.update(step=state.step, ran=jnp.ones((), jnp.bool_), evaluated=evaluated)
            logs = {name: logs[name].at[i].set(epoch_logs[name]) for name in logs}
            state, es = pin(Carry(state, es))
            return i + 1, state, es, bad_step, nonfinite, metric_nonfinite, logs

        false = jnp.zeros((), jnp.bool_)
        loop = (jnp.zeros((), jnp.int32), state, es, jnp.asarray(-1, jnp.int32), false, false, logs)
        _, state, es, bad_step, nonfinite, metric_nonfinite, logs = jax.lax.while_loop(
            keep_going, body, loop
        )
        flags = {
            "nonfinite": nonfinite,
            "bad_step": bad_step,
            "metric_nonfinite": metric_nonfinite,
            "stopped": es.stopped if es is not None else jnp.zeros((), jnp.bool_),
        }
        return pin(Carry(state, es)), logs, flags

    return run_chunk


@functools.lru_cache(maxsize=64)
def compiled_chunk_fn(
    objective: Any,
    eval_fn: EvalFn | None,
    num_examples: int,
    batch_size: int | None,
    shuffle: bool,
    early_stopping: EarlyStopping | None,
    eval_every: int,
    epochs_per_chunk: int,
    guarded: bool,
    batch_sharding: Any = None,
    state_sharding: Any = None,
    donate: bool = False,
):
    """The jitted chunk, cached so that every chunk of a run, and repeated ``fit`` calls
    with the same objective, sizes and settings, reuse one compiled program.

    By default the carry is not donated: the input carry of a chunk is the snapshot a
    failing chunk is rerun from (and, with speculation, the next chunk is queued on this
    chunk's output before its flags are read). Its peak is two copies of the carry per
    device; under FSDP each copy is ``1 / fsdp`` of the state. ``donate=True`` donates the
    carry (``donate_argnums=0``): one copy, updated in place, no snapshot.
    """
    run_chunk = build_chunk_fn(
        as_update_step(objective),
        eval_fn,
        num_examples=num_examples,
        batch_size=batch_size,
        shuffle=shuffle,
        early_stopping=early_stopping,
        eval_every=eval_every,
        epochs_per_chunk=epochs_per_chunk,
        guarded=guarded,
        batch_sharding=batch_sharding,
        state_sharding=state_sharding,
    )
    return jax.jit(run_chunk, donate_argnums=0 if donate else ())
