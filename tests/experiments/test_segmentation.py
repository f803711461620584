"""The segmentation smoke config learns per-pixel labels and draws the predicted masks."""

from __future__ import annotations

import numpy as np
import pytest

from experiments.segmentation.train import make_shapes
from tests.experiments import run_smoke

pytestmark = pytest.mark.standard_dtype_promotion


def test_shapes_have_per_pixel_labels():
    images, masks = make_shapes(4, 16, 0.0, seed=0)
    assert images.shape == (4, 16, 16, 1) and masks.shape == (4, 16, 16)
    np.testing.assert_array_equal(images[..., 0] > 0.5, masks > 0)  # noise-free: shape = mask
    assert set(np.unique(masks)) == {0, 1, 2}  # background, disks, squares


def test_smoke_run_learns(tmp_path):
    summary = run_smoke("segmentation", tmp_path)
    assert summary["final_train_loss"] < 0.8 * summary["first_train_loss"]
    assert 0.0 <= summary["test_mean_iou"] <= 1.0
    assert (tmp_path / "predicted_masks.png").exists()
