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

The pieces live in two private modules, re-exported here: ``_checkpoint_io`` (host
transfer, multi-process gathering, placement on restore, orbax managers and step
directories) and ``_checkpoint_verify`` (format, checksums, hashes, errors).
"""

from __future__ import annotations

import functools
import importlib.metadata
import math
import os
import pathlib
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import orbax.checkpoint as ocp

from jaxdl.training._checkpoint_io import (
    _fingerprint,
    _manager,
    _quietly,
    _set_aside,
    _step_dirs,
    _to_host,
    _unflatten,
    abstract_target,
)
from jaxdl.training._checkpoint_verify import (
    FORMAT,
    CheckpointError,
    CheckpointMismatchError,
    CheckpointWarning,
    _check_meta,
    _Corrupt,
    _differences,
    _json_crc,
    _Loaded,
    _one_line,
    _to_json,
    _verify,
    config_hash,
    structure_hash,
)
from jaxdl.training.distributed import agree
from jaxdl.typing import PyTree

__all__ = [
    "FORMAT",
    "CheckpointError",
    "CheckpointMismatchError",
    "CheckpointWarning",
    "Checkpointer",
    "abstract_target",
    "config_hash",
    "restore_checkpoint",
    "run_versions",
    "structure_hash",
]

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
        differing, versions = _differences(meta, metadata, run_versions())
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
                _set_aside(self.directory, manager, bad_step, reason, loaded.step)
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
        loaded = _verify(step, restored["meta"], restored["arrays"])
        self._cache = (str(manager.directory), step, fingerprint, loaded)
        return loaded

    def _read_meta(self, manager: ocp.CheckpointManager, step: int) -> dict[str, Any]:
        restored = _quietly(
            manager.restore, step, args=ocp.args.Composite(meta=ocp.args.JsonRestore())
        )
        return restored["meta"]

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
