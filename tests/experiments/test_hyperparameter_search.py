"""Smoke run of experiments/hyperparameter_search: loss falls, tables filled, files exist."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_hyperparameter_search_smoke(tmp_path):
    summary = run_smoke("hyperparameter-search", tmp_path)
    assert summary["final_train_loss"] < summary["first_train_loss"]
    assert summary["random_distinct_learning_rates"] == 4
    assert summary["grid_distinct_learning_rates"] == 2
    assert len(summary["learning_rate_validation_error"]) == 3
    assert len(summary["capacity_validation_error"]) == 1
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "learning_rate_u_curve.png",
        "capacity_u_curve.png",
        "grid_vs_random.png",
        "loss.png",
    ):
        assert (tmp_path / name).exists(), name
