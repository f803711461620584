"""The compiled training loop: whole epochs as one XLA program.

Each call of the compiled chunk runs ``epochs_per_chunk`` epochs: per epoch, a shuffled
permutation of the (device-resident) training set is cut into minibatches and
``lax.scan`` runs every optimizer step; the epoch ends with an evaluation and an
early-stopping update, all on device. The host only sees one small dictionary of
epoch metrics per chunk, for the progress bar, the metrics log and checkpoints.

Randomness: the caller's key is split once into a data key and a step key. Epoch ``e``
shuffles with ``fold_in(data_key, e)``; step ``s`` draws dropout/noise from
``fold_in(step_key, s)``. Both depend only on the step count, so a run resumed from a
checkpoint replays exactly the same batches and keys as an uninterrupted one.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh
from tqdm.auto import tqdm

from jaxdl._checks import check_positive_int
from jaxdl.optim.hyperparams import get_hyperparams
from jaxdl.training.checkpoints import Checkpointer
from jaxdl.training.early_stopping import (
    EarlyStopping,
    EarlyStoppingState,
    early_stopping_init,
    early_stopping_update,
)
from jaxdl.training.logging import RunLogger
from jaxdl.training.sharding import batch_sharding, check_batch_divisible, replicate
from jaxdl.training.state import TrainState
from jaxdl.typing import Array, Batch, EvalFn, Key, LossFn, Metrics, PyTree


class NonFiniteLossError(FloatingPointError):
    """Training produced a NaN or infinite loss.

    Attributes:
        step: the global step (number of updates applied before it) whose loss was not
            finite; that update was not applied.
        state: the last good :class:`TrainState` (parameters before that step).
        checkpoint_step: the step of the newest checkpoint kept on disk, or ``None``.
    """

    def __init__(self, step: int, state: TrainState, checkpoint_step: int | None):
        self.step = step
        self.state = state
        self.checkpoint_step = checkpoint_step
        where = (
            f"; the last good checkpoint (step {checkpoint_step}) is kept"
            if checkpoint_step is not None
            else ""
        )
        super().__init__(
            f"non-finite loss at step {step}: training stopped with the parameters of step "
            f"{step}{where}. Lower the learning rate, clip gradients or check the data."
        )


class FitResult(NamedTuple):
    """What :func:`fit` returns.

    Attributes:
        state: the final train state.
        best_state: the state with the best early-stopping metric (the final state when
            no early stopping is configured).
        history: one dict per epoch: ``epoch``, ``step``, ``train_loss``,
            ``train_<metric>``, ``eval_<metric>`` (on evaluation epochs),
            ``learning_rate`` (when the optimizer injects it), ``steps_per_second``.
        stopped_early: whether early stopping ended the run.
    """

    state: TrainState
    best_state: TrainState
    history: list[dict[str, float]]
    stopped_early: bool


class FitManyResult(NamedTuple):
    """What :func:`fit_many` returns; every leaf has a leading member axis ``M``.

    Attributes:
        state: final states ``[M, ...]``.
        best_state: best states by the early-stopping metric (final ones without it).
        history: dict of arrays ``[M, num_epochs]`` (NaN on epochs a member did not run).
        nonfinite_step: ``[M]`` step of the first non-finite loss, -1 when none.
        stopped_early: ``[M]`` booleans.
    """

    state: TrainState
    best_state: TrainState
    history: dict[str, Array]
    nonfinite_step: Array
    stopped_early: Array


def make_train_step(loss_fn: LossFn) -> Callable[..., tuple[TrainState, tuple[Array, Metrics]]]:
    """A pure train step ``(state, batch, key) -> (state, (loss, metrics))``.

    Args:
        loss_fn: ``loss_fn(params, model_state, batch, key) -> (loss, (model_state,
            metrics))``.

    Returns:
        The step function; jit it (with ``donate_argnums=0``) or scan it.
    """

    def train_step(state: TrainState, batch: Batch, key: Key):
        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        (loss, (model_state, metrics)), grads = grad_fn(state.params, state.model_state, batch, key)
        return state.apply_gradients(grads, model_state=model_state), (loss, metrics)

    return train_step


def _tree_where(condition: Array, new: PyTree, old: PyTree) -> PyTree:
    return jax.tree.map(lambda a, b: jnp.where(condition, a, b), new, old)


def _num_examples(data: Batch, name: str) -> int:
    leaves = jax.tree.leaves(data)
    if not leaves:
        raise ValueError(f"{name} must be a pytree of arrays such as (x, y), got {data!r}")
    sizes = {int(np.shape(leaf)[0]) if np.ndim(leaf) else -1 for leaf in leaves}
    if len(sizes) != 1 or -1 in sizes:
        shapes = [np.shape(leaf) for leaf in leaves]
        raise ValueError(f"{name} arrays must share a leading example axis, got shapes {shapes}")
    (size,) = sizes
    if size == 0:
        raise ValueError(f"{name} is empty: it must hold at least one example")
    return size


def _check_inputs(state: TrainState, data: Batch, name: str) -> None:
    if state.input_spec is None or not isinstance(data, tuple | list) or not data:
        return
    expected, _ = state.input_spec
    got = tuple(np.shape(data[0])[1:])
    if got != tuple(expected):
        raise ValueError(
            f"{name}[0] must have shape (N, {', '.join(map(str, expected))}) like the model's "
            f"example input, got {tuple(np.shape(data[0]))}"
        )


def _default_eval_fn(loss_fn: LossFn, eval_fn: EvalFn | None) -> EvalFn | None:
    if eval_fn is not None:
        return eval_fn
    return getattr(loss_fn, "evaluate", None)


class _Carry(NamedTuple):
    state: TrainState
    early_stopping: EarlyStoppingState
    nonfinite_step: Array


def _initial_carry(state: TrainState, early_stopping: EarlyStopping | None) -> _Carry:
    """The loop's carry before the first epoch: no early-stopping history, no NaN seen."""
    es = None
    if early_stopping is not None:
        kept = {"params": state.params, "model_state": state.model_state}
        es = early_stopping_init(early_stopping, kept)
    return _Carry(state, es, jnp.asarray(-1, jnp.int32))


