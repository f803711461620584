"""RunLogger and to_json_value: metrics as JSON lines, truncation on resume, summaries."""

from __future__ import annotations

import json
import pathlib

import jax.numpy as jnp
import numpy as np

from jaxdl.training import RunLogger
from jaxdl.training.logging import to_json_value


def test_log_appends_records_and_read_metrics_returns_them(tmp_path):
    logger = RunLogger(tmp_path / "new" / "run")  # created with its parents
    assert logger.read_metrics() == []
    logger.log(1, train_loss=jnp.asarray(0.5), epoch=np.int64(1))
    logger.log(2, train_loss=0.25, epoch=2)
    assert logger.read_metrics() == [
        {"train_loss": 0.5, "epoch": 1, "step": 1},
        {"train_loss": 0.25, "epoch": 2, "step": 2},
    ]
    assert len(logger.metrics_path.read_text().splitlines()) == 2


def test_truncate_drops_later_records_and_keeps_earlier_ones(tmp_path):
    logger = RunLogger(tmp_path)
    logger.truncate(5)  # nothing logged yet: a no-op
    assert not logger.metrics_path.exists()
    for step in (4, 8, 12, 16):
        logger.log(step, train_loss=1.0 / step)
    logger.truncate(8)
    assert [r["step"] for r in logger.read_metrics()] == [4, 8]
    assert logger.read_metrics()[1]["train_loss"] == 1.0 / 8
    logger.log(12, train_loss=0.0)  # a resumed run appends after what it kept
    assert [r["step"] for r in logger.read_metrics()] == [4, 8, 12]
    logger.truncate(0)
    assert logger.read_metrics() == []


def test_write_summary_and_config_hold_plain_json(tmp_path):
    logger = RunLogger(tmp_path)
    summary = {
        "loss": float("nan"),
        "best": np.float32(0.5),
        "curve": jnp.array([1.0, jnp.inf]),
        "nested": {"path": pathlib.Path("a/b"), "pair": (1, np.int32(2))},
    }
    path = logger.write_summary(summary)
    assert path == tmp_path / "summary.json"
    assert json.loads(path.read_text()) == {
        "loss": None,
        "best": 0.5,
        "curve": [1.0, None],
        "nested": {"path": "a/b", "pair": [1, 2]},
    }
    config_path = logger.write_config({"seed": 0, "hidden": (4, 4)})
    assert json.loads(config_path.read_text()) == {"hidden": [4, 4], "seed": 0}


def test_to_json_value_converts_arrays_scalars_and_non_finite_floats():
    assert to_json_value(np.arange(3).reshape(1, 3)) == [[0, 1, 2]]
    assert to_json_value(jnp.asarray(2.0)) == 2.0
    assert to_json_value(np.bool_(True)) is True
    assert to_json_value([float("-inf"), 1.5, "x"]) == [None, 1.5, "x"]
    assert to_json_value({1: np.float64("nan")}) == {"1": None}
