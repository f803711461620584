"""Where a checkpoint's arrays travel: devices, host memory and orbax's step directories.

The private half of :mod:`jaxdl.training.checkpoints` that moves data. A tree is
flattened to whole host arrays with one record per leaf (``_to_host``; typed PRNG keys
are stored as their key data, arrays sharded over several processes are all-gathered by
``_device_get``) and read back into the layout of a restore target (``_unflatten``,
``_place``, :func:`abstract_target`). The orbax side lives here too: the checkpoint
managers (``_manager``), the finished step directories on disk (``_step_dirs``), their
fingerprint for the read cache (``_fingerprint``), moving a corrupt one aside
(``_set_aside``), and orbax reads whose failure becomes one ``_Corrupt`` line
(``_quietly``). :func:`abstract_target` is re-exported by
:mod:`jaxdl.training.checkpoints`; import it from there.
"""

from __future__ import annotations

import gc
import logging
import os
import pathlib
import shutil
import sys
import warnings
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding

from jaxdl.training._checkpoint_verify import (
    CheckpointMismatchError,
    CheckpointWarning,
    _array_names,
    _Corrupt,
    _crc,
    _dtype_name,
    _Loaded,
    _one_line,
)
from jaxdl.typing import PyTree

_ITEMS = ("arrays", "meta")


def abstract_target(tree: PyTree, sharding: Any = None) -> PyTree:
    """The shapes, dtypes and placements of ``tree``, as a restore target.

    Each array leaf becomes ``jax.ShapeDtypeStruct(shape, dtype, sharding=...)`` with
    ``sharding`` (one sharding for every leaf, or a pytree of shardings matching ``tree``)
    or, when that is ``None``, the leaf's own sharding. ``tree`` may itself be abstract
    (``jax.eval_shape(create_state)``), so that nothing is allocated before the restore.

    Args:
        tree: a pytree of arrays or ``jax.ShapeDtypeStruct``s.
        sharding: a ``jax.sharding.Sharding`` for all leaves, a pytree of them, or
            ``None`` to keep each leaf's own.

    Returns:
        the pytree of ``jax.ShapeDtypeStruct``s (non-array leaves unchanged).

    Example:
        >>> import jax.numpy as jnp
        >>> from jax.sharding import SingleDeviceSharding
        >>> one = SingleDeviceSharding(jax.devices()[0])
        >>> target = abstract_target({"w": jnp.zeros((2, 3))}, one)
        >>> target["w"].shape, target["w"].sharding == one
        ((2, 3), True)
    """

    def describe(leaf: Any, where: Any) -> Any:
        if not isinstance(leaf, jax.Array | jax.ShapeDtypeStruct | np.ndarray):
            return leaf
        if where is None:
            where = getattr(leaf, "sharding", None)
        return jax.ShapeDtypeStruct(np.shape(leaf), leaf.dtype, sharding=where)

    if sharding is None or isinstance(sharding, jax.sharding.Sharding):
        return jax.tree.map(lambda leaf: describe(leaf, sharding), tree)
    return jax.tree.map(describe, tree, sharding)


