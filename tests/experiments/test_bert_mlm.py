"""The bert-mlm experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_plots_attention(tmp_path):
    summary = run_smoke("bert-mlm", tmp_path)
    assert summary["final_train_loss"] < 0.95 * summary["first_train_loss"]
    assert 0.0 <= summary["test_masked_accuracy"] <= 1.0
    assert 0.10 < summary["test_selected_fraction"] < 0.20  # 15 % of the positions
    for name in ("config.json", "summary.json", "loss.png", "attention.png", "fill_in.txt"):
        assert (tmp_path / name).exists(), name
