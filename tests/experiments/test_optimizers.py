"""Smoke run of experiments/optimizers: every optimizer's loss falls; momentum beats GD."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.optimizers.configs import smoke
from experiments.optimizers.train import OPTIMIZERS, steps_to_tolerance
from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion  # optax's Adam mixes int32 and floats
def test_optimizers_smoke(tmp_path):
    config = smoke.get_config()
    summary = run_smoke("optimizers", tmp_path)
    assert set(config["optimizers"]) <= set(OPTIMIZERS)
    for name in config["optimizers"]:
        assert summary[f"{name}_final_train_loss"] < summary[f"{name}_first_train_loss"], name
    assert 0 < summary["momentum_steps_to_tolerance"] < summary["gd_steps_to_tolerance"]
    assert summary["cg_final_loss"] < 1e-6 and summary["newton_final_loss"] < 1e-6
    assert summary["valley_condition_number"] == pytest.approx(25.0)
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "loss_curves.png",
        "valley_trajectories.png",
        "valley_loss.png",
    ):
        assert (tmp_path / name).stat().st_size > 0


def test_steps_to_tolerance():
    assert steps_to_tolerance(np.array([3.0, 1.0, 0.1, 0.01]), 0.5) == 2
    assert steps_to_tolerance(np.array([3.0, 1.0]), 0.5) == -1
