"""``fit``: the one training engine, whole epochs as one XLA program.

The pieces, in the order a run meets them:

1. set-up and validation (:mod:`jaxdl.training.inputs`): key, data shapes, finite data,
   sizes and rates are checked before anything compiles;
2. the compiled chunk (:mod:`jaxdl.training.engine`): up to ``epochs_per_chunk`` epochs
   of ``lax.scan`` over minibatches, evaluation and early stopping, on device;
3. the host loop (:func:`_train_chunks`): one device-to-host transfer per chunk for the
   progress bar, the metrics log and the callback; a chunk with a non-finite loss is rerun
   with the per-step guard to name the exact step;
4. checkpoints (:class:`_Checkpoints`): restore on resume (state, early stopping and the
   history so far), save a few times per run, at the end and on SIGINT / SIGTERM.

Randomness: the caller's key is split once into a data key and a step key. Epoch ``e``
shuffles (or, with ``shuffle="iid"``, draws its examples with replacement) with
``fold_in(data_key, e)``; step ``s`` draws from ``fold_in(step_key, s)``.
Both depend only on the step count, so a resumed run replays exactly the same batches and
keys as an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from tqdm.auto import tqdm

from jaxdl._checks import check_positive, check_positive_int
from jaxdl.training.checkpoints import Checkpointer
from jaxdl.training.distributed import agree
from jaxdl.training.early_stopping import EarlyStopping, EarlyStoppingState
from jaxdl.training.engine import (
    Carry,
    carry_shardings,
    compiled_chunk_fn,
    initial_carry,
    steps_per_epoch,
    with_best,
)
from jaxdl.training.inputs import (
    check_finite_data,
    check_input_shape,
    check_key,
    check_learning_rate,
    check_shuffle,
    num_examples,
    validate_fit_args,
)
from jaxdl.training.interrupts import TrainingInterrupted, deferred_signals
from jaxdl.training.logging import RunLogger
from jaxdl.training.population import FitManyResult, fit_many  # noqa: F401  (re-exported)
from jaxdl.training.sharding import (
    ShardingRules,
    batch_sharding,
    check_batch_divisible,
    default_rules,
    replicate,
)
from jaxdl.training.state import TrainState
from jaxdl.training.steps import UpdateStep, default_eval_fn, make_train_step, update_step
from jaxdl.typing import Batch, EvalFn, Key, LossFn

__all__ = [
    "FitManyResult",
    "FitResult",
    "NonFiniteLossError",
    "NonFiniteMetricError",
    "TrainingInterrupted",
    "epochs_for_steps",
    "fit",
    "fit_many",
    "make_train_step",
    "update_step",
]


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss.

    Attributes:
        step: the global step (number of updates applied before it) whose loss was not
            finite; that update was not applied.
        state: the last good :class:`TrainState` (parameters before that step); ``None``
            when ``fit(donate=True)`` consumed it.
        checkpoint_step: the step of the newest checkpoint kept on disk, or ``None``.
    """

    def __init__(self, step: int, state: TrainState | None, checkpoint_step: int | None):
        self.step = step
        self.state = state
        self.checkpoint_step = checkpoint_step
        where = (
            f"; the last good checkpoint (step {checkpoint_step}) is kept"
            if checkpoint_step is not None
            else ""
        )
        kept = (
            f"training stopped with the parameters of step {step}"
            if state is not None
            else "the state was donated (fit(donate=True)), so only checkpoints keep good "
            "parameters"
        )
        super().__init__(
            f"non-finite loss at step {step}: {kept}{where}. Lower the learning rate, clip "
            "gradients or check the data."
        )


class NonFiniteMetricError(FloatingPointError):
    """The early-stopping metric was NaN or infinite on an evaluation.

    Early stopping cannot rank a NaN, so ``fit`` stops with this error instead of
    stopping silently. Attributes: ``metric``, ``epoch``, ``step``, ``state`` (the state
    after that epoch).
    """

    def __init__(self, metric: str, epoch: int, step: int, state: TrainState):
        self.metric, self.epoch, self.step, self.state = metric, epoch, step, state
        super().__init__(
            f"early_stopping.metric {metric!r} is not finite at epoch {epoch} (step {step}): "
            "early stopping cannot compare it; check val_data and the evaluation"
        )


