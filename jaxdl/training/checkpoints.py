"""Verified orbax checkpoints: the latest few for resuming, the best one for keeping.

Each checkpoint is one orbax step directory with two items, written asynchronously and
made visible atomically by orbax (it writes ``<step>.orbax-checkpoint-tmp`` and renames it
when every item is on disk)::

    <directory>/latest/<step>/arrays   every array leaf of the tree, flattened (a0, a1, ...)
                             /meta     JSON: the leaf paths, dtypes, shapes and CRC-32 of
                                       every array, the run metadata, versions, metrics, the
                                       caller's ``extra`` (``fit`` stores its history), and
                                       a CRC-32 of this JSON itself
    <directory>/best/<step>/...        the checkpoint with the best ``best_metric``
    <directory>/corrupt/...            checkpoints that failed verification, moved aside

The checksums are computed from the same host copy that is handed to orbax, so once the
step directory exists under its final name they describe exactly what is on disk. Reading
a checkpoint recomputes them: a truncated, bit-flipped or incomplete checkpoint is never
used, and ``latest_step`` is the newest checkpoint that verifies.

The stored arrays are whole host arrays, independent of the devices they came from: a
checkpoint written by 8 devices (state replicated or sharded) or by several processes
restores onto 1 device, onto a 4-device mesh or onto another job, each leaf laid out like
the restore target's (:func:`abstract_target`, :func:`restore_checkpoint`). A sharded
array is gathered to the host only where it must be: an array spread over several
processes is all-gathered with ``jax.experimental.multihost_utils.process_allgather``;
process 0 writes, orbax synchronizes the processes.
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import importlib.metadata
import json
import logging
import math
import os
import pathlib
import shutil
import sys
import time
import warnings
import zlib
from collections.abc import Mapping
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp
from jax.experimental import multihost_utils
from jax.sharding import NamedSharding

from jaxdl.training.distributed import agree
from jaxdl.typing import PyTree

FORMAT = 1
"""Version of the on-disk layout written by :class:`Checkpointer`."""

_ITEMS = ("arrays", "meta")


class CheckpointError(Exception):
    """No usable checkpoint: missing, corrupt, or (subclass) written by another run."""


class CheckpointMismatchError(CheckpointError):
    """The checkpoint belongs to another run: a different config, model or tree."""


class CheckpointWarning(UserWarning):
    """A checkpoint was skipped (corrupt) or was written with other library versions."""


# The clock behind ``save_interval_seconds``; tests replace it with a fake one.
_now = time.monotonic


def run_versions() -> dict[str, str]:
    """Versions of jaxdl, jax, flax, optax and orbax, as stored with every checkpoint."""
    return dict(_installed_versions())


@functools.cache
def _installed_versions() -> dict[str, str]:
    versions = {}
    for name, dist in (
        ("jaxdl", "jaxdl"),
        ("jax", "jax"),
        ("flax", "flax"),
        ("optax", "optax"),
        ("orbax", "orbax-checkpoint"),
    ):
        try:
            versions[f"{name}_version"] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[f"{name}_version"] = "unknown"
    return versions


def config_hash(config: Any) -> str:
    """A short stable hash of a JSON-able config (key order does not matter).

    Example:
        >>> config_hash({"a": 1, "b": [2, 3]}) == config_hash({"b": [2, 3], "a": 1})
        True
    """
    text = json.dumps(_to_json(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def structure_hash(tree: PyTree) -> str:
    """A short hash of a tree's leaf paths, shapes and dtypes (not its values).

    Two models with the same parameter structure hash alike; another architecture or
    another optimizer state does not.

    Example:
        >>> import jax.numpy as jnp
        >>> structure_hash({"w": jnp.zeros(3)}) == structure_hash({"w": jnp.ones(3)})
        True
        >>> structure_hash({"w": jnp.zeros(3)}) == structure_hash({"w": jnp.zeros(4)})
        False
    """
    leaves = jax.tree_util.tree_flatten_with_path(tree)[0]
    described = [
        [jax.tree_util.keystr(path), list(np.shape(leaf)), _dtype_name(leaf)]
        for path, leaf in leaves
    ]
    return config_hash(described)


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


def restore_checkpoint(
    directory: str | os.PathLike,
    target: PyTree,
    *,
    step: int | None = None,
    best: bool = False,
) -> PyTree:
    """Restore a verified checkpoint of ``directory`` laid out like ``target``.

    A shortcut for ``Checkpointer(directory).restore(target, step, best=best)``: the
    newest checkpoint that verifies (a corrupt latest one falls back to the previous),
    each leaf placed with ``target``'s sharding, on any number of devices and processes.

    Args:
        directory: the ``Checkpointer``'s (or ``fit``'s ``checkpoint_dir``) directory.
        target: the tree to fill: arrays or :func:`abstract_target` leaves.
        step: which checkpoint (default: the newest good one).
        best: read the best checkpoint instead of the latest.

    Returns:
        the restored tree.

    Raises:
        CheckpointError: no checkpoint, or none that verifies.
        CheckpointMismatchError: the checkpoint holds another tree.

    Example:
        >>> import tempfile
        >>> import jax.numpy as jnp
        >>> with tempfile.TemporaryDirectory() as directory:
        ...     with Checkpointer(directory) as checkpointer:
        ...         _ = checkpointer.save(3, {"w": jnp.arange(2.0)})
        ...     restored = restore_checkpoint(directory, abstract_target({"w": jnp.zeros(2)}))
        >>> restored["w"].tolist()
        [0.0, 1.0]
    """
    if not pathlib.Path(directory).is_dir():  # a read creates nothing
        raise CheckpointError(f"no checkpoint directory {pathlib.Path(directory).absolute()}")
    # best_metric only ranks new saves; any name opens the best-checkpoint manager
    with Checkpointer(directory, best_metric="restore" if best else None) as checkpointer:
        return checkpointer.restore(target, step, best=best)


@dataclasses.dataclass
class _Loaded:
    """A verified checkpoint read back into host memory."""

    step: int
    arrays: list[np.ndarray]
    meta: dict[str, Any]
    extra: dict[str, Any]


class _Corrupt(Exception):
    """Raised inside verification; the message is the one-line reason."""


class Checkpointer:
    """Verified, asynchronous orbax checkpoints under one directory.

    ``<directory>/latest`` keeps the ``max_to_keep`` most recent checkpoints (what a
    resumed run continues from); ``<directory>/best`` keeps the one with the best
    ``best_metric`` (when one is given). Every checkpoint stores a CRC-32 of each array,
    the run ``metadata`` (e.g. a config hash and a model hash), the versions of
    jaxdl/jax/flax/optax/orbax, the metrics and a JSON ``extra``; reads verify it.

    A latest checkpoint that is truncated, bit-flipped, incomplete or fails its checksum
    is skipped with one :class:`CheckpointWarning` line naming its directory, moved to
    ``<directory>/corrupt`` (so that it never counts as "the last good one" and its step
    can be written again), and the previous good checkpoint is used. With no good one
    left, :class:`CheckpointError` is raised with one line and nothing is moved.

    Saves are asynchronous: ``save`` copies the arrays to the host, computes their
    checksums and returns while orbax writes in the background; ``wait`` blocks until
    they are on disk. ``save`` writes only when an interval is due
    (``save_interval_steps`` steps or ``save_interval_seconds`` seconds since the last
    checkpoint, and the previous save finished; with neither interval, every call), or
    with ``force=True``.

    In a multi-process job every process creates it on the same (shared) directory and
    calls ``save`` and ``restore`` alike: the decision to save is process 0's
    (:func:`jaxdl.training.distributed.agree`), process 0 writes, and every process
    reads and verifies the whole checkpoint.

    Args:
        directory: where checkpoints live (created if missing).
        max_to_keep: how many recent checkpoints to keep.
        best_metric: a metric name passed with ``save(..., metrics=...)``, or ``None``.
        best_mode: ``"min"`` or ``"max"``.
        metadata: JSON-able run metadata stored with every checkpoint and compared by
            :meth:`check_metadata` (e.g. ``{"config_hash": config_hash(config),
            "model_hash": structure_hash(params)}``).
        save_interval_steps: save when at least this many steps passed since the last
            checkpoint.
        save_interval_seconds: save when at least this many seconds passed since the last
            checkpoint (or since this object was created).

    Example:
        >>> import tempfile
        >>> import jax.numpy as jnp
        >>> like = {"w": jnp.zeros(3)}
        >>> with (tempfile.TemporaryDirectory() as directory,
        ...       Checkpointer(directory, best_metric="val_loss") as checkpointer):
        ...     _ = checkpointer.save(1, {"w": jnp.arange(3.0)}, metrics={"val_loss": 0.5})
        ...     _ = checkpointer.save(2, {"w": jnp.ones(3)}, metrics={"val_loss": 0.9},
        ...                           extra={"epochs": 2})
        ...     steps = checkpointer.latest_step(), checkpointer.best_step()
        ...     best = checkpointer.restore(like, best=True)
        ...     extra = checkpointer.restore_extra(2)
        >>> steps, best["w"].tolist(), extra
        ((2, 1), [0.0, 1.0, 2.0], {'epochs': 2})
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        *,
        max_to_keep: int = 2,
        best_metric: str | None = None,
        best_mode: str = "min",
        metadata: Mapping[str, Any] | None = None,
        save_interval_steps: int | None = None,
        save_interval_seconds: float | None = None,
    ):
        if isinstance(max_to_keep, bool) or not isinstance(max_to_keep, int) or max_to_keep < 1:
            raise ValueError(f"max_to_keep must be a positive int, got {max_to_keep!r}")
        if best_mode not in ("min", "max"):
            raise ValueError(f"best_mode must be 'min' or 'max', got {best_mode!r}")
        if save_interval_steps is not None and (
            isinstance(save_interval_steps, bool)
            or not isinstance(save_interval_steps, int)
            or save_interval_steps < 1
        ):
            raise ValueError(
                f"save_interval_steps must be a positive int or None, got {save_interval_steps!r}"
            )
        if save_interval_seconds is not None and not (
            isinstance(save_interval_seconds, int | float)
            and math.isfinite(save_interval_seconds)
            and save_interval_seconds > 0
        ):
            raise ValueError(
                "save_interval_seconds must be a positive finite number or None, "
                f"got {save_interval_seconds!r}"
            )
        self.directory = pathlib.Path(directory).absolute()
        self.best_metric = best_metric
        self.best_mode = best_mode
        self.metadata = None if metadata is None else _to_json(dict(metadata))
        self.save_interval_steps = save_interval_steps
        self.save_interval_seconds = save_interval_seconds
        self.latest = _manager(self.directory / "latest", max_to_keep)
        self.best = None if best_metric is None else _manager(self.directory / "best", 1)
        self._cache: tuple[str, int, tuple, _Loaded] | None = None
        self._best_value: float | None = None
        self._best_value_known = False
        self._pending_best: tuple[int, ocp.args.Composite] | None = None
        existing = _step_dirs(self.latest)
        self._last_step = existing[-1] if existing else None
        self._last_time = _now()

    # ------------------------------------------------------------------ saving

    def should_save(self, step: int, *, force: bool = False) -> bool:
        """Whether ``save(step, ...)`` would write a latest checkpoint now.

        Never for a step that already has a checkpoint; always with ``force=True``;
        every call when no interval is set. Otherwise when ``save_interval_steps`` or
        ``save_interval_seconds`` is due and the previous save is on disk: a due save
        never waits for a slow disk, it is taken at the next call instead.
        """
        step = int(step)
        if step in self.latest.all_steps() or step in _step_dirs(self.latest):
            return False
        if force:
            return True
        if self.save_interval_steps is None and self.save_interval_seconds is None:
            return True
        if self.latest.is_saving_in_progress():
            return False
        if self.save_interval_steps is not None:
            if step - (self._last_step or 0) >= self.save_interval_steps:
                return True
        if self.save_interval_seconds is not None:
            if _now() - self._last_time >= self.save_interval_seconds:
                return True
        return False

    def save(
        self,
        step: int,
        tree: PyTree,
        metrics: Mapping[str, Any] | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        force: bool = False,
    ) -> bool:
        """Save ``tree`` as checkpoint ``step`` when due (see :meth:`should_save`).

        The best-checkpoint manager (with ``best_metric``) is offered ``metrics`` on every
        call, due or not, and keeps only an improvement (NaN never is one). While a best
        save is being written, a newer improvement waits in memory and is written at a
        later call, or by ``wait``/``close``: the best checkpoint is always the best seen.

        Args:
            step: the training step (checkpoint name).
            tree: a pytree of arrays (jax or NumPy, typed PRNG keys allowed).
            metrics: scalar metrics of this step; stored, and ranked by ``best_metric``.
            extra: JSON-able data kept with the checkpoint, read back by
                :meth:`restore_extra` (``fit`` stores its history).
            force: save even if no interval is due (end of run, SIGTERM).

        Returns:
            whether a latest checkpoint was written (asynchronously: see :meth:`wait`).
        """
        step = int(step)
        self._cache = None  # the host copy of an older checkpoint is not needed any more
        saving = agree(self.should_save(step, force=force))  # all processes save, or none
        best_value = self._improved_best(step, metrics)
        if not saving and best_value is None:
            return False
        arrays, records = _to_host(tree)
        extra_json = _to_json(dict(extra or {}))
        meta = {
            "format": FORMAT,
            "step": step,
            "arrays": records,
            "metadata": self.metadata or {},
            "versions": run_versions(),
            "metrics": _to_json(dict(metrics or {})),
            "extra": extra_json,
        }
        meta["meta_crc32"] = _json_crc(meta)
        items = ocp.args.Composite(
            arrays=ocp.args.StandardSave(arrays),
            meta=ocp.args.JsonSave(meta),
        )
        if saving:
            self.latest.save(step, args=items, force=True)
            self._last_step = step
            self._last_time = _now()
        if best_value is not None:
            self._best_value = best_value
            self._pending_best = (step, items)  # replaces a worse candidate not yet written
        self._write_best(block=force)
        return saving

    def _write_best(self, *, block: bool) -> None:
        """Write the pending best candidate, unless (without ``block``) a best save is busy."""
        if self.best is None or self._pending_best is None:
            return
        if not block and agree(self.best.is_saving_in_progress()):
            return  # written at a later call, at the latest by wait() or close()
        step, items = self._pending_best
        self._pending_best = None
        if step not in self.best.all_steps():
            self.best.save(step, args=items, force=True)

    def _improved_best(self, step: int, metrics: Mapping[str, Any] | None) -> float | None:
        """The metric value if it beats the best checkpoint's, else ``None``."""
        if self.best is None or not metrics or self.best_metric not in metrics:
            return None
        try:
            value = float(np.asarray(metrics[self.best_metric]))
        except (TypeError, ValueError):
            return None
        if not math.isfinite(value) or step in self.best.all_steps():
            return None
        if not self._best_value_known:
            self._best_value = self._stored_best_value()
            self._best_value_known = True
        if self._best_value is not None:
            better = (
                value < self._best_value if self.best_mode == "min" else value > self._best_value
            )
            if not better:
                return None
        return value

    def _stored_best_value(self) -> float | None:
        for step in reversed(_step_dirs(self.best)):
            try:
                meta = self._read_meta(self.best, step)
                value = float(meta["metrics"][self.best_metric])
            except Exception:  # noqa: BLE001 - any unreadable best is ignored here
                continue
            if math.isfinite(value):
                return value
        return None

    # ----------------------------------------------------------------- reading

    def latest_step(self) -> int | None:
        """The newest checkpoint that verifies, or ``None`` when there is none.

        Corrupt newer ones are skipped (one warning each) and moved aside.

        Raises:
            CheckpointError: checkpoints exist but none verifies.
        """
        self.wait()
        loaded = self._newest_good(self.latest)
        return None if loaded is None else loaded.step

    def best_step(self) -> int | None:
        """The step of the best checkpoint (verified), or ``None``."""
        if self.best is None:
            return None
        self.wait()
        loaded = self._newest_good(self.best)
        return None if loaded is None else loaded.step

    def restore(self, like: PyTree, step: int | None = None, *, best: bool = False) -> PyTree:
        """Restore a verified checkpoint into the structure, shapes and dtypes of ``like``.

        The stored arrays do not depend on the devices they were saved from, so a
        checkpoint written on 8 devices (replicated or sharded state) restores on 1, 4
        or several hosts: each leaf is laid out like ``like``'s leaf. An abstract target
        (``jax.ShapeDtypeStruct`` leaves with a ``sharding``, from
        :func:`abstract_target`) allocates nothing before the restore.

        Args:
            like: a tree with the same structure as what was saved (values ignored); jax
                array leaves come back on ``like``'s devices when they are committed,
                ``jax.ShapeDtypeStruct`` leaves with their ``sharding`` (default device
                when it is ``None``); NumPy and Python leaves come back as such.
            step: which checkpoint; by default the newest one that verifies (or the best
                with ``best=True``). An explicit corrupt ``step`` is an error.
            best: restore from the best-checkpoint manager.

        Raises:
            CheckpointError: no checkpoint, or none that verifies (one line).
            CheckpointMismatchError: the checkpoint holds another tree (one line naming
                the first differing leaves).
        """
        manager = self._manager(best)
        self.wait()
        if step is None:
            loaded = self._newest_good(manager)
            if loaded is None:
                raise CheckpointError(f"no checkpoint under {manager.directory}")
        else:
            loaded = self._verified(manager, int(step))
        self._cache = None
        if not best:
            self._last_step = loaded.step
        return _unflatten(like, loaded, manager.directory / str(loaded.step))

    def restore_extra(self, step: int | None = None, *, best: bool = False) -> dict[str, Any]:
        """The ``extra`` JSON saved with checkpoint ``step`` (default: the latest good one)."""
        return self._json_of(step, best)["extra"]

    def restore_metadata(self, step: int | None = None, *, best: bool = False) -> dict[str, Any]:
        """What was stored beside checkpoint ``step``: step, metadata, versions, metrics."""
        meta = self._json_of(step, best)
        return {k: meta[k] for k in ("step", "metadata", "versions", "metrics")}

    def check_metadata(self, metadata: Mapping[str, Any] | None = None) -> None:
        """Refuse to continue a run whose checkpoint was written with other metadata.

        Compares ``metadata`` (default: the one given to the constructor) with the one
        stored in the latest good checkpoint. Every key must agree (a key missing on one
        side differs) except versions (keys ending in ``_version``, and the versions
        stored automatically): those only warn, since a resume across library upgrades
        is usually fine and bit-for-bit identity is then not promised. Nothing to compare
        (no checkpoint, or ``metadata`` is ``None``) passes.

        Raises:
            CheckpointMismatchError: one line listing the differing keys with both values.
        """
        metadata = self.metadata if metadata is None else _to_json(dict(metadata))
        step = self.latest_step()
        if metadata is None or step is None:
            return
        meta = self._json_of(step, False)
        stored = dict(meta.get("metadata") or {})
        differing, versions = [], []
        for key in sorted(set(stored) | set(metadata)):
            old, new = stored.get(key, _MISSING), metadata.get(key, _MISSING)
            if old != new:
                (versions if key.endswith("_version") else differing).append(
                    f"{key} (checkpoint {_short(old)}, now {_short(new)})"
                )
        for key, now in run_versions().items():
            old = (meta.get("versions") or {}).get(key, _MISSING)
            if old != now and key not in metadata:
                versions.append(f"{key} (checkpoint {_short(old)}, now {_short(now)})")
        where = self.latest.directory / str(step)
        if differing:
            raise CheckpointMismatchError(
                f"checkpoint {where} was written by another run; differing keys: "
                + ", ".join(differing)
            )
        if versions:
            warnings.warn(
                f"checkpoint {where} was written with other versions: " + ", ".join(versions),
                CheckpointWarning,
                stacklevel=2,
            )

    def _json_of(self, step: int | None, best: bool) -> dict[str, Any]:
        manager = self._manager(best)
        self.wait()
        if step is None:
            loaded = self._newest_good(manager)
            if loaded is None:
                raise CheckpointError(f"no checkpoint under {manager.directory}")
            return loaded.meta
        path = manager.directory / str(int(step))
        try:
            meta = self._read_meta(manager, int(step))
            _check_meta(meta)
        except _Corrupt as error:
            raise CheckpointError(f"checkpoint {path} is corrupt: {error}") from None
        except Exception as error:  # noqa: BLE001 - any read failure is one line
            raise CheckpointError(f"checkpoint {path} is unreadable: {_one_line(error)}") from None
        return meta

    def _manager(self, best: bool) -> ocp.CheckpointManager:
        if not best:
            return self.latest
        if self.best is None:
            raise ValueError("best=True needs a Checkpointer created with best_metric")
        return self.best

    def _newest_good(self, manager: ocp.CheckpointManager) -> _Loaded | None:
        """Verify from the newest step down; move aside the corrupt ones above a good one."""
        steps = _step_dirs(manager)
        rejected = []
        for step in reversed(steps):
            try:
                loaded = self._load(manager, step)
            except _Corrupt as error:
                rejected.append((step, str(error)))
                continue
            for bad_step, reason in rejected:
                self._set_aside(manager, bad_step, reason, loaded.step)
            if rejected:
                manager.reload()
            return loaded
        if rejected:
            reasons = "; ".join(f"step {s}: {r}" for s, r in rejected)
            raise CheckpointError(f"no valid checkpoint under {manager.directory} ({reasons})")
        return None

    def _verified(self, manager: ocp.CheckpointManager, step: int) -> _Loaded:
        path = manager.directory / str(step)
        if not path.is_dir():
            raise CheckpointError(f"no checkpoint {path}")
        try:
            return self._load(manager, step)
        except _Corrupt as error:
            raise CheckpointError(f"checkpoint {path} is corrupt: {error}") from None

    def _load(self, manager: ocp.CheckpointManager, step: int) -> _Loaded:
        """Read and verify one checkpoint (cached while its files are unchanged)."""
        path = manager.directory / str(step)
        fingerprint = _fingerprint(path)
        cache = self._cache
        if cache is not None and cache[:3] == (str(manager.directory), step, fingerprint):
            return cache[3]
        if not fingerprint:
            raise _Corrupt("empty directory")
        restored = _quietly(
            manager.restore,
            step,
            args=ocp.args.Composite(
                arrays=ocp.args.StandardRestore(),
                meta=ocp.args.JsonRestore(),
            ),
        )
        meta, arrays = restored["meta"], restored["arrays"]
        _check_meta(meta)
        if meta.get("step") != step:
            raise _Corrupt(f"meta says step {meta.get('step')}")
        records = meta["arrays"]
        if not isinstance(arrays, Mapping) or set(arrays) != set(_array_names(len(records))):
            raise _Corrupt("arrays missing or unexpected")
        values = []
        for name, record in zip(_array_names(len(records)), records, strict=False):
            array = np.asarray(arrays[name])
            if str(array.dtype) != record["dtype"] or list(array.shape) != record["shape"]:
                raise _Corrupt(
                    f"{record['path']} is {array.dtype}{list(array.shape)}, "
                    f"expected {record['dtype']}{record['shape']}"
                )
            if _crc(array) != record["crc32"]:
                raise _Corrupt(f"checksum mismatch in {record['path'] or 'the root leaf'}")
            values.append(array)
        loaded = _Loaded(step, values, meta, meta["extra"])
        self._cache = (str(manager.directory), step, fingerprint, loaded)
        return loaded

    def _read_meta(self, manager: ocp.CheckpointManager, step: int) -> dict[str, Any]:
        restored = _quietly(
            manager.restore, step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())
        )
        return restored["meta"]

    def _set_aside(
        self, manager: ocp.CheckpointManager, step: int, reason: str, good_step: int
    ) -> None:
        path = pathlib.Path(manager.directory) / str(step)
        target = self.directory / "corrupt" / f"{pathlib.Path(manager.directory).name}-{step}"
        suffix = 1
        while target.exists():
            suffix += 1
            target = target.with_name(f"{pathlib.Path(manager.directory).name}-{step}-{suffix}")
        if jax.process_index() == 0:  # one process moves it; the others only skip it
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(path), str(target))
        warnings.warn(
            f"skipping corrupt checkpoint {path} ({reason}); moved to {target}, "
            f"using step {good_step}",
            CheckpointWarning,
            stacklevel=4,
        )

    # ---------------------------------------------------------------- lifecycle

    def wait(self) -> None:
        """Block until asynchronous saves (and a deferred best candidate) are on disk."""
        self.latest.wait_until_finished()
        if self.best is not None:
            self._write_best(block=True)
            self.best.wait_until_finished()

    def close(self) -> None:
        """Wait for pending saves and release orbax's resources."""
        self.wait()
        self.latest.close()
        if self.best is not None:
            self.best.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# --------------------------------------------------------------------- helpers

