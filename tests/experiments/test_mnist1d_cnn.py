"""The mnist1d-cnn experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns(tmp_path):
    summary = run_smoke("mnist1d-cnn", tmp_path)
    assert summary["final_train_loss"] < 0.9 * summary["first_train_loss"]
    assert summary["test_accuracy"] > 0.15  # ten classes: chance is 0.1
    assert (tmp_path / "accuracy.png").exists() and (tmp_path / "loss.png").exists()
