"""``fit_many``: a population of training runs (seeds, hyperparameters, folds) at once.

Every member runs the same compiled chunk as :func:`jaxdl.training.fit` (with the
per-step non-finite guard, so each member reports its own first bad step), over all of
its epochs. How the members share the machine is the ``strategy``:

- ``"vmap"``: one batched program; best for small members, where one member's step
  does not fill the machine and batching the matrix products wins.
- ``"map"``: ``lax.map`` over blocks of ``block_size`` members (vmap inside a block,
  sequential across blocks); for large members or many members, where a full vmap only
  adds memory traffic.
- ``"auto"`` (default): :func:`choose_strategy`, blocks of at most ``_MAX_BLOCK`` members
  and at most ``_BLOCK_BYTES`` of state (parameters, optimizer and model state):
  ``"vmap"`` when the whole population fits in one block, else ``"map"``.

Like ``fit``, members run without the per-step non-finite guard (a select over the whole
state after every step); a member whose loss went non-finite is rerun alone, from its
initial state, with the guard, so that it reports its exact first bad step and keeps
the parameters of the step before it. Finite members pay nothing for the guard.

Why blocks, measured by ``benchmarks/fit_many.py`` and a sweep of block sizes on the
2-core CPU machine (load 12-15, so single timings vary by up to 2x): batching small
members fills the machine and saves per-call overhead, but as a block's weights, moments
and activations outgrow the caches, XLA:CPU's batched matrix products get slower per
member than one product at a time. A 784x500 product (100 rows) cost 0.7 ms unbatched
and about 0.9 / 3.3 / 3.5 / 4.6 ms per member in batches of 2 / 4 / 8 / 16. Whole
populations, per block size (seconds; a loop of ``fit`` calls in brackets): 16 members
784-500-10 (4.8 MB of Adam state each): block 1: 2.1, 2: 1.4, 4: 5.3, 8: 3.5, 16: 4.7
[3.0]; 128 MLPs 40-100-100-10 (0.18 MB each): 16: 7.7, 32: 5.7, 64: 10.1, 128: 10.6
[11.9]. Hence at most 32 members and about 10 MiB of state per block: 8 and 32 MLPs run
as one vmap, 128 as four blocks of 32, the 784-500 members in blocks of 2. Open: at
loads of 13-28 on the 2 cores, 8 and 32 small MLPs used 1.04x-1.5x less CPU than the
loop but up to 1.2x more wall time.
"""

from __future__ import annotations

import functools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxdl.training.early_stopping import EarlyStopping
from jaxdl.training.engine import build_chunk_fn, initial_carry, with_best
from jaxdl.training.inputs import (
    check_input_shape,
    check_key,
    check_learning_rate,
    num_examples,
    validate_fit_args,
)
from jaxdl.training.sharding import population_axis
from jaxdl.training.state import TrainState
from jaxdl.training.steps import UpdateStep, as_update_step, default_eval_fn
from jaxdl.typing import Array, Batch, EvalFn, Key, LossFn

_BLOCK_BYTES = 10 * 2**20
_MAX_BLOCK = 32
_STRATEGIES = ("auto", "vmap", "map")


class FitManyResult(NamedTuple):
    """What :func:`fit_many` returns; every leaf has a leading member axis ``M``.

    Attributes:
        state: final states ``[M, ...]``.
        best_state: best states by the early-stopping metric (final ones without it).
        history: dict of arrays ``[M, num_epochs]`` (NaN on epochs a member did not run;
            ``val_*`` only on evaluation epochs).
        nonfinite_step: ``[M]`` step of the first non-finite loss, -1 when none.
        stopped_early: ``[M]`` booleans.
    """

    state: TrainState
    best_state: TrainState
    history: dict[str, Array]
    nonfinite_step: Array
    stopped_early: Array


def state_bytes_per_member(states: TrainState, num_members: int) -> int:
    """Bytes of one member's parameters, optimizer state and model state: what each of
    its steps reads and writes (``states`` may hold ``jax.ShapeDtypeStruct`` leaves)."""
    leaves = jax.tree.leaves((states.params, states.opt_state, states.model_state))
    total = sum(
        math.prod(np.shape(leaf)) * getattr(getattr(leaf, "dtype", None), "itemsize", 4)
        for leaf in leaves
    )
    return total // max(1, num_members)