_MISSING = "<missing>"


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


def _array_names(count: int) -> list[str]:
    # orbax cannot save an empty dict; a tree without leaves stores one empty placeholder.
    return [f"a{i}" for i in range(count)] or ["empty"]


def _dtype_name(leaf: Any) -> str:
    dtype = getattr(leaf, "dtype", None)
    return str(dtype if dtype is not None else np.asarray(leaf).dtype)


def _is_key(leaf: Any) -> bool:
    dtype = getattr(leaf, "dtype", None)
    return dtype is not None and jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key)


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


def _key_impl(leaf: Any) -> Any:
    """The PRNG implementation of a key array or of an abstract key leaf."""
    if isinstance(leaf, jax.ShapeDtypeStruct):
        # an abstract key: its dtype carries the implementation; one dummy key names it
        impl = leaf.dtype._impl
        leaf = jax.random.wrap_key_data(np.zeros(impl.key_shape, np.uint32), impl=impl)
    return jax.random.key_impl(leaf)


def _check_meta(meta: Any) -> None:
    if not isinstance(meta, Mapping) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, Mapping) else None
        raise _Corrupt(f"meta of format {found!r}, expected {FORMAT}")
    if not isinstance(meta.get("arrays"), list) or not isinstance(meta.get("extra"), dict):
        raise _Corrupt("meta incomplete")
    unsigned = {k: v for k, v in meta.items() if k != "meta_crc32"}
    if meta.get("meta_crc32") != _json_crc(unsigned):
        raise _Corrupt("checksum mismatch in meta")


def _crc(array: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(array).reshape(-1).view(np.uint8))


def _json_crc(value: Any) -> int:
    return zlib.crc32(json.dumps(value, sort_keys=True).encode())


def _to_json(value: Any) -> Any:
    """Plain JSON values (NaN and infinities kept); arrays and NumPy scalars unwrapped."""
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_to_json(v) for v in value]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        array = np.asarray(value)
        return _to_json(array.item() if array.ndim == 0 else array.tolist())
    if isinstance(value, np.generic):
        return _to_json(value.item())
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def _short(value: Any) -> str:
    text = value if value is _MISSING else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _one_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = text[0] if text else ""
    first = first if len(first) <= 160 else first[:157] + "..."
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


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
