"""The karate-club experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_plots_the_embeddings(tmp_path):
    summary = run_smoke("karate-club", tmp_path)
    assert summary["final_train_loss"] < 0.8 * summary["first_train_loss"]
    assert summary["test_accuracy"] >= 0.6  # two clubs: chance is about 0.5
    for name in ("config.json", "summary.json", "loss.png", "embeddings.png"):
        assert (tmp_path / name).exists(), name
