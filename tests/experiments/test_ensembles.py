"""Smoke run of experiments/ensembles: loss falls, boosting helps stumps, files exist."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_ensembles_smoke(tmp_path):
    summary = run_smoke("ensembles", tmp_path)
    assert summary["final_train_loss"] < summary["first_train_loss"]
    assert summary["boosted_stumps_test_accuracy"] > summary["single_stump_test_accuracy"]
    assert len(summary["bagging_accuracy_by_members"]) == 3
    assert 0.0 <= summary["bagging_out_of_bag_accuracy"] <= 1.0
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "bagging_members.png",
        "boosting_rounds.png",
        "loss.png",
    ):
        assert (tmp_path / name).exists(), name
