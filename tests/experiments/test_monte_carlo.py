"""Smoke run of experiments/monte_carlo: IS beats plain MC, q* is exact, the chain converges."""

from __future__ import annotations

from tests.experiments import run_smoke


def test_monte_carlo_smoke(tmp_path):
    summary = run_smoke("monte-carlo", tmp_path)
    # The estimators' spread (the "loss" of this experiment) falls with n and with IS.
    assert summary["rare_event_plain_sd_n1000"] < summary["rare_event_plain_sd_n100"]
    assert summary["rare_event_is_sd_n1000"] < summary["rare_event_is_sd_n100"]
    assert summary["rare_event_variance_ratio"] > 10
    assert summary["discrete_optimal_standard_error"] < 1e-5
    assert summary["discrete_optimal_standard_error"] < summary["discrete_plain_standard_error"]
    assert summary["markov_tv_last"] < 1e-5 < summary["markov_tv_first"]
    assert summary["markov_power_vs_eigen_max_diff"] < 1e-5
    assert summary["markov_max_frequency_error_in_se"] < 5
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "rare_event_sd.png",
        "markov_convergence.png",
    ):
        assert (tmp_path / name).stat().st_size > 0
