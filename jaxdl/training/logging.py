"""Run directories: config, metrics as JSON lines, summary."""

from __future__ import annotations

import json
import math
import pathlib
from collections.abc import Mapping
from typing import Any

import numpy as np


def to_json_value(value: Any) -> Any:
    """Convert arrays, NumPy scalars and non-finite floats into plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v) for v in value]
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        arr = np.asarray(value)
        return to_json_value(arr.item() if arr.ndim == 0 else arr.tolist())
    if isinstance(value, np.generic):
        return to_json_value(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, pathlib.Path):
        return str(value)
    return value


class RunLogger:
    """Writes one run's directory: ``config.json``, ``metrics.jsonl``, ``summary.json``.

    Example:
        >>> import tempfile
        >>> logger = RunLogger(tempfile.mkdtemp())
        >>> logger.log(10, train_loss=0.5)
        >>> logger.read_metrics()
        [{'train_loss': 0.5, 'step': 10}]
    """

    def __init__(self, workdir: str | pathlib.Path):
        self.workdir = pathlib.Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.metrics_path = self.workdir / "metrics.jsonl"

    def log(self, step: int, /, **metrics: Any) -> None:
        """Append ``{"step": step, **metrics}`` as one JSON line."""
        record = {**to_json_value(metrics), "step": int(step)}
        with self.metrics_path.open("a") as f:
            f.write(json.dumps(record) + "\n")

    def truncate(self, step: int) -> None:
        """Drop every ``metrics.jsonl`` record with ``step > step`` (called on resume).

        A run resumed from the checkpoint of ``step`` then appends its new epochs after
        the ones it kept, so the log holds the whole run once.

        Example:
            >>> import tempfile
            >>> logger = RunLogger(tempfile.mkdtemp())
            >>> for step in (10, 20, 30):
            ...     logger.log(step, train_loss=1.0 / step)
            >>> logger.truncate(20)
            >>> [record["step"] for record in logger.read_metrics()]
            [10, 20]
        """
        if not self.metrics_path.exists():
            return
        kept = [
            line
            for line in self.metrics_path.read_text().splitlines()
            if line and json.loads(line).get("step", 0) <= step
        ]
        tmp = self.metrics_path.with_suffix(".jsonl.tmp")
        tmp.write_text("".join(line + "\n" for line in kept))
        tmp.replace(self.metrics_path)

    def write_config(self, config: Mapping[str, Any]) -> pathlib.Path:
        path = self.workdir / "config.json"
        path.write_text(json.dumps(to_json_value(dict(config)), indent=2, sort_keys=True))
        return path

    def write_summary(self, summary: Mapping[str, Any]) -> pathlib.Path:
        path = self.workdir / "summary.json"
        path.write_text(json.dumps(to_json_value(dict(summary)), indent=2, sort_keys=True))
        return path

    def read_metrics(self) -> list[dict[str, Any]]:
        """All records logged so far."""
        if not self.metrics_path.exists():
            return []
        return [json.loads(line) for line in self.metrics_path.read_text().splitlines() if line]
