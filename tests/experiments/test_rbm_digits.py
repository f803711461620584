"""Smoke test of the rbm-digits experiment: runs in seconds, checks files and learning."""

from __future__ import annotations

import json

from tests.experiments import run_smoke


def test_smoke_run_learns_and_writes_files(tmp_path):
    summary = run_smoke("rbm-digits", tmp_path)
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "samples.png",
        "filters.png",
        "pseudo_likelihood.png",
        "reconstruction_error.png",
    ):
        assert (tmp_path / name).exists(), name
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 3
    assert summary["final_reconstruction_error"] < summary["first_reconstruction_error"]
    assert (
        summary["final_test_pseudo_log_likelihood"]
        > summary["initial_test_pseudo_log_likelihood"] + 5.0
    )
    # AIS agrees with exact enumeration (12 hidden units) within its own spread.
    error = abs(summary["ais_log_partition"] - summary["exact_log_partition"])
    assert error < 4.0 * summary["ais_log_partition_std"] + 0.05
    assert summary["test_log_likelihood_ais"] < 0.0
    assert 0.5 < summary["logistic_accuracy_rbm_features"] <= 1.0
