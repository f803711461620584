"""Smoke test of the gan-ring experiment: the generator spreads onto the ring's modes."""

from __future__ import annotations

import json
import math

import pytest

from experiments.gan_ring.configs import smoke
from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_smoke_run_covers_more_modes_and_writes_files(tmp_path):
    summary = run_smoke("gan-ring", tmp_path)
    for name in ("config.json", "metrics.jsonl", "summary.json", "samples.png", "modes.png"):
        assert (tmp_path / name).exists(), name
    assert (tmp_path / "losses.png").exists()
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == smoke.get_config()["num_chunks"]
    assert summary["modes_covered"] > summary["initial_modes_covered"]
    assert summary["high_quality_fraction"] > summary["initial_high_quality_fraction"] + 0.2
    # The discriminator's loss falls below log 4, its value when D = 1/2 everywhere.
    assert summary["final_discriminator_loss"] < math.log(4.0)
