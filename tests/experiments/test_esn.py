"""The esn experiment's smoke config runs end to end: MC <= N and useful predictions."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_respects_the_memory_bound_and_predicts(tmp_path):
    summary = run_smoke("esn", tmp_path)
    assert summary["memory_capacity_at_most_n"]
    assert summary["memory_capacity_best"]["10"] > summary["memory_capacity_best"]["5"] > 1.0
    assert summary["mackey_glass_nrmse"] < 0.2  # a smooth series is easy one step ahead
    assert summary["narma10_nrmse"] < 1.0  # better than predicting the mean
    for name in ("memory_capacity_vs_radius.png", "memory_capacity_vs_size.png", "predictions.png"):
        assert (tmp_path / name).exists(), name
