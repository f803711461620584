"""Smoke test of the autoencoders experiment: runs in seconds, checks files and learning."""

from __future__ import annotations

import json

import pytest

from experiments.autoencoders.configs import smoke
from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_smoke_run_learns_and_writes_files(tmp_path):
    config = smoke.get_config()
    summary = run_smoke("autoencoders", tmp_path)
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "losses.png",
        "reconstructions.png",
        "denoising.png",
    ):
        assert (tmp_path / name).exists(), name
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == config["num_epochs"] * len(config["variants"])
    for variant in config["variants"]:
        assert summary[f"{variant}_final_train_loss"] < summary[f"{variant}_first_train_loss"]
    assert summary["sparse_code_zero_fraction"] > summary["overcomplete_code_zero_fraction"]
    assert 0.0 <= summary["linear_pca_max_angle_degrees"] <= 90.0
