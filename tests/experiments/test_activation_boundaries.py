"""activation-boundaries smoke run: both networks learn; the boundary plot is written."""

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_smoke(tmp_path):
    summary = run_smoke("activation-boundaries", tmp_path)
    for name in ("tanh", "relu"):
        assert summary[f"{name}_final_train_loss"] < summary[f"{name}_first_train_loss"]
    assert (tmp_path / "decision_boundaries.png").exists()
