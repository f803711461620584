"""sgd-batch-sizes smoke run: every variant's loss falls; small batches descend faster per epoch."""

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_smoke(tmp_path):
    summary = run_smoke("sgd-batch-sizes", tmp_path)
    for key in ("gd", "b4", "b64"):
        assert summary[f"{key}_final_train_loss"] < summary[f"{key}_first_train_loss"]
    assert summary["b4_final_train_loss"] < summary["gd_final_train_loss"]
    assert (tmp_path / "loss.png").exists()
