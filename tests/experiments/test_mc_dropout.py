"""Smoke run of experiments/mc_dropout: the loss falls and MC dropout gives a spread."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion  # optax's Adam mixes int32 and floats
def test_mc_dropout_smoke(tmp_path):
    summary = run_smoke("mc-dropout", tmp_path)
    assert summary["final_train_loss"] < summary["first_train_loss"]
    assert summary["mc_std_inside_training_range"] > 0
    assert summary["mc_std_outside_training_range"] > 0
    for name in ("config.json", "metrics.jsonl", "summary.json", "predictive.png", "loss.png"):
        assert (tmp_path / name).stat().st_size > 0
