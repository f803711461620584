"""Smoke run of experiments/importance_sampling: IS has a far smaller spread than plain MC."""

from __future__ import annotations

from tests.experiments import run_smoke


def test_importance_sampling_smoke(tmp_path):
    summary = run_smoke("importance-sampling", tmp_path)
    # The estimators' spread (the "loss" of this experiment) falls with n and with IS.
    assert summary["plain_sd_n1000"] < summary["plain_sd_n100"]
    assert summary["is_sd_n1000"] < summary["is_sd_n100"]
    assert summary["variance_ratio"] > 10
    # both estimators are unbiased: their means lie within 4 sd / sqrt(repeats) of s
    for name in ("plain", "is"):
        error = abs(summary[f"{name}_mean_n1000"] - summary["exact"])
        assert error < 4 * summary[f"{name}_sd_n1000"] / 50**0.5 + 1e-7, name
    for name in ("config.json", "metrics.jsonl", "summary.json", "estimator_sd.png"):
        assert (tmp_path / name).stat().st_size > 0
