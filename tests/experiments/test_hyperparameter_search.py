"""Smoke run of experiments/hyperparameter_search: loss falls, every method scored."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_hyperparameter_search_smoke(tmp_path):
    summary = run_smoke("hyperparameter-search", tmp_path)
    assert summary["final_train_loss"] < summary["first_train_loss"]
    for method in ("grid", "random", "model_based"):
        scores = summary[f"{method}_best_scores"]
        assert len(scores) == 1 and 0.0 <= scores[0] <= 1.0
    for name in ("metrics.jsonl", "summary.json", "best_so_far.png", "surrogate.png", "loss.png"):
        assert (tmp_path / name).exists(), name
