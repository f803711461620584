"""mcycle-regression smoke run: the MSE falls below the variance of the targets."""

import pytest

from experiments.mcycle_regression.configs import smoke
from experiments.mcycle_regression.train import train_and_evaluate


@pytest.mark.standard_dtype_promotion
def test_smoke(tmp_path):
    summary = train_and_evaluate(smoke.get_config(), str(tmp_path))
    assert summary["final_train_loss"] < 0.8 * summary["first_train_loss"]
    assert summary["train_rmse_g"] < summary["target_std_g"]
    for name in ("fit.png", "loss.png", "metrics.jsonl", "summary.json"):
        assert (tmp_path / name).exists(), name
