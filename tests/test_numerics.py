"""Tolerances scaled to the data (jaxdl._numerics) against float64 references."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl._numerics import negligible_variance, refined_mean, rounding_eps


@pytest.mark.parametrize("value", [7.0, 0.1, -3.3, 1e4, 1e-3])
@pytest.mark.parametrize("n", [1, 13, 1000])
def test_constant_column_is_negligible(value, n):
    x = jnp.full((n, 1), value, jnp.float32)
    mean = refined_mean(x, axis=0)
    variance = jnp.mean(jnp.square(x - mean[None]), axis=0)
    assert bool(negligible_variance(variance, mean)[0])


@pytest.mark.parametrize("value", [7.0, 0.1, 1e4])
def test_a_real_spread_is_kept(value):
    # 100 ulps of spread is data, not rounding.
    step = 100 * np.spacing(np.float32(value))
    x = jnp.asarray((value + step * (np.arange(20) % 2)).astype(np.float32))[:, None]
    mean = refined_mean(x, axis=0)
    variance = jnp.mean(jnp.square(x - mean[None]), axis=0)
    assert not bool(negligible_variance(variance, mean)[0])


def test_refined_mean_of_a_constant_is_exact():
    x = jnp.full((13,), 7.0, jnp.float32)
    assert float(jnp.mean(x)) != 7.0  # the plain float32 mean is 7.0000005
    assert float(refined_mean(x)) == 7.0


def test_rounding_eps_follows_the_dtype():
    assert rounding_eps(jnp.ones(2, jnp.float32)) == float(np.finfo(np.float32).eps)
    assert rounding_eps(jnp.ones(2, jnp.float16)) == float(np.finfo(np.float16).eps)
    assert rounding_eps(jnp.ones(2, jnp.int32)) == float(np.finfo(np.float32).eps)