def _is_key(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


def _key_impl(leaf: Any) -> Any:
    """The PRNG implementation of a key array or of an abstract key leaf."""
    if isinstance(leaf, jax.ShapeDtypeStruct):
        # an abstract key: its dtype carries the implementation; one dummy key names it
        impl = leaf.dtype._impl
        leaf = jax.random.wrap_key_data(np.zeros(impl.key_shape, np.uint32), impl=impl)
    return jax.random.key_impl(leaf)


def _to_host(tree: PyTree) -> tuple[dict[str, np.ndarray], list[dict[str, Any]]]:
    """Copy every leaf to host memory it owns and describe it (path, dtype, shape, CRC)."""
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    paths = [jax.tree_util.keystr(path) for path, _ in leaves]
    values = [leaf for _, leaf in leaves]
    impls = [str(jax.random.key_impl(v)) if _is_key(v) else None for v in values]
    values = [jax.random.key_data(v) if _is_key(v) else v for v in values]
    # One transfer for the whole tree; then a C-ordered copy the caller cannot donate.
    host = [np.array(v, order="C") for v in _device_get(values)]
    records = [
        {
            "path": path,
            "dtype": str(array.dtype),
            "shape": list(array.shape),
            "crc32": _crc(array),
            "key_impl": impl,
        }
        for path, array, impl in zip(paths, host, impls, strict=True)
    ]
    names = _array_names(len(host))
    arrays = dict(zip(names, host, strict=True)) if host else {"empty": np.zeros(0, np.uint8)}
    return arrays, records


def _spans_processes(value: Any) -> bool:
    """A jax array split over devices of several processes (no process holds all of it)."""
    return (
        isinstance(value, jax.Array)
        and not value.is_fully_addressable
        and not value.is_fully_replicated
    )


def _device_get(values: list[Any]) -> list[Any]:
    """Host copies of ``values``; arrays split over several processes are all-gathered.

    A single-process array (one device or many) and a replicated multi-process array are
    copied from this process's devices; only an array sharded across processes (FSDP on
    several hosts) needs JAX's ``process_allgather``, a collective every process runs.
    """
    spread = {i for i, value in enumerate(values) if _spans_processes(value)}
    if not spread:
        return jax.device_get(values)
    local = iter(jax.device_get([v for i, v in enumerate(values) if i not in spread]))
    gathered = iter(
        multihost_utils.process_allgather([values[i] for i in sorted(spread)], tiled=True)
    )
    return [next(gathered) if i in spread else next(local) for i in range(len(values))]


def _place(array: np.ndarray, sharding: jax.sharding.Sharding | None) -> jax.Array:
    """``array`` laid out with ``sharding`` (any device count; several processes too)."""
    if sharding is None or sharding.is_fully_addressable:
        return jax.device_put(array, sharding)
    # Every process holds the whole host array; each fills its own devices' shards.
    return jax.make_array_from_callback(array.shape, sharding, lambda index: array[index])


def _unflatten(like: PyTree, loaded: _Loaded, path: pathlib.Path) -> PyTree:
    leaves, treedef = jax.tree_util.tree_flatten_with_path(like)
    records = loaded.meta["arrays"]
    problems = []
    if len(leaves) != len(records):
        problems.append(f"{len(records)} leaves stored, {len(leaves)} expected")
    for (key_path, leaf), record in zip(leaves, records, strict=False):
        name = jax.tree_util.keystr(key_path)
        if name != record["path"]:
            problems.append(f"leaf {record['path'] or '<root>'} stored where {name} is expected")
            continue
        shape = list(np.shape(leaf))
        dtype = str(_key_impl(leaf)) if _is_key(leaf) else _dtype_name(leaf)
        stored_dtype = record["key_impl"] or record["dtype"]
        if record["key_impl"] is not None:
            shape = shape + list(record["shape"][len(shape) :])
        if shape != record["shape"] or dtype != stored_dtype:
            problems.append(
                f"{name} is {stored_dtype}{record['shape']} in the checkpoint, "
                f"{dtype}{list(np.shape(leaf))} expected"
            )
    if problems:
        shown = "; ".join(problems[:3]) + (
            f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        )
        raise CheckpointMismatchError(f"checkpoint {path} holds another tree: {shown}")
    values = []
    for (_, leaf), array, record in zip(leaves, loaded.arrays, records, strict=True):
        sharding = None
        if isinstance(leaf, jax.Array | jax.ShapeDtypeStruct):
            sharding = getattr(leaf, "sharding", None)
            sharding = sharding if getattr(leaf, "committed", sharding is not None) else None
        if record["key_impl"] is not None:
            impl = _key_impl(leaf)
            if isinstance(sharding, NamedSharding):
                # the key data has one trailing axis more, which the spec leaves whole
                key = jax.random.wrap_key_data(_place(array, sharding), impl=impl)
            else:
                key = jax.random.wrap_key_data(array, impl=impl)
                key = key if sharding is None else jax.device_put(key, sharding)
            values.append(key)
        elif isinstance(leaf, jax.Array | jax.ShapeDtypeStruct):
            values.append(_place(array, sharding))
        elif isinstance(leaf, bool | int | float | complex):
            values.append(type(leaf)(array.item()))
        else:
            values.append(array)
    return jax.tree_util.tree_unflatten(treedef, values)


def _manager(path: pathlib.Path, keep: int) -> ocp.CheckpointManager:
    options = ocp.CheckpointManagerOptions(
        create=True,
        cleanup_tmp_directories=True,  # leftovers of a save killed half-way
        preservation_policy=ocp.checkpoint_managers.LatestN(n=keep),
        enable_async_checkpointing=True,
    )
    return ocp.CheckpointManager(path, item_names=_ITEMS, options=options)


def _step_dirs(manager: ocp.CheckpointManager | None) -> list[int]:
    """Finished step directories on disk, ascending (in-progress saves have a tmp name)."""
    if manager is None:
        return []
    root = pathlib.Path(manager.directory)
    if not root.is_dir():
        return []
    return sorted(int(p.name) for p in root.iterdir() if p.name.isdigit() and p.is_dir())


def _fingerprint(path: pathlib.Path) -> tuple:
    """Names, sizes and modification times of every file under ``path``."""
    files = []
    for root, _, names in os.walk(path):
        for name in names:
            full = os.path.join(root, name)
            try:
                stat = os.stat(full)
            except OSError:
                continue
            files.append((os.path.relpath(full, path), stat.st_size, stat.st_mtime_ns))
    return tuple(sorted(files))


def _set_aside(
    directory: pathlib.Path,
    manager: ocp.CheckpointManager,
    step: int,
    reason: str,
    good_step: int,
) -> None:
    """Move a corrupt step directory to ``<directory>/corrupt`` and warn in one line."""
    path = pathlib.Path(manager.directory) / str(step)
    target = directory / "corrupt" / f"{pathlib.Path(manager.directory).name}-{step}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = target.with_name(f"{pathlib.Path(manager.directory).name}-{step}-{suffix}")
    if jax.process_index() == 0:  # one process moves it; the others only skip it
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(path), str(target))
    warnings.warn(
        f"skipping corrupt checkpoint {path} ({reason}); moved to {target}, using step {good_step}",
        CheckpointWarning,
        stacklevel=4,
    )


