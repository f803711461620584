"""Smoke test of the gan-digits experiment: the samples move towards the digits."""

from __future__ import annotations

import json
import math

import pytest

from experiments.gan_digits.configs import smoke
from tests.experiments import run_smoke


@pytest.mark.standard_dtype_promotion
def test_smoke_run_moves_samples_towards_the_data_and_writes_files(tmp_path):
    summary = run_smoke("gan-digits", tmp_path)
    for name in ("config.json", "metrics.jsonl", "summary.json", "samples.png", "losses.png"):
        assert (tmp_path / name).exists(), name
    records = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert len(records) == smoke.get_config()["num_chunks"]
    assert (
        summary["sample_nearest_train_distance"]
        < 0.8 * summary["initial_sample_nearest_train_distance"]
    )
    data_mean = summary["pixel_mean_data"]
    assert abs(summary["pixel_mean_samples"] - data_mean) < abs(
        summary["initial_pixel_mean_samples"] - data_mean
    )
    assert summary["final_discriminator_loss"] < math.log(4.0)
