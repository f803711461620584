"""Smoke run of experiments/initialization_scale: vanishing and exploding signals by gain."""

from __future__ import annotations

import jax
import numpy as np
import pytest

from experiments.initialization_scale.train import signal_propagation
from tests.experiments import run_smoke


def test_initialization_scale_smoke(tmp_path):
    summary = run_smoke("initialization-scale", tmp_path)
    # ReLU: gain 1 shrinks, gain 2 grows the signal with depth
    assert summary["last_layer_std_relu_g1.00"] < summary["first_layer_std_relu_g1.00"]
    assert summary["last_layer_std_relu_g2.00"] > summary["first_layer_std_relu_g2.00"]
    # and the gradient of the first layer follows the same order
    grads = [summary[f"first_layer_grad_norm_relu_g{g}"] for g in ("0.50", "1.00", "2.00")]
    assert grads == sorted(grads)
    for name in ("config.json", "metrics.jsonl", "summary.json", "activation_scale.png"):
        assert (tmp_path / name).stat().st_size > 0


def test_relu_signal_scales_by_gain_over_sqrt2_per_layer(key):
    """For ReLU, E[h^2] is multiplied by g^2 / 2 per layer, so He's g = sqrt(2) keeps it."""
    depth = 8
    stats = {
        gain: signal_propagation(jax.random.clone(key), "relu", gain, depth, 128, 256)
        for gain in (1.0, 2.0**0.5, 2.0)
    }
    second_moment_ratio = {}
    for gain, s in stats.items():
        # std of a ReLU output tracks sqrt(E[h^2]) up to a constant; compare growth rates
        second_moment_ratio[gain] = (s["std"][-1] / s["std"][0]) ** (2 / (depth - 1))
    np.testing.assert_allclose(second_moment_ratio[1.0], 0.5, rtol=0.15)
    np.testing.assert_allclose(second_moment_ratio[2.0**0.5], 1.0, rtol=0.15)
    np.testing.assert_allclose(second_moment_ratio[2.0], 2.0, rtol=0.15)
    with pytest.raises(ValueError, match="activation must be one of"):
        signal_propagation(key, "gelu", 1.0, 2, 4, 4)
