"""The overfit-a-small-batch check, trained by fit."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from jaxdl.training.diagnostics import overfit_small_batch_check
from tests._fixtures import TinyReLUNet


def test_overfit_small_batch_passes_for_a_capable_model(key):
    x_key, y_key, init_key = jax.random.split(key, 3)
    x = jax.random.normal(x_key, (8, 4))
    y = jax.random.randint(y_key, (8,), 0, 3)
    report = overfit_small_batch_check(init_key, TinyReLUNet(), x, y, learning_rate=0.05)
    assert bool(report.passed)
    assert float(report.final_loss) < 1e-2 < float(report.losses[0])


def test_overfit_small_batch_fails_when_the_model_cannot_fit(key):
    """A linear classifier cannot separate XOR, so the check must fail."""
    x = jnp.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = jnp.array([0, 1, 1, 0])
    report = overfit_small_batch_check(key, nn.Dense(2), x, y, num_steps=200, learning_rate=0.1)
    assert not bool(report.passed)
    assert float(report.final_loss) > 0.5


def test_overfit_small_batch_regression_and_custom_loss(key):
    x = jnp.linspace(-1.0, 1.0, 6)[:, None]
    y = 3.0 * x - 1.0
    mse = overfit_small_batch_check(key, nn.Dense(1), x, y, loss="mse", learning_rate=0.1)
    assert bool(mse.passed)
    absolute = overfit_small_batch_check(
        jax.random.key(5),
        nn.Dense(1),
        x,
        y,
        loss=lambda p, t: jnp.sum(jnp.abs(p - t), axis=-1),
        learning_rate=0.05,
        num_steps=400,
        tolerance=5e-2,
    )
    assert bool(absolute.passed)


def test_overfit_small_batch_bad_input(key):
    x, y = jnp.ones((4, 2)), jnp.zeros(4, jnp.int32)
    with pytest.raises(ValueError, match="loss must be one of"):
        overfit_small_batch_check(key, nn.Dense(2), x, y, loss="hinge")
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        overfit_small_batch_check(key, nn.Dense(2), x, y, learning_rate=0.0)
    with pytest.raises(ValueError, match="x and y must have the same number of rows"):
        overfit_small_batch_check(key, nn.Dense(2), x, y[:3])
    with pytest.raises(ValueError, match="tolerance must be > 0"):
        overfit_small_batch_check(key, nn.Dense(2), x, y, tolerance=-1.0)
