"""Smoke run of experiments/regularization_sparsity: losses fall, L1 gives exact zeros."""

from __future__ import annotations

import json

import pytest

from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_regularization_sparsity_smoke(tmp_path):
    summary = run_smoke("regularization-sparsity", tmp_path)
    for run in ("l2", "l1"):
        assert summary[f"final_train_loss_{run}"] < summary[f"first_train_loss_{run}"], run
    # proximal L1 produces exact zeros; L2 does not
    assert summary["zero_fraction_l1"] > 0.2
    assert summary["zero_fraction_l2"] == 0.0
    # L1 zeroes the irrelevant inputs' weights first
    assert summary["irrelevant_input_zero_fraction_l1"] > summary["relevant_input_zero_fraction_l1"]
    for name in ("config.json", "metrics.jsonl", "summary.json", "weights_histogram.png"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "loss.png").stat().st_size > 0
    runs = {
        json.loads(line)["run"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()
    }
    assert runs == {"l2", "l1"}


def test_regularization_sparsity_rejects_unknown_runs(tmp_path):
    from jaxdl.cli import UsageError

    with pytest.raises(UsageError, match="runs must be among"):
        run_smoke("regularization-sparsity", tmp_path / "run", runs=["l3"])
    assert not (tmp_path / "run").exists()