def choose_strategy(
    states: TrainState, num_members: int, local_members: int | None = None
) -> tuple[str, int]:
    """The ``"auto"`` choice ``(strategy, block_size)``.

    Blocks of ``_BLOCK_BYTES // state_bytes_per_member`` members (at least one, at most
    ``_MAX_BLOCK``): ``"vmap"`` when the whole population fits in one block, else
    ``"map"`` with that block size (see the module docstring for the measurements).
    ``local_members`` (default ``num_members``) is the number of members one device
    trains when the population is split over a mesh.
    """
    local = num_members if local_members is None else local_members
    per_member = max(1, state_bytes_per_member(states, num_members))
    block = max(1, min(local, _MAX_BLOCK, _BLOCK_BYTES // per_member))
    return ("vmap" if block >= local else "map"), block


def fit_many(
    key: Key,
    states: TrainState,
    objective: LossFn | UpdateStep,
    train_data: Batch,
    *,
    num_epochs: int,
    batch_size: int | None = None,
    shuffle: bool = True,
    val_data: Batch | None = None,
    eval_fn: EvalFn | None = None,
    eval_every: int = 1,
    early_stopping: EarlyStopping | None = None,
    data_axis: int | None = None,
    val_data_axis: int | None = None,
    strategy: str = "auto",
    block_size: int | None = None,
    mesh: Mesh | None = None,
) -> FitManyResult:
    """Train a population of models at once: one compiled program for all ``M`` members.

    Different seeds, different hyperparameters injected in the optimizer state (see
    :func:`jaxdl.training.set_hyperparams`), or different data (bootstrap weights, folds)
    with ``data_axis=0``.

    Args:
        key: one typed key (split into ``M`` member keys) or a batch of ``M`` keys.
        states: a :class:`TrainState` whose leaves carry a leading member axis ``M``,
            e.g. ``jax.vmap(lambda k: create_train_state(k, model, x, tx))(keys)``.
        objective: a loss or an :func:`update_step`, as for :func:`fit`.
        train_data: shared by all members (``data_axis=None``) or stacked per member
            (``data_axis=0``; then every member has the same number of examples).
        num_epochs, batch_size, shuffle, val_data, eval_fn, eval_every, early_stopping:
            as for :func:`fit`.
        data_axis: ``None`` or ``0``: whether ``train_data`` has a member axis.
        val_data_axis: the same for ``val_data``.
        strategy: ``"auto"``, ``"vmap"`` or ``"map"`` (see the module docstring).
        block_size: members per block for ``"map"`` (default from ``"auto"``'s rule).
        mesh: a mesh with a ``"population"`` axis (else its ``"data"`` axis is used, e.g.
            :func:`jaxdl.training.data_parallel_mesh`): the members are split over that
            axis (``M`` must be divisible by its size) and each device trains its own
            ``M / size`` members with ``strategy`` (``jax.shard_map``; no communication
            between members). Each member's result equals its single-device result up to
            float round-off (a smaller batch of members may change XLA's batched products).

    Returns:
        A :class:`FitManyResult`.

    Example:
        >>> import jax, jax.numpy as jnp, optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.training import create_train_state, make_supervised_loss, set_hyperparams
        >>> x = jax.random.normal(jax.random.key(1), (32, 2)); y = (x[:, 0] > 0).astype(int)
        >>> model, tx = MLP(features=(8, 2)), optax.inject_hyperparams(optax.sgd)(0.1)
        >>> keys = jax.random.split(jax.random.key(2), 4)
        >>> states = jax.vmap(lambda k: create_train_state(k, model, x, tx))(keys)
        >>> states = states.replace(opt_state=set_hyperparams(
        ...     states.opt_state, learning_rate=jnp.array([0.01, 0.1, 0.3, 1.0])))
        >>> out = fit_many(jax.random.key(3), states, make_supervised_loss(model), (x, y),
        ...                num_epochs=3, batch_size=8)
        >>> out.history["train_loss"].shape, out.state.step.tolist()  # 4 members, 3 epochs
        ((4, 3), [12, 12, 12, 12])
    """
    if data_axis not in (None, 0) or val_data_axis not in (None, 0):
        raise ValueError(
            f"data_axis and val_data_axis must be None or 0, got {data_axis}, {val_data_axis}"
        )
    if strategy not in _STRATEGIES:
        raise ValueError(f"strategy must be one of {_STRATEGIES}, got {strategy!r}")
    check_key(key, batched=None)
    num_members = int(np.shape(states.step)[0]) if np.ndim(states.step) == 1 else None
    if num_members is None:
        raise ValueError(
            "states must carry a leading member axis (build them with jax.vmap over keys), "
            f"got step with shape {np.shape(states.step)}"
        )
    sample = jax.tree.map(lambda a: a[0], train_data) if data_axis == 0 else train_data
    size = num_examples(sample, "train_data")
    validate_fit_args(num_epochs, batch_size, size, eval_every, 1)
    check_input_shape(states, sample, "train_data")
    check_learning_rate(states.opt_state)
    eval_fn = default_eval_fn(objective, eval_fn) if val_data is not None else None
    if early_stopping is not None:
        early_stopping.validate()

    keys = key if jnp.ndim(key) == 1 else jax.random.split(key, num_members)
    if int(np.shape(keys)[0]) != num_members:
        raise ValueError(f"key must hold {num_members} member keys, got {np.shape(keys)[0]}")
    local, placement = num_members, None
    if mesh is not None:  # --- mesh: split the members over the population axis ---
        axis = population_axis(mesh)
        if num_members % mesh.shape[axis]:
            raise ValueError(
                f"the number of members must be divisible by the mesh's {axis!r} axis of size "
                f"{mesh.shape[axis]}, got {num_members}"
            )
        local, placement = num_members // mesh.shape[axis], (mesh, axis)
        members = NamedSharding(mesh, PartitionSpec(axis))
        whole = NamedSharding(mesh, PartitionSpec())
        states, keys = jax.device_put((states, keys), members)
        train_data = jax.device_put(train_data, members if data_axis == 0 else whole)
        if val_data is not None:
            val_data = jax.device_put(val_data, members if val_data_axis == 0 else whole)
    auto_strategy, auto_block = choose_strategy(states, num_members, local)
    strategy = auto_strategy if strategy == "auto" else strategy
    block = local if strategy == "vmap" else min(block_size or auto_block, local)

    settings = (objective, eval_fn, size, batch_size, shuffle, early_stopping, eval_every)
    settings += (num_epochs, data_axis, val_data_axis, strategy)
    run_all = _compiled_population_fn(*settings, block, False, placement)
    replay_keys = jax.random.clone(keys)  # a rerun replays a member's keys on purpose
    outputs = run_all(states, keys, train_data, val_data)
    diverged = np.flatnonzero(np.asarray(outputs[-1]))
    if diverged.size:  # rerun only those members with the per-step guard: exact bad steps
        take = functools.partial(_take, jnp.asarray(diverged))
        rerun = _compiled_population_fn(*settings, min(block, diverged.size), True)(
            take(states),
            take(replay_keys),
            take(train_data) if data_axis == 0 else train_data,
            take(val_data) if val_data_axis == 0 else val_data,
        )
        outputs = jax.tree.map(lambda a, b: a.at[diverged].set(b), outputs, rerun)
    final, best, logs, nonfinite, stopped, _ = outputs
    ran = logs.pop("ran")
    evaluated = logs.pop("evaluated")
    history = {}
    for name, values in logs.items():
        mask = evaluated if name.startswith("val_") else ran
        history[name] = jnp.where(mask, values, jnp.nan) if name != "step" else values
    return FitManyResult(final, best, history, nonfinite, stopped)


def _take(indices: Array, tree: Any) -> Any:
    return jax.tree.map(lambda a: a[indices], tree)


@functools.lru_cache(maxsize=64)
def _compiled_population_fn(
    objective: Any,
    eval_fn: EvalFn | None,
    num_examples: int,
    batch_size: int | None,
    shuffle: bool,
    early_stopping: EarlyStopping | None,
    eval_every: int,
    num_epochs: int,
    data_axis: int | None,
    val_data_axis: int | None,
    strategy: str,
    block: int,
    guarded: bool = True,
    placement: tuple[Mesh, str] | None = None,
):
    """The jitted population, cached like ``fit``'s chunk so that repeated searches with
    the same objective, sizes and settings reuse one compiled program.

    ``placement = (mesh, axis)`` runs it under ``jax.shard_map``: each device gets its
    slice of the member axis (and of member-stacked data) and trains those members."""
    run_chunk = build_chunk_fn(
        as_update_step(objective),
        eval_fn,
        num_examples=num_examples,
        batch_size=batch_size,
        shuffle=shuffle,
        early_stopping=early_stopping,
        eval_every=eval_every,
        epochs_per_chunk=num_epochs,
        guarded=guarded,
    )

    def run_member(state, member_key, member_train, member_val):
        data_key, step_key = jax.random.split(member_key)
        carry = initial_carry(state, early_stopping)
        carry, logs, flags = run_chunk(
            carry,
            jnp.asarray(num_epochs, jnp.int32),
            data_key,
            step_key,
            member_train,
            member_val,
        )
        best = with_best(carry.state, carry.early_stopping)
        return carry.state, best, logs, flags["bad_step"], flags["stopped"], flags["nonfinite"]

    if strategy == "vmap":
        run_all = jax.vmap(run_member, in_axes=(0, 0, data_axis, val_data_axis))
    else:

        def run_all(states, keys, train_data, val_data):
            def member(args):
                state, member_key, member_train, member_val = args
                member_train = train_data if data_axis is None else member_train
                member_val = val_data if val_data_axis is None else member_val
                return run_member(state, member_key, member_train, member_val)

            mapped_train = train_data if data_axis == 0 else None
            mapped_val = val_data if val_data_axis == 0 else None
            members = (states, keys, mapped_train, mapped_val)
            return jax.lax.map(member, members, batch_size=block)

    if placement is not None:
        run_all = _on_mesh(run_all, placement, data_axis, val_data_axis)
    return jax.jit(run_all)


def _on_mesh(
    run_all: Any, placement: tuple[Mesh, str], data_axis: int | None, val_data_axis: int | None
) -> Any:
    """``run_all`` per device on its slice of the members (``jax.shard_map``)."""
    mesh, axis = placement
    members, whole = PartitionSpec(axis), PartitionSpec()
    in_specs = (
        members,
        members,
        members if data_axis == 0 else whole,
        members if val_data_axis == 0 else whole,
    )
    return jax.shard_map(run_all, mesh=mesh, in_specs=in_specs, out_specs=members, check_vma=False)
