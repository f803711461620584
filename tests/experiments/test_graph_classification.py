"""The graph-classification experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_for_every_model(tmp_path):
    summary = run_smoke("graph-classification", tmp_path)
    for model in ("nn4g", "gcn"):
        assert summary[f"{model}_final_train_loss"] < summary[f"{model}_first_train_loss"], model
        assert 0.0 <= summary[f"{model}_test_accuracy"] <= 1.0
    assert 0.2 < summary["positive_fraction"] < 0.8  # a balanced, non-trivial task
    for name in ("summary.json", "val_accuracy.png", "test_accuracy.png"):
        assert (tmp_path / name).exists(), name
