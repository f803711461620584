"""Smoke test of the vae experiment: runs in seconds, checks files and learning."""

from __future__ import annotations

import json

import pytest

from experiments.vae.configs import smoke
from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
@pytest.mark.slow
def test_smoke_run_learns_and_writes_files(tmp_path):
    summary = run_smoke("vae", tmp_path)
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "elbo.png",
        "reconstructions.png",
        "prior_samples.png",
        "latent.png",
    ):
        assert (tmp_path / name).exists(), name
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == smoke.get_config()["num_epochs"]
    assert summary["final_train_loss"] < summary["first_train_loss"]
    assert summary["final_test_elbo"] > summary["initial_test_elbo"] + 2.0
