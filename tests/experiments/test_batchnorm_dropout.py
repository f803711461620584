"""The batchnorm-dropout smoke config: batch statistics flow through fit; the final phase runs."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_with_both_statistics(tmp_path):
    summary = run_smoke("batchnorm-dropout", tmp_path)
    assert summary["batchnorm_final_train_loss"] < 0.8 * summary["batchnorm_first_train_loss"]
    for statistics in ("running_average", "final_phase"):
        assert summary[f"batchnorm_test_accuracy_{statistics}"] > 0.3  # chance is 0.1
    assert (tmp_path / "val_accuracy.png").exists() and (tmp_path / "train_loss.png").exists()
