"""The string-reversal experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_plots_attention(tmp_path):
    summary = run_smoke("string-reversal", tmp_path)
    assert summary["final_train_loss"] < 0.8 * summary["first_train_loss"]
    assert summary["test_token_accuracy"] > 1 / 6  # better than chance over 6 letters
    for name in ("config.json", "metrics.jsonl", "summary.json", "loss.png", "attention.png"):
        assert (tmp_path / name).exists(), name
