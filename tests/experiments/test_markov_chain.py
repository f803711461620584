"""Smoke run of experiments/markov_chain: the chain converges to its stationary law."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke


def test_markov_chain_smoke(tmp_path):
    summary = run_smoke("markov-chain", tmp_path)
    assert summary["tv_last"] < 1e-5 < summary["tv_first"]
    assert summary["power_vs_eigen_max_diff"] < 1e-5
    assert summary["max_frequency_error_in_se"] < 5
    assert sum(summary["stationary"]) == pytest.approx(1.0, abs=1e-5)
    # TV after t steps is at most a constant times |lambda_2|^t (here |lambda_2| = 0.3)
    assert summary["second_eigenvalue_modulus"] == pytest.approx(0.3, abs=1e-5)
    assert 0 < summary["steps_to_tv_1e-6"] <= 20
    for name in ("config.json", "metrics.jsonl", "summary.json", "convergence.png"):
        assert (tmp_path / name).stat().st_size > 0
