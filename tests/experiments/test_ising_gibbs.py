"""Smoke run of experiments/ising_gibbs: ordered when cold, disordered when hot."""

from __future__ import annotations

import pytest

from experiments.ising_gibbs.train import onsager_magnetization
from tests.experiments import run_smoke


def test_ising_gibbs_smoke(tmp_path):
    summary = run_smoke("ising-gibbs", tmp_path)
    assert summary["abs_magnetization_lowest_temperature"] > 0.95
    assert summary["abs_magnetization_highest_temperature"] < 0.4
    # The energy per site (the "loss" here) rises with temperature.
    energies = list(summary["energy_per_site"].values())
    assert energies == sorted(energies)
    assert summary["max_onsager_error_low_temperature"] < 0.03
    assert summary["exact3x3_max_abs_z"] < 5
    for name in ("config.json", "metrics.jsonl", "summary.json", "magnetization.png", "energy.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_onsager_curve():
    assert onsager_magnetization(3.0) == 0.0
    assert onsager_magnetization(1.0) == pytest.approx(0.99927, abs=1e-4)