def _build_chunk_fn(
    loss_fn: LossFn,
    eval_fn: EvalFn | None,
    *,
    num_examples: int,
    batch_size: int | None,
    shuffle: bool,
    early_stopping: EarlyStopping | None,
    eval_every: int,
    epochs_per_chunk: int,
    batch_sharding: Any = None,
):
    """The pure function that runs ``epochs_per_chunk`` epochs; jit/vmap it."""
    full_batch = batch_size is None
    steps_per_epoch = 1 if full_batch else num_examples // batch_size
    train_step = make_train_step(loss_fn)

    def run_epoch(carry: _Carry, epoch_active: Array, data_key, step_key, train_data, eval_data):
        state, es, nonfinite_step = carry
        epoch = state.step // steps_per_epoch
        if full_batch:
            index_batches = jnp.zeros((1, 0), jnp.int32)
        else:
            order = jnp.arange(num_examples, dtype=jnp.int32)
            if shuffle:
                order = jax.random.permutation(jax.random.fold_in(data_key, epoch), order)
            index_batches = order[: steps_per_epoch * batch_size].reshape(
                steps_per_epoch, batch_size
            )
        stopped = es.stopped if es is not None else jnp.zeros((), jnp.bool_)
        running = epoch_active & ~stopped & (nonfinite_step < 0)

        def step(inner, indices):
            state, nonfinite_step = inner
            if full_batch:
                batch = train_data
            else:
                batch = jax.tree.map(lambda a: jnp.take(a, indices, axis=0), train_data)
            if batch_sharding is not None:  # data parallel: split the batch over devices
                batch = jax.lax.with_sharding_constraint(batch, batch_sharding)
            new_state, (loss, metrics) = train_step(
                state, batch, jax.random.fold_in(step_key, state.step)
            )
            finite = jnp.isfinite(loss)
            apply = running & finite & (nonfinite_step < 0)
            nonfinite_step = jnp.where(
                running & ~finite & (nonfinite_step < 0), state.step, nonfinite_step
            )
            state = _tree_where(apply, new_state, state)
            return (state, nonfinite_step), (loss, metrics, apply)

        (state, nonfinite_step), (losses, metrics, applied) = jax.lax.scan(
            step, (state, nonfinite_step), index_batches
        )
        count = jnp.maximum(jnp.sum(applied), 1)

        def epoch_mean(values: Array) -> Array:
            values = values.astype(jnp.float32)
            return jnp.sum(jnp.where(applied, values, 0.0)) / count

        logs = {"train_loss": epoch_mean(losses)}
        logs.update({f"train_{k}": epoch_mean(v) for k, v in metrics.items()})
        if eval_fn is not None:
            evaluation = eval_fn(state.params, state.model_state, eval_data)
            logs.update({f"eval_{k}": jnp.asarray(v, jnp.float32) for k, v in evaluation.items()})
        evaluated = running & ((epoch + 1) % eval_every == 0)
        if early_stopping is not None:
            if early_stopping.metric not in logs:
                raise KeyError(
                    f"early_stopping.metric {early_stopping.metric!r} is not logged; available: "
                    f"{sorted(logs)} (pass eval_data to get eval_* metrics)"
                )
            updated = early_stopping_update(
                early_stopping,
                es,
                logs[early_stopping.metric],
                state.step,
                {"params": state.params, "model_state": state.model_state},
            )
            es = _tree_where(evaluated, updated, es)
        logs["epoch_ran"] = running
        logs["evaluated"] = evaluated
        logs["step"] = state.step
        return _Carry(state, es, nonfinite_step), logs

    def run_chunk(carry: _Carry, num_active: Array, data_key, step_key, train_data, eval_data):
        def body(carry, epoch_in_chunk):
            return run_epoch(
                carry, epoch_in_chunk < num_active, data_key, step_key, train_data, eval_data
            )

        return jax.lax.scan(body, carry, jnp.arange(epochs_per_chunk))

    return run_chunk, steps_per_epoch


