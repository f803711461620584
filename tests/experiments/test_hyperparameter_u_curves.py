"""Smoke run of experiments/hyperparameter_u_curves: loss falls, tables filled, files exist."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_hyperparameter_u_curves_smoke(tmp_path):
    summary = run_smoke("hyperparameter-u-curves", tmp_path)
    assert summary["final_train_loss"] < summary["first_train_loss"]
    assert len(summary["learning_rate_validation_error"]) == 3
    assert len(summary["capacity_validation_error"]) == 1
    for name in ("metrics.jsonl", "learning_rate_u_curve.png", "capacity_u_curve.png"):
        assert (tmp_path / name).exists(), name
