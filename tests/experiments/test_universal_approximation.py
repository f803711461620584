"""Smoke run of experiments/universal_approximation: loss falls, width helps, files exist."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_universal_approximation_smoke(tmp_path):
    summary = run_smoke("universal-approximation", tmp_path)
    assert summary["final_train_loss"] < 0.5 * summary["first_train_loss"]
    narrow, wide = summary["sup_error_by_width"]
    assert wide < narrow
    assert [row["depth"] for row in summary["depth_comparison"]] == [2]
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "sup_error_vs_width.png",
        "depth_vs_width_loss.png",
        "fits.png",
    ):
        assert (tmp_path / name).exists(), name