@functools.lru_cache(maxsize=64)
def _compiled_chunk_fn(
    loss_fn,
    eval_fn,
    num_examples,
    batch_size,
    shuffle,
    early_stopping,
    eval_every,
    epochs_per_chunk,
    batch_sharding=None,
):
    """The jitted chunk, cached so that repeated ``fit`` calls with the same loss, data
    size and settings reuse one compiled program instead of compiling again."""
    run_chunk, steps_per_epoch = _build_chunk_fn(
        loss_fn,
        eval_fn,
        num_examples=num_examples,
        batch_size=batch_size,
        shuffle=shuffle,
        early_stopping=early_stopping,
        eval_every=eval_every,
        epochs_per_chunk=epochs_per_chunk,
        batch_sharding=batch_sharding,
    )
    return jax.jit(run_chunk, donate_argnums=0), steps_per_epoch


def _validate_fit_args(
    num_epochs: int, batch_size: int | None, num_examples: int, eval_every: int, epochs_per_chunk
) -> None:
    check_positive_int("num_epochs", num_epochs)
    check_positive_int("eval_every", eval_every)
    check_positive_int("epochs_per_chunk", epochs_per_chunk)
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
        if batch_size > num_examples:
            raise ValueError(
                f"batch_size must be <= the number of training examples ({num_examples}), "
                f"got {batch_size}"
            )


def _check_learning_rate(opt_state: PyTree) -> None:
    rate = get_hyperparams(opt_state).get("learning_rate")
    if rate is not None and np.all(np.isfinite(np.asarray(rate))) and np.any(np.asarray(rate) <= 0):
        raise ValueError(f"learning_rate must be > 0, got {np.asarray(rate)}")


def _with_best(state: TrainState, es: EarlyStoppingState | None) -> TrainState:
    if es is None:
        return state
    kept = es.best_params
    improved_once = es.best_step >= 0
    params = _tree_where(improved_once, kept["params"], state.params)
    model_state = _tree_where(improved_once, kept["model_state"], state.model_state)
    return state.replace(params=params, model_state=model_state)


