"""Tests for jaxdl.sampling.diagnostics: effective sample size and split R-hat."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.sampling import diagnostics
from jaxdl.testing import assert_jit_matches_eager


def _ar1(key, rho, num_chains, num_draws):
    """x_t = rho x_{t-1} + sqrt(1 - rho^2) eps_t, started from the stationary law."""
    k0, k_eps = jax.random.split(key)
    x0 = jax.random.normal(k0, (num_chains,))
    eps = jax.random.normal(k_eps, (num_draws, num_chains))

    def step(x, e):
        x = rho * x + np.sqrt(1 - rho**2) * e
        return x, x

    _, xs = jax.lax.scan(step, x0, eps)
    return xs.T


def test_ess_of_iid_draws_is_about_n(key):
    draws = jax.random.normal(key, (4, 1000))
    ess = float(diagnostics.effective_sample_size(draws))
    assert 0.8 * 4000 < ess < 1.25 * 4000


@pytest.mark.parametrize("rho", [0.5, 0.9])
def test_ess_of_ar1_matches_theory(key, rho):
    draws = _ar1(key, rho, 4, 4000)
    ess = float(diagnostics.effective_sample_size(draws))
    theory = 16000 * (1 - rho) / (1 + rho)
    assert 0.7 * theory < ess < 1.3 * theory


def test_ess_vectorizes_over_trailing_axes(key):
    k1, k2 = jax.random.split(key)
    draws = jnp.stack([jax.random.normal(k1, (2, 800)), _ar1(k2, 0.8, 2, 800)], axis=-1)
    ess = np.asarray(diagnostics.effective_sample_size(draws))
    assert ess.shape == (2,)
    assert ess[0] > 3 * ess[1]


def test_rhat_iid_near_one_and_flags_disagreeing_chains(key):
    k1, k2 = jax.random.split(key)
    draws = jax.random.normal(k1, (4, 1000))
    assert abs(float(diagnostics.split_rhat(draws)) - 1.0) < 0.01
    shifted = jax.random.normal(k2, (4, 1000)) + jnp.array([0.0, 0.0, 0.0, 3.0])[:, None]
    assert float(diagnostics.split_rhat(shifted)) > 1.2


def test_rhat_detects_trend_within_one_chain(key):
    trend = jnp.linspace(0.0, 5.0, 1000)[None, :] + jax.random.normal(key, (1, 1000))
    assert float(diagnostics.split_rhat(trend)) > 1.2


def test_rhat_matches_numpy_formula(key):
    draws = np.asarray(jax.random.normal(key, (3, 101)), dtype=np.float64)
    half = 50
    chains = np.concatenate([draws[:, :half], draws[:, -half:]], 0)
    w = chains.var(1, ddof=1).mean()
    b_over_n = chains.mean(1).var(ddof=1)
    expected = np.sqrt(((half - 1) / half * w + b_over_n) / w)
    np.testing.assert_allclose(
        diagnostics.split_rhat(jnp.asarray(draws, jnp.float32)), expected, rtol=1e-4
    )


def test_autocorrelation_matches_numpy(key):
    x = np.asarray(jax.random.normal(key, (1, 64)), dtype=np.float64)[0]
    c = x - x.mean()
    expected = np.array([np.sum(c[: 64 - t] * c[t:]) for t in range(64)]) / np.sum(c * c)
    got = diagnostics.autocorrelation(jnp.asarray(x[None, :], jnp.float32))[0]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match=r"samples must have shape \[num_chains, num_draws"):
        diagnostics.effective_sample_size(jnp.ones(10))
    with pytest.raises(ValueError, match="at least 4 draws"):
        diagnostics.split_rhat(jnp.ones((2, 3)))
    with pytest.raises(TypeError, match="samples must have a floating dtype"):
        diagnostics.effective_sample_size(jnp.ones((2, 10), jnp.int32))


def test_jit(key):
    draws = jax.random.normal(key, (2, 50))
    assert_jit_matches_eager(diagnostics.effective_sample_size, draws, rtol=1e-4)
    assert_jit_matches_eager(diagnostics.split_rhat, draws)
