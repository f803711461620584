"""sgd-batch-sizes smoke run: every variant's loss falls; small batches descend faster per epoch."""

import pytest

from experiments.sgd_batch_sizes.configs import smoke
from experiments.sgd_batch_sizes.train import train_and_evaluate


@pytest.mark.standard_dtype_promotion
def test_smoke(tmp_path):
    summary = train_and_evaluate(smoke.get_config(), str(tmp_path))
    for key in ("gd", "b4", "b64"):
        assert summary[f"{key}_final_train_loss"] < summary[f"{key}_first_train_loss"]
    assert summary["b4_final_train_loss"] < summary["gd_final_train_loss"]
    assert (tmp_path / "loss.png").exists()