def fit(
    key: Key,
    state: TrainState,
    loss_fn: LossFn,
    train_data: Batch,
    *,
    num_epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    eval_data: Batch | None = None,
    eval_fn: EvalFn | None = None,
    eval_every: int = 1,
    early_stopping: EarlyStopping | None = None,
    epochs_per_chunk: int = 1,
    checkpoint_dir: str | None = None,
    checkpoint_every: int = 1,
    resume: bool = True,
    progress: bool = True,
    logger: RunLogger | None = None,
    callback: Callable[[dict[str, float]], None] | None = None,
    mesh: Mesh | None = None,
) -> FitResult:
    """Train ``state`` on ``train_data``: full-batch GD, online SGD or minibatch SGD.

    Every epoch (or ``epochs_per_chunk`` epochs) is one compiled XLA program: a
    ``lax.scan`` over minibatches of the device-resident data, then evaluation and the
    early-stopping update on device. The state buffers are donated between chunks. A
    non-finite loss stops training before that update is applied and raises
    :class:`NonFiniteLossError` with the step, keeping the last good checkpoint.

    Args:
        key: PRNG key for shuffling and per-step randomness (dropout, noise).
        state: a :class:`TrainState` (e.g. from :func:`create_train_state`).
        loss_fn: ``loss_fn(params, model_state, batch, key) -> (loss, (model_state,
            metrics))``; :func:`supervised_loss` builds one.
        train_data: a tuple of arrays with a shared leading axis ``N``, e.g. ``(x, y)``.
        num_epochs: epochs to train for (counting epochs already done when resuming).
        batch_size: minibatch size; ``None`` for full-batch gradient descent and ``1`` for
            online SGD. Each epoch runs ``N // batch_size`` steps (the remainder of the
            shuffled order is left out that epoch).
        shuffle: reshuffle the examples every epoch.
        eval_data: evaluation set, passed whole to ``eval_fn``.
        eval_fn: ``eval_fn(params, model_state, batch) -> metrics``; defaults to
            ``loss_fn.evaluate`` when the loss has one.
        eval_every: evaluate (and update early stopping) every this many epochs.
        early_stopping: an :class:`EarlyStopping` configuration; ``best_state`` then holds
            the parameters with the best metric.
        epochs_per_chunk: epochs compiled into one call (fewer host round trips).
        checkpoint_dir: when given, orbax checkpoints are written there every
            ``checkpoint_every`` chunks (latest two and the best), and ``resume`` continues
            from the latest one.
        checkpoint_every: chunks between checkpoints.
        resume: restore the latest checkpoint in ``checkpoint_dir`` before training.
        progress: show a progress bar with loss, metrics and steps/s.
        logger: a :class:`RunLogger`; each epoch's metrics are appended to its
            ``metrics.jsonl``.
        callback: called on the host with each epoch's metrics dict.
        mesh: a mesh with a ``"data"`` axis (:func:`jaxdl.training.data_parallel_mesh`)
            for data-parallel training: state and data are replicated, every minibatch is
            split over the devices and gradients are all-reduced by XLA. The batch size
            must be divisible by the number of devices.

    Returns:
        A :class:`FitResult` with the final state, the best state and the history.

    Raises:
        NonFiniteLossError: when a loss is NaN or infinite.
        ValueError: for empty data, mismatched shapes, non-positive sizes or rates.

    Example:
        >>> import jax, optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.training import create_train_state, supervised_loss, fit
        >>> x = jax.random.normal(jax.random.key(1), (64, 2)); y = (x[:, 0] > 0).astype(int)
        >>> model = MLP(features=(8, 2))
        >>> state = create_train_state(jax.random.key(2), model, x, optax.sgd(0.5))
        >>> result = fit(jax.random.key(3), state, supervised_loss(model), (x, y),
        ...              num_epochs=5, batch_size=16, progress=False)
        >>> len(result.history), int(result.state.step)  # 5 epochs of 64 / 16 steps
        (5, 20)
    """
    train_data = tuple(train_data) if isinstance(train_data, list) else train_data
    num_examples = _num_examples(train_data, "train_data")
    _validate_fit_args(num_epochs, batch_size, num_examples, eval_every, epochs_per_chunk)
    check_positive_int("checkpoint_every", checkpoint_every)
    _check_inputs(state, train_data, "train_data")
    _check_learning_rate(state.opt_state)
    eval_fn = _default_eval_fn(loss_fn, eval_fn)
    if eval_data is not None:
        _num_examples(eval_data, "eval_data")
        _check_inputs(state, eval_data, "eval_data")
    else:
        eval_fn = None
    if early_stopping is not None:
        early_stopping.validate()
    if hasattr(loss_fn, "validate"):
        loss_fn.validate(state.params, state.model_state, train_data, "train_data")
        if eval_data is not None:
            loss_fn.validate(state.params, state.model_state, eval_data, "eval_data")

    if mesh is not None:
        check_batch_divisible(batch_size, num_examples, mesh)
    compiled, steps_per_epoch = _compiled_chunk_fn(
        loss_fn,
        eval_fn,
        num_examples,
        batch_size,
        shuffle,
        early_stopping,
        eval_every,
        epochs_per_chunk,
        None if mesh is None else batch_sharding(mesh),
    )
    data_key, step_key = jax.random.split(key)
    place = jax.device_put if mesh is None else (lambda tree: replicate(tree, mesh))
    train_data = place(train_data)
    eval_data = place(eval_data) if eval_data is not None else None

    carry = _initial_carry(state, early_stopping)
    es_state = carry.early_stopping
    checkpointer = None
    if checkpoint_dir is not None:
        checkpointer = Checkpointer(
            checkpoint_dir,
            best_metric=early_stopping.metric if early_stopping is not None else None,
            best_mode=early_stopping.mode if early_stopping is not None else "min",
        )
        if resume and checkpointer.latest_step() is not None:
            carry = _restore_carry(checkpointer, carry)
    # Copy the caller's buffers: the compiled chunk donates (consumes) its carry.
    carry = jax.tree.map(jnp.copy, carry)
    if mesh is not None:
        carry = replicate(carry, mesh)

    start_epoch = int(carry.state.step) // steps_per_epoch
    history: list[dict[str, float]] = []
    bar = tqdm(
        total=num_epochs,
        initial=min(start_epoch, num_epochs),
        unit="epoch",
        disable=not progress,
        dynamic_ncols=True,
        leave=False,
    )
    stopped = bool(carry.early_stopping.stopped) if es_state is not None else False
    epoch = start_epoch
    chunk_index = 0
    try:
        while epoch < num_epochs and not stopped:
            num_active = min(epochs_per_chunk, num_epochs - epoch)
            started = time.perf_counter()
            carry, logs = compiled(
                carry, jnp.asarray(num_active, jnp.int32), data_key, step_key, train_data, eval_data
            )
            logs = jax.device_get(logs)
            elapsed = time.perf_counter() - started
            ran = int(np.sum(logs["epoch_ran"]))
            rate = ran * steps_per_epoch / max(elapsed, 1e-9)
            hyper = {
                k: float(np.asarray(v).reshape(-1)[0])
                for k, v in get_hyperparams(carry.state.opt_state).items()
                if np.size(v) == 1
            }
            for i in range(ran):
                epoch += 1
                record = {"epoch": epoch, "step": int(logs["step"][i])}
                for name, values in logs.items():
                    if name in ("epoch_ran", "evaluated", "step"):
                        continue
                    if name.startswith("eval_") and not logs["evaluated"][i]:
                        continue
                    record[name] = float(values[i])
                record.update(hyper)
                record["steps_per_second"] = rate
                history.append(record)
                if logger is not None:
                    logger.log(record["step"], **record)
                if callback is not None:
                    callback(record)
            if ran:
                bar.update(ran)
                bar.set_postfix(_postfix(history[-1]), refresh=False)
            bad_step = int(carry.nonfinite_step)
            if bad_step >= 0:
                saved = None
                if checkpointer is not None:
                    checkpointer.wait()
                    saved = checkpointer.latest_step()
                raise NonFiniteLossError(bad_step, carry.state, saved)
            if es_state is not None:
                stopped = bool(carry.early_stopping.stopped)
            chunk_index += 1
            if checkpointer is not None and (
                chunk_index % checkpoint_every == 0 or epoch >= num_epochs or stopped
            ):
                checkpointer.save(int(carry.state.step), _carry_tree(carry), history[-1])
            if ran == 0:
                break
    finally:
        bar.close()
        if checkpointer is not None:
            checkpointer.close()
    best = _with_best(carry.state, carry.early_stopping)
    return FitResult(carry.state, best, history, stopped)


