"""Smoke test of the gan experiment: runs in seconds, checks files and learning."""

from __future__ import annotations

import json
import math

import pytest

from experiments.gan.configs import smoke
from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_smoke_run_learns_and_writes_files(tmp_path):
    summary = run_smoke("gan", tmp_path)
    for name in (
        "config.json",
        "metrics.jsonl",
        "summary.json",
        "ring_samples.png",
        "ring_modes.png",
        "ring_losses.png",
        "digits_samples.png",
        "digits_losses.png",
    ):
        assert (tmp_path / name).exists(), name
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == 2 * smoke.get_config()["num_chunks"]
    assert summary["ring_modes_covered"] > summary["ring_initial_modes_covered"]
    assert (
        summary["ring_high_quality_fraction"] > summary["ring_initial_high_quality_fraction"] + 0.2
    )
    # The discriminator's loss falls below log 4, its value when D = 1/2 everywhere.
    assert summary["ring_final_discriminator_loss"] < math.log(4.0)
