"""Smoke run of experiments/initialization_symmetry: constant weights keep units identical."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.initialization_symmetry.train import unit_spread
from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_initialization_symmetry_smoke(tmp_path):
    summary = run_smoke("initialization-symmetry", tmp_path)
    assert summary["random_final_train_loss"] < summary["random_first_train_loss"]
    # constant weights: the hidden units start and stay identical
    assert summary["symmetric_initial_unit_spread"] == 0.0
    assert summary["symmetric_unit_spread"] == 0.0
    assert summary["random_unit_spread"] > 0.0
    # one effective hidden unit cannot fit XOR: the symmetric net lags the random one
    assert summary["random_final_train_loss"] < summary["symmetric_final_train_loss"]
    for name in ("config.json", "metrics.jsonl", "summary.json", "loss.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_unit_spread():
    assert unit_spread(np.ones((3, 4))) == 0.0
    assert unit_spread(np.array([[1.0, 1.5], [2.0, 0.0]])) == 2.0