def _postfix(record: dict[str, float]) -> dict[str, str]:
    shown = {}
    for name, value in record.items():
        if not isinstance(value, float) or not (
            name.startswith(("train_", "eval_")) or name in ("learning_rate", "steps_per_second")
        ):
            continue
        if name == "steps_per_second":
            shown["steps/s"] = f"{value:.0f}"
        else:
            shown[name.replace("train_", "").replace("eval_", "val_")] = f"{value:.4g}"
    return shown


def _carry_tree(carry: _Carry) -> dict[str, Any]:
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


def _restore_carry(checkpointer: Checkpointer, carry: _Carry) -> _Carry:
    restored = checkpointer.restore(_carry_tree(carry))
    state = carry.state.replace(
        step=restored["step"],
        params=restored["params"],
        opt_state=restored["opt_state"],
        model_state=restored["model_state"],
    )
    es = carry.early_stopping
    if es is not None and "early_stopping" in restored:
        es = EarlyStoppingState(**restored["early_stopping"])
    return _Carry(state, es, carry.nonfinite_step)


def fit_many(
    key: Key,
    states: TrainState,
    loss_fn: LossFn,
    train_data: Batch,
    *,
    num_epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    eval_data: Batch | None = None,
    eval_fn: EvalFn | None = None,
    eval_every: int = 1,
    early_stopping: EarlyStopping | None = None,
    data_axis: int | None = None,
    eval_data_axis: int | None = None,
) -> FitManyResult:
    """Train a population of models at once: ``vmap`` of a whole training run.

    All ``M`` members run in ONE compiled program (one compilation for the whole
    population): different seeds, different hyperparameters injected in the optimizer
    state (see :func:`jaxdl.training.set_hyperparams`), or different data (bootstrap
    weights, folds) with ``data_axis=0``.

    Args:
        key: one key (split into ``M`` member keys) or a batch of ``M`` keys.
        states: a :class:`TrainState` whose leaves carry a leading member axis ``M``,
            e.g. ``jax.vmap(lambda k: create_train_state(k, model, x, tx))(keys)``.
        loss_fn: as for :func:`fit`.
        train_data: shared by all members (``data_axis=None``) or stacked per member
            (``data_axis=0``; then every member has the same number of examples).
        num_epochs, batch_size, shuffle, eval_data, eval_fn, eval_every, early_stopping:
            as for :func:`fit`.
        data_axis: ``None`` or ``0``: whether ``train_data`` has a member axis.
        eval_data_axis: the same for ``eval_data``.

    Returns:
        A :class:`FitManyResult`.

    Example:
        >>> import jax, jax.numpy as jnp, optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.training import create_train_state, supervised_loss, set_hyperparams
        >>> x = jax.random.normal(jax.random.key(1), (32, 2)); y = (x[:, 0] > 0).astype(int)
        >>> model, tx = MLP(features=(8, 2)), optax.inject_hyperparams(optax.sgd)(0.1)
        >>> keys = jax.random.split(jax.random.key(2), 4)
        >>> states = jax.vmap(lambda k: create_train_state(k, model, x, tx))(keys)
        >>> states = states.replace(opt_state=set_hyperparams(
        ...     states.opt_state, learning_rate=jnp.array([0.01, 0.1, 0.3, 1.0])))
        >>> out = fit_many(jax.random.key(3), states, supervised_loss(model), (x, y),
        ...                num_epochs=3, batch_size=8)
        >>> out.history["train_loss"].shape, out.state.step.tolist()  # 4 members, 3 epochs
        ((4, 3), [12, 12, 12, 12])
    """
    if data_axis not in (None, 0) or eval_data_axis not in (None, 0):
        raise ValueError(
            f"data_axis and eval_data_axis must be None or 0, got {data_axis}, {eval_data_axis}"
        )
    num_members = int(np.shape(states.step)[0]) if np.ndim(states.step) == 1 else None
    if num_members is None:
        raise ValueError(
            "states must carry a leading member axis (build them with jax.vmap over keys), "
            f"got step with shape {np.shape(states.step)}"
        )
    sample = jax.tree.map(lambda a: a[0], train_data) if data_axis == 0 else train_data
    num_examples = _num_examples(sample, "train_data")
    _validate_fit_args(num_epochs, batch_size, num_examples, eval_every, 1)
    _check_inputs(states, sample, "train_data")
    _check_learning_rate(states.opt_state)
    eval_fn = _default_eval_fn(loss_fn, eval_fn) if eval_data is not None else None
    if early_stopping is not None:
        early_stopping.validate()

    keys = key if jnp.ndim(key) == 1 else jax.random.split(key, num_members)
    if int(np.shape(keys)[0]) != num_members:
        raise ValueError(f"key must hold {num_members} member keys, got {np.shape(keys)[0]}")

    run_all = _compiled_population_fn(
        loss_fn,
        eval_fn,
        num_examples,
        batch_size,
        shuffle,
        early_stopping,
        eval_every,
        num_epochs,
        data_axis,
        eval_data_axis,
    )
    final, best, logs, nonfinite, stopped = run_all(states, keys, train_data, eval_data)
    ran = logs.pop("epoch_ran")
    evaluated = logs.pop("evaluated")
    history = {}
    for name, values in logs.items():
        mask = evaluated if name.startswith("eval_") else ran
        history[name] = jnp.where(mask, values, jnp.nan) if name != "step" else values
    return FitManyResult(final, best, history, nonfinite, stopped)


