"""Tests for jaxdl.sampling.monte_carlo: Monte Carlo averages and importance sampling."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.stats import norm

from jaxdl.sampling import monte_carlo as mc
from jaxdl.testing import assert_jit_matches_eager


def _normal_sampler(scale):
    return lambda k, n: scale * jax.random.normal(k, (n,))


def test_sample_mean_matches_numpy():
    values = np.array([1.0, 4.0, 2.0, 7.0], dtype=np.float32)
    est = mc.sample_mean(jnp.asarray(values))
    np.testing.assert_allclose(est.mean, values.mean(), rtol=1e-6)
    np.testing.assert_allclose(est.variance, values.var(ddof=1), rtol=1e-6)
    np.testing.assert_allclose(est.standard_error, values.std(ddof=1) / 2.0, rtol=1e-6)
    assert est.num_samples == 4


def test_monte_carlo_second_moment(key):
    est = mc.monte_carlo(key, lambda x: x**2, _normal_sampler(1.0), 20000)
    # E[x^2] = 1 for a standard normal; Var[x^2] = 2 gives the standard error.
    assert abs(float(est.mean) - 1.0) < 5 * np.sqrt(2.0 / 20000)
    assert abs(float(est.standard_error) - np.sqrt(2.0 / 20000)) < 0.2 * np.sqrt(2.0 / 20000)


def test_standard_error_shrinks_like_one_over_sqrt_n(key):
    k1, k2 = jax.random.split(key)
    small = mc.monte_carlo(k1, jnp.sin, _normal_sampler(1.0), 400)
    large = mc.monte_carlo(k2, jnp.sin, _normal_sampler(1.0), 6400)
    ratio = float(small.standard_error / large.standard_error)
    assert 3.0 < ratio < 5.3  # sqrt(16) = 4


def test_sample_mean_errors():
    with pytest.raises(ValueError, match="at least 2 draws"):
        mc.sample_mean(jnp.ones(1))
    with pytest.raises(TypeError, match="values must have a floating dtype"):
        mc.sample_mean(jnp.ones(3, jnp.int32))


def test_importance_sampling_gaussian_second_moment(key):
    est = mc.importance_sampling(
        key,
        lambda x: x**2,
        norm.logpdf,
        _normal_sampler(2.0),
        lambda x: norm.logpdf(x, scale=2.0),
        20000,
    )
    assert abs(float(est.mean) - 1.0) < 5 * float(est.standard_error)
    assert 0.0 < float(est.effective_sample_size) <= 20000


def test_self_normalized_handles_unnormalized_target(key):
    log_unnormalized = lambda x: norm.logpdf(x, loc=1.0) + 3.0  # noqa: E731
    est = mc.importance_sampling(
        key,
        lambda x: x,
        log_unnormalized,
        _normal_sampler(2.0),
        lambda x: norm.logpdf(x, scale=2.0),
        20000,
        self_normalized=True,
    )
    assert abs(float(est.mean) - 1.0) < 5 * float(est.standard_error)


def test_optimal_proposal_has_zero_variance_and_beats_plain_mc(key):
    """q* = p |f| / Z: every term p f / q* equals Z, so the estimator is exact (f >= 0)."""
    p = jnp.array([0.5, 0.3, 0.15, 0.05])
    f = jnp.array([0.1, 1.0, 4.0, 20.0])
    exact = float(jnp.sum(p * f))
    q_star = mc.optimal_proposal(p, f)
    np.testing.assert_allclose(q_star, p * f / exact, rtol=1e-6)
    k_plain, k_is, k_uniform = jax.random.split(key, 3)

    def discrete(q):
        return lambda k, n: jax.random.categorical(k, jnp.log(q), shape=(n,))

    plain = mc.monte_carlo(k_plain, lambda i: f[i], discrete(p), 2000)
    optimal = mc.importance_sampling(
        k_is,
        lambda i: f[i],
        lambda i: jnp.log(p[i]),
        discrete(q_star),
        lambda i: jnp.log(q_star[i]),
        2000,
    )
    uniform = jnp.full(4, 0.25)
    other = mc.importance_sampling(
        k_uniform,
        lambda i: f[i],
        lambda i: jnp.log(p[i]),
        discrete(uniform),
        lambda i: jnp.log(uniform[i]),
        2000,
    )
    np.testing.assert_allclose(optimal.mean, exact, rtol=1e-5)
    assert float(optimal.standard_error) < 1e-5 * exact
    assert float(plain.standard_error) > 100 * float(optimal.standard_error)
    assert float(other.standard_error) > 100 * float(optimal.standard_error)
    assert abs(float(plain.mean) - exact) < 5 * float(plain.standard_error)


def test_optimal_proposal_with_signed_f_lowers_variance():
    p = np.array([0.4, 0.4, 0.2])
    f = np.array([-1.0, 2.0, 5.0])
    q = np.asarray(mc.optimal_proposal(jnp.asarray(p), jnp.asarray(f)), dtype=np.float64)
    mean = (p * f).sum()
    var_plain = (p * f**2).sum() - mean**2
    var_q = (q * (p * f / q) ** 2).sum() - mean**2
    assert var_q < var_plain


def test_optimal_proposal_errors():
    with pytest.raises(ValueError, match="must sum to 1"):
        mc.optimal_proposal(jnp.array([0.5, 0.6]), jnp.ones(2))
    with pytest.raises(ValueError, match="vectors of one shape"):
        mc.optimal_proposal(jnp.array([0.5, 0.5]), jnp.ones(3))


def test_weights_and_effective_sample_size():
    np.testing.assert_allclose(mc.weights_effective_sample_size(jnp.zeros(10)), 10.0, rtol=1e-6)
    dominated = jnp.array([0.0, -50.0, -50.0, -50.0])
    np.testing.assert_allclose(mc.weights_effective_sample_size(dominated), 1.0, rtol=1e-5)
    w = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    np.testing.assert_allclose(
        mc.weights_effective_sample_size(jnp.log(jnp.asarray(w))),
        w.sum() ** 2 / (w**2).sum(),
        rtol=1e-5,
    )
    log_p, log_q = jnp.log(jnp.array([0.5, 0.5])), jnp.log(jnp.array([0.25, 0.75]))
    np.testing.assert_allclose(mc.importance_weights(log_p, log_q), [2.0, 2.0 / 3.0], rtol=1e-6)
    np.testing.assert_allclose(
        mc.importance_weights(log_p, log_q, normalize=True), [0.75, 0.25], rtol=1e-6
    )
    with pytest.raises(ValueError, match="vectors of one shape"):
        mc.importance_weights(jnp.zeros(2), jnp.zeros(3))


def test_importance_sampling_errors(key):
    with pytest.raises(ValueError, match="num_samples must be >= 2"):
        mc.importance_sampling(key, jnp.sin, norm.logpdf, _normal_sampler(1.0), norm.logpdf, 1)


def test_importance_sampling_jit(key):
    def run(k, scale):
        return mc.importance_sampling(
            k,
            lambda x: x**2,
            norm.logpdf,
            lambda kk, n: scale * jax.random.normal(kk, (n,)),
            lambda x: norm.logpdf(x, scale=scale),
            64,
        ).mean

    assert_jit_matches_eager(run, key, jnp.asarray(1.5))
