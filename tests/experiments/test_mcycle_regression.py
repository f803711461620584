"""mcycle-regression smoke run: the MSE falls below the variance of the targets."""

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_smoke(tmp_path):
    summary = run_smoke("mcycle-regression", tmp_path)
    assert summary["final_train_loss"] < 0.8 * summary["first_train_loss"]
    assert summary["train_rmse_g"] < summary["target_std_g"]
    for name in ("fit.png", "loss.png", "metrics.jsonl", "summary.json"):
        assert (tmp_path / name).exists(), name