@functools.lru_cache(maxsize=64)
def _compiled_population_fn(
    loss_fn,
    eval_fn,
    num_examples,
    batch_size,
    shuffle,
    early_stopping,
    eval_every,
    num_epochs,
    data_axis,
    eval_data_axis,
):
    """``jit(vmap(whole training run))``, cached like :func:`fit`'s chunk so that repeated
    searches with the same loss, sizes and settings reuse one compiled program."""
    run_chunk, _ = _build_chunk_fn(
        loss_fn,
        eval_fn,
        num_examples=num_examples,
        batch_size=batch_size,
        shuffle=shuffle,
        early_stopping=early_stopping,
        eval_every=eval_every,
        epochs_per_chunk=num_epochs,
    )

    def run_member(state, member_key, member_train, member_eval):
        data_key, step_key = jax.random.split(member_key)
        carry = _initial_carry(state, early_stopping)
        carry, logs = run_chunk(
            carry,
            jnp.asarray(num_epochs, jnp.int32),
            data_key,
            step_key,
            member_train,
            member_eval,
        )
        best = _with_best(carry.state, carry.early_stopping)
        stopped = (
            carry.early_stopping.stopped if early_stopping is not None else jnp.zeros((), jnp.bool_)
        )
        return carry.state, best, logs, carry.nonfinite_step, stopped

    return jax.jit(jax.vmap(run_member, in_axes=(0, 0, data_axis, eval_data_axis)))


def epochs_for_steps(num_steps: int, num_examples: int, batch_size: int | None) -> int:
    """The number of epochs that covers at least ``num_steps`` optimizer steps."""
    per_epoch = 1 if batch_size is None else num_examples // batch_size
    return max(1, math.ceil(num_steps / per_epoch))