class FitResult(NamedTuple):
    """What :func:`fit` returns.

    Attributes:
        state: the final train state.
        best_state: the state with the best early-stopping metric (the final state when
            no early stopping is configured).
        history: one dict per epoch of the WHOLE run (on resume: the restored epochs,
            then the new ones): ``epoch``, ``step``, ``train_<metric>``, ``val_<metric>``
            (on evaluation epochs), injected hyperparameters such as ``learning_rate``,
            ``steps_per_second``.
        stopped_early: whether early stopping ended the run.
    """

    state: TrainState
    best_state: TrainState
    history: list[dict[str, float]]
    stopped_early: bool


# --------------------------------------------------------------------------------------
# 4. Checkpoints
# --------------------------------------------------------------------------------------


def _carry_tree(carry: Carry) -> dict[str, Any]:
    state = carry.state
    tree = {
        "step": state.step,
        "params": state.params,
        "opt_state": state.opt_state,
        "model_state": state.model_state,
    }
    if carry.early_stopping is not None:
        tree["early_stopping"] = carry.early_stopping._asdict()
    return tree


_DEFAULT_MIN_SECONDS = 10.0  # no default-interval save sooner than this after the last


class _Checkpoints:
    """``fit``'s use of a :class:`Checkpointer`: when to save, what to keep, resume."""

    def __init__(
        self,
        directory: str | None,
        *,
        early_stopping: EarlyStopping | None,
        run_metadata: dict[str, Any] | None,
        every_steps: int,
        every_seconds: float | None,
        min_seconds: float = 0.0,
    ):
        self.metadata = run_metadata
        self.every_steps = every_steps
        self.every_seconds = every_seconds
        self.min_seconds = min_seconds
        self.last_step: int | None = None  # the step of the newest checkpoint on disk
        self.last_time = time.monotonic()
        self.checkpointer = None
        if directory is not None:
            self.checkpointer = Checkpointer(
                directory,
                best_metric=early_stopping.metric if early_stopping is not None else None,
                best_mode=early_stopping.mode if early_stopping is not None else "min",
                metadata=run_metadata,
            )

    def restore(self, carry: Carry) -> tuple[Carry, list[dict[str, float]]] | None:
        """The latest checkpoint's carry and history, or ``None`` when there is none."""
        if self.checkpointer is None:
            return None
        step = self.checkpointer.latest_step()
        if step is None:
            return None
        self.checkpointer.check_metadata(self.metadata)
        # No step: the checkpointer falls back to the previous good one when the latest
        # fails verification; the restored tree says which step it is.
        restored = self.checkpointer.restore(_carry_tree(carry))
        state = carry.state.replace(
            step=restored["step"],
            params=restored["params"],
            opt_state=restored["opt_state"],
            model_state=restored["model_state"],
        )
        es = carry.early_stopping
        if es is not None and "early_stopping" in restored:
            es = EarlyStoppingState(**restored["early_stopping"])
        self.last_step = int(restored["step"])
        history = self.checkpointer.restore_extra(self.last_step).get("history", [])
        return Carry(state, es), [r for r in history if r["step"] <= self.last_step]

    def save(self, step: int, carry: Carry, history: list[dict], *, force: bool) -> None:
        """Save when ``every_steps`` steps or ``every_seconds`` passed, or ``force``."""
        if self.checkpointer is None or step == self.last_step:
            return
        due = step - (self.last_step or 0) >= self.every_steps
        due = due and time.monotonic() - self.last_time >= self.min_seconds
        if self.every_seconds is not None:
            due = due or time.monotonic() - self.last_time >= self.every_seconds
        due = agree(due)  # multi-host (scale-ckpt): the clock may differ; process 0 decides
        if not (due or force):
            return
        metrics = history[-1] if history else None
        extra = {"history": history}
        self.checkpointer.save(step, _carry_tree(carry), metrics, extra=extra, force=True)
        self.last_step, self.last_time = step, time.monotonic()

    def latest_good_step(self) -> int | None:
        if self.checkpointer is None:
            return None
        self.checkpointer.wait()
        return self.checkpointer.latest_step()

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()


# --------------------------------------------------------------------------------------
# 3. The host loop
# --------------------------------------------------------------------------------------


