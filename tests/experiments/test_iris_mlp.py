"""iris-mlp smoke run: the MSE falls and the run directory is written."""

import pytest

from experiments.iris_mlp.configs import smoke
from experiments.iris_mlp.train import train_and_evaluate


@pytest.mark.standard_dtype_promotion
def test_smoke(tmp_path):
    summary = train_and_evaluate(smoke.get_config(), str(tmp_path))
    assert summary["final_train_loss"] < 0.8 * summary["first_train_loss"]
    assert summary["test_accuracy"] > 0.6  # three classes: chance is 1/3
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "loss.png",
        "decision_regions.png",
    ):
        assert (tmp_path / name).exists(), name
