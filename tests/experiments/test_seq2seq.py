"""The seq2seq experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_in_both_training_modes(tmp_path):
    summary = run_smoke("seq2seq", tmp_path)
    forced = summary["teacher_forcing"]
    assert forced["final_train_loss"] < 0.9 * forced["first_train_loss"]
    assert 0.0 <= summary["free_running"]["test_exact_match"] <= 1.0
    assert forced["test_token_accuracy"] > 0.25  # four symbols: chance is 0.25
    assert (tmp_path / "exact_match.png").exists()
