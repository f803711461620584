"""Smoke run of experiments/regularization: losses fall, L1 gives exact zeros, files exist."""

from __future__ import annotations

import json

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_regularization_smoke(tmp_path):
    summary = run_smoke("regularization", tmp_path)
    assert summary["final_train_loss_early_stopping"] < summary["first_train_loss_early_stopping"]
    for run in ("l2",):
        final = summary[f"sparsity_final_train_loss_{run}"]
        assert final < summary[f"sparsity_first_train_loss_{run}"]
    # proximal L1 produces exact zeros; L2 and no penalty do not
    assert summary["zero_fraction_l1"] > 0.2
    assert summary["zero_fraction_l2"] == 0.0
    assert summary["early_stopping_retrain_steps"] >= summary["early_stopping_best_step"] >= 1
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "weights_histogram.png",
        "overfitting_loss.png",
        "decision_boundaries.png",
        "sparsity_loss.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
    assert json.loads((tmp_path / "summary.json").read_text())["zero_fraction_l2"] == 0.0
    runs = {
        json.loads(line)["run"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
    }
    assert runs == {"sparsity_l2", "sparsity_l1", "early_stopping"}


def test_regularization_rejects_unknown_runs(tmp_path):
    from jaxdl.cli import UsageError

    with pytest.raises(UsageError, match="sparsity_runs must be among"):
        run_smoke("regularization", tmp_path / "run", sparsity_runs=["l3"])
    assert not (tmp_path / "run").exists()
