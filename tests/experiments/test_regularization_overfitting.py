"""Smoke run of experiments/regularization_overfitting: early stopping and the retrain."""

from __future__ import annotations

import json

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_regularization_overfitting_smoke(tmp_path):
    summary = run_smoke("regularization-overfitting", tmp_path)
    assert summary["final_train_loss_early_stopping"] < summary["first_train_loss_early_stopping"]
    assert summary["early_stopping_retrain_steps"] >= summary["early_stopping_best_step"] >= 1
    for name in ("early_stopping", "early_stopping_retrain"):
        assert 0.5 < summary[f"test_accuracy_{name}"] <= 1.0, name  # two classes: chance 0.5
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "loss.png",
        "decision_boundaries.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
    runs = {
        json.loads(line)["run"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
    }
    assert runs == {"early_stopping"}


def test_regularization_overfitting_rejects_unknown_runs(tmp_path):
    from jaxdl.cli import UsageError

    with pytest.raises(UsageError, match="runs must be among"):
        run_smoke("regularization-overfitting", tmp_path / "run", runs=["bagging"])
    assert not (tmp_path / "run").exists()