def _records(
    logs: dict[str, np.ndarray], first_epoch: int, steps_per_second: float
) -> list[dict[str, float]]:
    """One history record per epoch that ran in a chunk."""
    records = []
    for i in range(int(np.sum(logs["ran"]))):
        record: dict[str, float] = {"epoch": first_epoch + i + 1, "step": int(logs["step"][i])}
        for name, values in logs.items():
            if name in ("ran", "evaluated", "step"):
                continue
            if name.startswith("val_") and not logs["evaluated"][i]:
                continue
            record[name] = float(values[i])
        record["steps_per_second"] = steps_per_second
        records.append(record)
    return records


def _postfix(record: dict[str, float]) -> dict[str, str]:
    shown = {}
    for name, value in record.items():
        if not isinstance(value, float) or name in ("epoch", "step"):
            continue
        if name == "steps_per_second":
            shown["steps/s"] = f"{value:.0f}"
        else:
            shown[name.replace("train_", "")] = f"{value:.4g}"
    return shown


class _Run(NamedTuple):
    """Everything the host loop needs, fixed before the first chunk."""

    fast: Callable
    guarded: Callable
    args: tuple  # (data_key, step_key, train_data, val_data)
    steps_per_epoch: int
    num_epochs: int
    epochs_per_chunk: int
    early_stopping: EarlyStopping | None
    donate: bool = False  # fast chunks consume their input carry: no snapshot to replay


def _train_chunks(
    run: _Run,
    carry: Carry,
    history: list[dict[str, float]],
    checkpoints: _Checkpoints,
    *,
    progress: bool,
    logger: RunLogger | None,
    callback: Callable[[dict[str, float]], None] | None,
) -> tuple[Carry, bool]:
    """Run chunks until ``num_epochs``, early stopping, a failure or a signal."""
    epoch = int(carry.state.step) // run.steps_per_epoch
    stopped = bool(carry.early_stopping.stopped) if carry.early_stopping is not None else False
    bar = tqdm(
        total=run.num_epochs,
        initial=min(epoch, run.num_epochs),
        unit="epoch",
        disable=not progress,
        dynamic_ncols=True,
        leave=False,
    )

    def publish(records: list[dict[str, float]]) -> None:
        for record in records:
            history.append(record)
            if logger is not None:
                logger.log(record["step"], **record)
            if callback is not None:
                callback(record)
        if records:
            bar.update(len(records))
            bar.set_postfix(_postfix(records[-1]), refresh=False)

    def dispatch(carry: Carry, start: int):
        count = min(run.epochs_per_chunk, run.num_epochs - start)
        return count, run.fast(carry, jnp.int32(count), *run.args)

    try:
        with deferred_signals() as signals:
            pending = dispatch(carry, epoch) if epoch < run.num_epochs and not stopped else None
            last_sync = time.perf_counter()
            while pending is not None:
                count, (new_carry, logs, flags) = pending
                # Speculate that the chunk runs all its epochs: queue the next chunk before
                # waiting for this one, so the device never waits for the host.
                following = None
                if epoch + count < run.num_epochs and not run.donate:
                    following = dispatch(new_carry, epoch + count)
                logs, flags = jax.device_get((logs, flags))  # the chunk's one host sync
                if flags["nonfinite"] and not run.donate:  # rerun from the snapshot, guarded
                    following = None
                    new_carry, logs, flags = run.guarded(carry, jnp.int32(count), *run.args)
                    logs, flags = jax.device_get((logs, flags))
                now = time.perf_counter()
                elapsed, last_sync = now - last_sync, now
                carry = new_carry
                ran = int(np.sum(logs["ran"]))
                records = _records(logs, epoch, ran * run.steps_per_epoch / max(elapsed, 1e-9))
                bad_step = int(flags["bad_step"])
                if bad_step >= 0:
                    publish(records[:-1])  # the last epoch stopped before bad_step
                    kept = None if run.donate else carry.state  # donated: no good state left
                    raise NonFiniteLossError(bad_step, kept, checkpoints.latest_good_step())
                publish(records)
                epoch += ran
                step = int(logs["step"][ran - 1]) if ran else int(carry.state.step)
                if flags["metric_nonfinite"]:
                    raise NonFiniteMetricError(run.early_stopping.metric, epoch, step, carry.state)
                stopped = bool(flags["stopped"])
                finished = epoch >= run.num_epochs or stopped or ran == 0
                if signals.signum is not None:
                    checkpoints.save(step, carry, history, force=True)
                    raise TrainingInterrupted(step, checkpoints.latest_good_step(), signals.signum)
                checkpoints.save(step, carry, history, force=finished)
                if finished:
                    break
                if following is None or ran < count:  # the speculation did not hold
                    following = dispatch(carry, epoch)
                pending = following
    finally:
        bar.close()
    return carry, stopped


