"""The link-prediction experiment's smoke config runs end to end and learns."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_ranks_held_out_edges(tmp_path):
    summary = run_smoke("link-prediction", tmp_path)
    assert summary["final_train_loss"] < 0.9 * summary["first_train_loss"]
    assert summary["test_roc_auc"] > 0.6  # two dense communities: held-out edges rank high
    assert 0.0 <= summary["test_average_precision"] <= 1.0
    for name in ("summary.json", "roc_pr.png", "loss.png"):
        assert (tmp_path / name).exists(), name
