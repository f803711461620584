"""activation-boundaries smoke run: both networks learn; the boundary plot is written."""

import pytest

from experiments.activation_boundaries.configs import smoke
from experiments.activation_boundaries.train import train_and_evaluate


@pytest.mark.standard_dtype_promotion
def test_smoke(tmp_path):
    summary = train_and_evaluate(smoke.get_config(), str(tmp_path))
    for name in ("tanh", "relu"):
        assert summary[f"{name}_final_train_loss"] < summary[f"{name}_first_train_loss"]
    assert (tmp_path / "decision_boundaries.png").exists()
