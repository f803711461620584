"""The graph-classification experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_constructively(tmp_path):
    summary = run_smoke("graph-classification", tmp_path)
    # two constructive stages (layer 1, then layer 2 with layer 1 frozen) through fit
    assert summary["nn4g_final_train_loss"] < summary["nn4g_first_train_loss"]
    assert 0.0 <= summary["nn4g_test_accuracy"] <= 1.0
    assert 0.2 < summary["positive_fraction"] < 0.8  # a balanced, non-trivial task
    for name in ("summary.json", "val_accuracy.png", "test_accuracy.png"):
        assert (tmp_path / name).exists(), name
