"""Smoke run of experiments/optimal_proposal: q* = p f / Z is exact, the others are not."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


def test_optimal_proposal_smoke(tmp_path):
    summary = run_smoke("optimal-proposal", tmp_path)
    assert summary["exact"] == pytest.approx(1.95)
    assert summary["optimal_standard_error"] < 1e-5
    assert summary["optimal_mean"] == pytest.approx(summary["exact"], rel=1e-5)
    assert summary["optimal_standard_error"] < summary["uniform_standard_error"]
    assert summary["uniform_standard_error"] < summary["plain_standard_error"]
    for name in ("plain", "uniform"):  # unbiased: within 4 standard errors
        error = abs(summary[f"{name}_mean"] - summary["exact"])
        assert error < 4 * summary[f"{name}_standard_error"], name
    for name in ("config.json", "metrics.jsonl", "summary.json", "estimates.png"):
        assert (tmp_path / name).stat().st_size > 0
