"""iris-mlp smoke run: the MSE falls and the run directory is written."""

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_smoke(tmp_path):
    summary = run_smoke("iris-mlp", tmp_path)
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
