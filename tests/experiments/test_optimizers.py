"""Smoke run of experiments/optimizers: every optimizer's training loss falls."""

from __future__ import annotations

import pytest

from experiments.optimizers.configs import smoke
from experiments.optimizers.train import OPTIMIZERS
from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion  # optax's Adam mixes int32 and floats
def test_optimizers_smoke(tmp_path):
    config = smoke.get_config()
    summary = run_smoke("optimizers", tmp_path)
    assert set(config["optimizers"]) <= set(OPTIMIZERS)
    for name in config["optimizers"]:
        assert summary[f"{name}_final_train_loss"] < summary[f"{name}_first_train_loss"], name
        assert 0.3 < summary[f"{name}_test_accuracy"] <= 1.0, name  # ten classes: chance 0.1
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "loss_curves.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
