"""The mnist-cnn experiment's smoke config runs end to end, learns and plots its filters."""

from __future__ import annotations

import pytest

from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_smoke_run_learns_and_plots(tmp_path):
    summary = run_smoke("mnist-cnn", tmp_path)
    assert summary["slides_cnn_final_train_loss"] < 0.8 * summary["slides_cnn_first_train_loss"]
    assert summary["slides_cnn_test_accuracy"] > 0.2  # ten classes: chance is 0.1
    assert summary["slides_cnn_num_params"] == 16 * 26 + 401 * 10
    for name in ("accuracy.png", "slides_cnn_filters.png", "slides_cnn_feature_maps.png"):
        assert (tmp_path / name).exists(), name
