"""The mnist1d-mlp experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import json

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_writes_its_directory(tmp_path):
    summary = run_smoke("mnist1d-mlp", tmp_path)
    assert summary["final_train_loss"] < 0.8 * summary["first_train_loss"]
    assert summary["test_accuracy"] > 0.2  # ten classes: chance is 0.1
    for name in ("config.json", "metrics.jsonl", "summary.json", "loss.png", "accuracy.png"):
        assert (tmp_path / name).exists(), name
    assert (tmp_path / "checkpoints" / "latest").is_dir()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == summary["num_epochs"]
    assert json.loads((tmp_path / "summary.json").read_text())["test_accuracy"] == pytest.approx(
        summary["test_accuracy"]
    )
