"""Smoke run of experiments/ill_conditioning: momentum beats GD; CG and Newton are exact."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.ill_conditioning.train import steps_to_tolerance
from tests.experiments import run_smoke


def test_ill_conditioning_smoke(tmp_path):
    summary = run_smoke("ill-conditioning", tmp_path)
    assert 0 < summary["momentum_steps_to_tolerance"] < summary["gd_steps_to_tolerance"]
    assert summary["cg_final_loss"] < 1e-6 and summary["newton_final_loss"] < 1e-6
    assert summary["condition_number"] == pytest.approx(25.0)
    for name in ("config.json", "metrics.jsonl", "summary.json", "trajectories.png", "loss.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_steps_to_tolerance():
    assert steps_to_tolerance(np.array([3.0, 1.0, 0.1, 0.01]), 0.5) == 2
    assert steps_to_tolerance(np.array([3.0, 1.0]), 0.5) == -1