def _quietly(fn, *args, **kwargs):
    """Call orbax for a read that may fail, reporting a failure as one ``_Corrupt`` line.

    A failed orbax read leaves noise behind: absl log lines, asyncio tasks whose exception
    is "never retrieved", un-awaited coroutines, and tensorstore callbacks that later find
    orbax's event loop closed. We report the failure ourselves in one line, so all of that
    is silenced (the last by a narrow, process-wide ``sys.unraisablehook`` filter).
    """
    loggers = [logging.getLogger(name) for name in ("absl", "asyncio")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    _drop_closed_loop_reports()
    failure = None
    try:
        try:
            return fn(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - any read failure means corrupt
            failure = _one_line(error)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            gc.collect()  # let the failed read's tasks and coroutines go, quietly
        raise _Corrupt(f"unreadable ({failure})")
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _drop_closed_loop_reports() -> None:
    """Drop 'Event loop is closed' reports of callbacks left behind by a failed read."""
    previous = sys.unraisablehook
    if getattr(previous, "_jaxdl_closed_loop_filter", False):
        return

    def hook(unraisable):
        error = unraisable.exc_value
        if isinstance(error, RuntimeError) and str(error) == "Event loop is closed":
            return
        previous(unraisable)

    hook._jaxdl_closed_loop_filter = True
    sys.unraisablehook = hook
