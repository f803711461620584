"""Checkpoints through orbax: the latest few for resuming, the best one for keeping."""

from __future__ import annotations

import json
import pathlib
import time
from typing import Any

import jax
import orbax.checkpoint as ocp

from jaxdl.typing import PyTree


class CheckpointError(Exception):
    """A checkpoint cannot be used (missing, corrupt or from another run)."""


class CheckpointMismatchError(CheckpointError):
    """The run metadata stored with the checkpoints differs from this run's."""


class Checkpointer:
    """Two orbax ``CheckpointManager``s under one directory.

    ``<directory>/latest`` keeps the ``max_to_keep`` most recent states (what a resumed
    run continues from); ``<directory>/best`` keeps the single state with the best
    ``best_metric`` (when one is given).

    Args:
        directory: where checkpoints live (created if missing).
        max_to_keep: how many recent checkpoints to keep.
        best_metric: a metric name passed with ``save(..., metrics=...)``, or ``None``.
        best_mode: ``"min"`` or ``"max"``.

    Example:
        >>> import tempfile
        >>> import jax.numpy as jnp
        >>> like = {"w": jnp.zeros(3)}
        >>> with (tempfile.TemporaryDirectory() as directory,
        ...       Checkpointer(directory, best_metric="val_loss") as checkpointer):
        ...     _ = checkpointer.save(1, {"w": jnp.arange(3.0)}, metrics={"val_loss": 0.5})
        ...     _ = checkpointer.save(2, {"w": jnp.ones(3)}, metrics={"val_loss": 0.9})
        ...     checkpointer.wait()
        ...     steps = checkpointer.latest_step(), checkpointer.best_step()
        ...     best = checkpointer.restore(like, best=True)
        >>> steps, best["w"].tolist()
        ((2, 1), [0.0, 1.0, 2.0])
    """

    def __init__(
        self,
        directory: str | pathlib.Path,
        *,
        max_to_keep: int = 2,
        best_metric: str | None = None,
        best_mode: str = "min",
        metadata: dict[str, Any] | None = None,
        save_interval_steps: int | None = None,
        save_interval_seconds: float | None = None,
    ):
        self.directory = pathlib.Path(directory).absolute()
        self.best_metric = best_metric
        self.metadata = metadata
        self.save_interval_steps = save_interval_steps
        self.save_interval_seconds = save_interval_seconds
        self._last_saved_step: int | None = None
        self._last_saved_time = time.monotonic()
        self.latest = ocp.CheckpointManager(
            self.directory / "latest",
            options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True),
        )
        self.best = None
        if best_metric is not None:
            self.best = ocp.CheckpointManager(
                self.directory / "best",
                options=ocp.CheckpointManagerOptions(
                    max_to_keep=1,
                    best_fn=lambda metrics: metrics[best_metric],
                    best_mode=best_mode,
                    create=True,
                ),
            )

    def _due(self, step: int) -> bool:
        if self.save_interval_steps is None and self.save_interval_seconds is None:
            return True
        if self.save_interval_steps is not None:
            last = self._last_saved_step if self._last_saved_step is not None else 0
            if step - last >= self.save_interval_steps:
                return True
        if self.save_interval_seconds is not None:
            if time.monotonic() - self._last_saved_time >= self.save_interval_seconds:
                return True
        return False

    def save(
        self,
        step: int,
        tree: PyTree,
        metrics: dict[str, float] | None = None,
        *,
        extra: dict[str, Any] | None = None,
        force: bool = False,
    ) -> bool:
        """Save ``tree`` as checkpoint ``step`` when due (or ``force``); returns whether saved."""
        if not force and not self._due(step):
            return False
        if self.latest.latest_step() == step:
            return False
        if self.metadata is not None:
            (self.directory / "metadata.json").write_text(json.dumps(self.metadata, default=str))
        if extra is not None:
            (self.directory / "extra").mkdir(parents=True, exist_ok=True)
            (self.directory / "extra" / f"{step}.json").write_text(json.dumps(extra))
        self._last_saved_step = step
        self._last_saved_time = time.monotonic()
        self.latest.save(step, args=ocp.args.StandardSave(tree))
        if self.best is not None and metrics is not None and self.best_metric in metrics:
            value = metrics[self.best_metric]
            if value is not None and value == value:  # skip NaN
                self.best.save(step, args=ocp.args.StandardSave(tree), metrics=metrics)
        return True

    def restore_extra(self, step: int) -> dict[str, Any]:
        """The JSON ``extra`` saved with checkpoint ``step`` (``{}`` when none)."""
        path = self.directory / "extra" / f"{step}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def check_metadata(self, metadata: dict[str, Any] | None) -> None:
        """Raise :class:`CheckpointMismatchError` naming the keys that differ."""
        path = self.directory / "metadata.json"
        if metadata is None or not path.exists():
            return
        stored = json.loads(path.read_text())
        current = json.loads(json.dumps(metadata, default=str))
        differing = sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))
        if differing:
            raise CheckpointMismatchError(
                f"the checkpoints in {self.directory} belong to another run: {differing} differ"
            )

    def latest_step(self) -> int | None:
        return self.latest.latest_step()

    def best_step(self) -> int | None:
        return None if self.best is None else self.best.best_step()

    def restore(self, like: PyTree, step: int | None = None, *, best: bool = False) -> PyTree:
        """Restore a checkpoint into the structure, shapes and dtypes of ``like``.

        Args:
            like: a tree with the same structure as what was saved (values ignored).
            step: which checkpoint; the latest (or the best with ``best=True``) by default.
            best: restore from the best-checkpoint manager.
        """
        manager = self.best if best else self.latest
        if manager is None:
            raise ValueError("best=True needs a Checkpointer created with best_metric")
        if step is None:
            step = manager.best_step() if best else manager.latest_step()
        if step is None:
            raise FileNotFoundError(f"no checkpoint under {manager.directory}")
        abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, like)
        return manager.restore(step, args=ocp.args.StandardRestore(abstract))

    def wait(self) -> None:
        """Block until asynchronous saves are on disk."""
        self.latest.wait_until_finished()
        if self.best is not None:
            self.best.wait_until_finished()

    def close(self) -> None:
        self.wait()
        self.latest.close()
        if self.best is not None:
            self.best.close()

    def __enter__(self) -> Checkpointer:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