# --------------------------------------------------------------------------------------
# 1. Set-up and validation
# --------------------------------------------------------------------------------------


def _check_data(
    state: TrainState,
    objective: LossFn | UpdateStep,
    data: Batch,
    name: str,
    check_finite: bool,
) -> int:
    size = num_examples(data, name)
    check_input_shape(state, data, name)
    if check_finite:
        check_finite_data(data, name)
    if hasattr(objective, "validate"):
        objective.validate(state.params, state.model_state, data, name)
    return size


def fit(
    key: Key,
    state: TrainState,
    objective: LossFn | UpdateStep,
    train_data: Batch,
    *,
    num_epochs: int,
    batch_size: int | None = None,
    shuffle: bool | str = True,
    val_data: Batch | None = None,
    eval_fn: EvalFn | None = None,
    eval_every: int = 1,
    early_stopping: EarlyStopping | None = None,
    epochs_per_chunk: int = 1,
    checkpoint_dir: str | None = None,
    checkpoint_every_steps: int | None = None,
    checkpoint_every_seconds: float | None = None,
    run_metadata: dict[str, Any] | None = None,
    resume: bool = True,
    progress: bool = True,
    logger: RunLogger | None = None,
    callback: Callable[[dict[str, float]], None] | None = None,
    mesh: Mesh | None = None,
    check_finite_data: bool = True,
    param_sharding: ShardingRules | None = None,
    donate: bool = False,
) -> FitResult:
    """Train ``state`` on ``train_data`` with a loss or a custom update step.

    Full-batch GD, online SGD, minibatch SGD, or any step ``(key, state, batch) ->
    (state, metrics)`` (GAN, CD-k): every chunk of ``epochs_per_chunk`` epochs is one
    compiled XLA program (a ``lax.scan`` over minibatches of the device-resident data,
    then evaluation and the early-stopping update on device) with one host transfer per
    chunk. A non-finite loss stops training before that update is applied and raises
    :class:`NonFiniteLossError` with the exact step; SIGINT / SIGTERM finish the chunk,
    save a checkpoint and raise :class:`TrainingInterrupted`.

    Args:
        key: a typed PRNG key (``jax.random.key(seed)``) for shuffling and per-step
            randomness. Legacy ``uint32[2]`` keys are refused (wrap them with
            ``jax.random.wrap_key_data``).
        state: a :class:`TrainState` (e.g. from :func:`create_train_state`).
        objective: a loss ``loss_fn(params, model_state, batch, key) -> (loss,
            (model_state, metrics))`` (:func:`make_supervised_loss` builds one), or a custom
            step from :func:`update_step`.
        train_data: a tuple of arrays with a shared leading axis ``N``, e.g. ``(x, y)``.
        num_epochs: epochs to train for (counting epochs already done when resuming).
        batch_size: minibatch size; ``None`` for full-batch gradient descent and ``1`` for
            online SGD. Each epoch runs ``N // batch_size`` steps (the remainder of the
            shuffled order is left out that epoch).
        shuffle: ``True`` reshuffles the examples every epoch (each seen once per epoch);
            ``False`` keeps their order; ``"iid"`` is the lecture's SGD, where every
            example of every step is drawn independently and uniformly at random with
            replacement (an epoch is then ``N // batch_size`` such steps). With
            ``batch_size=1``, zero initial parameters and ``hyperbolic_decay(C, 1)``
            (``alpha_k = C / k``) it is exactly the lecture's algorithm.
        val_data: validation set, passed whole to ``eval_fn``; logged as ``val_*``.
        eval_fn: ``eval_fn(params, model_state, batch) -> metrics``; defaults to the
            objective's ``evaluate`` when it has one.
        eval_every: evaluate (and update early stopping) every this many epochs.
        early_stopping: an :class:`EarlyStopping` configuration; ``best_state`` then holds
            the parameters with the best metric. A NaN/Inf metric raises
            :class:`NonFiniteMetricError`.
        epochs_per_chunk: epochs compiled into one call (fewer host round trips); a
            shorter last chunk reuses the same program and computes only its epochs.
        checkpoint_dir: when given, orbax checkpoints are written there (the latest two
            and the best) and ``resume`` continues from the latest one.
        checkpoint_every_steps: steps between checkpoints; default a few per run
            (``max(1, total_steps // 4)``), but with neither interval given, none sooner
            than ``_DEFAULT_MIN_SECONDS`` (10 s) after the previous one or the start: a
            short run, cheaper to redo than to save, writes only its last checkpoint
            (``benchmarks/checkpoint_overhead.py``). A checkpoint is always written at
            the end and on SIGINT / SIGTERM.
        checkpoint_every_seconds: also save when this much time passed since the last.
        run_metadata: JSON-able run description (config hash, versions) stored with the
            checkpoints; resuming with different metadata raises
            :class:`CheckpointMismatchError` before anything is written.
        resume: restore the latest checkpoint in ``checkpoint_dir`` before training.
            ``logger``'s ``metrics.jsonl`` is cut back to the restored step and the
            history holds the whole run.
        progress: show a progress bar with the latest epoch's metrics and steps/s.
        logger: a :class:`RunLogger`; each epoch's record is appended to its
            ``metrics.jsonl``.
        callback: called on the host with each epoch's record.
        mesh: a ``jax.sharding.Mesh`` (:func:`jaxdl.training.make_mesh`) with a ``"data"``
            and/or an ``"fsdp"`` axis. Every minibatch is split over both (their product
            must divide the batch size). With only ``"data"`` the state is replicated and
            XLA all-reduces the gradients (data parallel); with ``"fsdp"`` (or
            ``param_sharding``) parameters, optimizer state and the early-stopping copy are
            split by the rules (FSDP). The state's shardings are pinned through the
            compiled chunk, so every chunk reuses one program; on resume the checkpoint is
            restored, then placed on the mesh. Results equal single-device training up to
            the order of floating-point sums (the all-reduce / reduce-scatter adds the
            per-device partial gradients in another order): the same run twice is bitwise
            identical, 1 vs 8 devices agree to float32 round-off.
        check_finite_data: check ``train_data`` and ``val_data`` for NaN/Inf before
            training (one device reduction per array); ``False`` skips it.
        param_sharding: :class:`jaxdl.training.ShardingRules` placing the state's leaves by
            their paths (default with ``mesh``: :func:`jaxdl.training.fsdp_rules` when the
            mesh has an ``"fsdp"`` axis, else replicated). Needs ``mesh``.
        donate: donate the state to each compiled chunk (``donate_argnums``), so the
            device holds one copy of it, updated in place, instead of two; for models
            whose state fills the accelerator. The ``state`` passed in is consumed (use
            ``result.state``). There is then no snapshot to replay: the next chunk is
            not queued ahead, and a NaN loss still raises :class:`NonFiniteLossError`
            with the exact step, but with ``state=None`` (the later updates of that
            epoch were applied); the last good checkpoint is kept on disk.

    Returns:
        A :class:`FitResult` with the final state, the best state and the history.

    Raises:
        NonFiniteLossError: when a loss is NaN or infinite.
        NonFiniteMetricError: when the early-stopping metric is NaN or infinite.
        TrainingInterrupted: on SIGINT / SIGTERM (after saving a checkpoint).
        TypeError: when ``key`` is not a typed PRNG key.
        ValueError: for empty or non-finite data, mismatched shapes, non-positive sizes.

    Example:
        >>> import jax, optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.training import create_train_state, make_supervised_loss, fit
        >>> x = jax.random.normal(jax.random.key(1), (64, 2)); y = (x[:, 0] > 0).astype(int)
        >>> model = MLP(features=(8, 2))
        >>> state = create_train_state(jax.random.key(2), model, x, optax.sgd(0.5))
        >>> result = fit(jax.random.key(3), state, make_supervised_loss(model), (x, y),
        ...              num_epochs=5, batch_size=16, progress=False)
        >>> len(result.history), int(result.state.step)  # 5 epochs of 64 / 16 steps
        (5, 20)
    """
    # 1. set-up and validation, before anything compiles
    check_key(key)
    train_data = tuple(train_data) if isinstance(train_data, list) else train_data
    size = _check_data(state, objective, train_data, "train_data", check_finite_data)
    validate_fit_args(num_epochs, batch_size, size, eval_every, epochs_per_chunk)
    check_shuffle(shuffle, batch_size)
    check_learning_rate(state.opt_state)
    eval_fn = default_eval_fn(objective, eval_fn)
    if val_data is not None:
        val_data = tuple(val_data) if isinstance(val_data, list) else val_data
        _check_data(state, objective, val_data, "val_data", check_finite_data)
    else:
        eval_fn = None
    if early_stopping is not None:
        early_stopping.validate()
    per_epoch = steps_per_epoch(size, batch_size)
    default_interval = checkpoint_every_steps is None and checkpoint_every_seconds is None
    if checkpoint_every_steps is None:
        checkpoint_every_steps = max(1, num_epochs * per_epoch // 4)
    check_positive_int("checkpoint_every_steps", checkpoint_every_steps)
    if checkpoint_every_seconds is not None:
        check_positive("checkpoint_every_seconds", checkpoint_every_seconds)
    # --- mesh: data parallel / FSDP (jaxdl.training.sharding) ---
    sharding = state_sharding = None
    if mesh is not None:
        check_batch_divisible(batch_size, size, mesh)
        sharding = batch_sharding(mesh)
        state_sharding = (mesh, default_rules(mesh, param_sharding))
    elif param_sharding is not None:
        raise ValueError("param_sharding needs a mesh (mesh=make_mesh(fsdp=-1)), got mesh=None")
    # --- end mesh ---

    # 2. the compiled chunk (cached: one program for every chunk of the run)
    settings = (objective, eval_fn, size, batch_size, shuffle, early_stopping, eval_every)
    fast = compiled_chunk_fn(
        *settings, epochs_per_chunk, False, sharding, state_sharding, bool(donate)
    )
    guarded = compiled_chunk_fn(*settings, epochs_per_chunk, True, sharding, state_sharding)
    place = jax.device_put if mesh is None else (lambda tree: replicate(tree, mesh))
    data_key, step_key = jax.random.split(key)
    run = _Run(
        fast,
        guarded,
        (data_key, step_key, place(train_data), None if val_data is None else place(val_data)),
        per_epoch,
        num_epochs,
        epochs_per_chunk,
        early_stopping,
        bool(donate),
    )

    # 4. checkpoints: resume the state and the history so far
    checkpoints = _Checkpoints(
        checkpoint_dir,
        early_stopping=early_stopping,
        run_metadata=run_metadata,
        every_steps=checkpoint_every_steps,
        every_seconds=checkpoint_every_seconds,
        min_seconds=_DEFAULT_MIN_SECONDS if default_interval else 0.0,
    )
    try:
        carry = initial_carry(state, early_stopping)
        history: list[dict[str, float]] = []
        restored = checkpoints.restore(carry) if resume else None
        if restored is not None:
            carry, history = restored
            if logger is not None:
                logger.truncate(int(carry.state.step))
        elif checkpoints.checkpointer is not None:
            checkpoints.checkpointer.check_metadata(run_metadata)
        if mesh is not None:  # restored (or fresh), then placed on the mesh
            carry = jax.device_put(carry, carry_shardings(carry, *state_sharding))

        # 3. the host loop
        carry, stopped = _train_chunks(
            run,
            carry,
            history,
            checkpoints,
            progress=progress,
            logger=logger,
            callback=callback,
        )
    finally:
        checkpoints.close()
    return FitResult(carry.state, with_best(carry.state, carry.early_stopping), history, stopped)


def epochs_for_steps(num_steps: int, num_examples: int, batch_size: int | None) -> int:
    """The number of epochs that covers at least ``num_steps`` optimizer steps."""
    per_epoch = 1 if batch_size is None else num_examples // batch_size
    return max(1, math.ceil(num_steps / per_epoch))
