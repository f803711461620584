"""Tests for ML / MAP estimates and the Bayes-optimal classifier."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import optimize, stats

from jaxdl.probabilistic.decision import (
    bayes_optimal_classifier,
    bayes_optimal_probabilities,
    bernoulli_map,
    bernoulli_ml,
    gaussian_mean_map,
    gaussian_mean_ml,
    gaussian_variance_ml,
    hypothesis_posteriors,
    map_hypothesis,
    ml_hypothesis,
)
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop

# ------------------------------------------------------------- the course's example


def test_course_example_map_says_plus_bayes_optimal_says_minus():
    """P(h|D) = 0.4, 0.3, 0.3; h1(x) = +, h2(x) = h3(x) = -."""
    posteriors = jnp.array([0.4, 0.3, 0.3])
    plus, minus = 0, 1
    predictions = jnp.array([plus, minus, minus])
    map_index = int(jnp.argmax(posteriors))
    assert int(predictions[map_index]) == plus
    probabilities = bayes_optimal_probabilities(posteriors, predictions, num_classes=2)
    np.testing.assert_allclose(probabilities, [0.4, 0.6], rtol=1e-6)
    assert int(bayes_optimal_classifier(posteriors, predictions, num_classes=2)) == minus


def test_course_example_from_likelihoods_and_priors():
    """The same posteriors recovered through Bayes' rule, then MAP vs ML hypotheses."""
    priors = jnp.array([0.2, 0.5, 0.3])
    likelihoods = jnp.array([0.4, 0.3, 0.3]) / priors  # P(D|h) up to the evidence
    posteriors = hypothesis_posteriors(jnp.log(likelihoods), jnp.log(priors))
    np.testing.assert_allclose(posteriors, [0.4, 0.3, 0.3], rtol=1e-5)
    assert int(map_hypothesis(jnp.log(likelihoods), jnp.log(priors))) == 0
    assert int(ml_hypothesis(jnp.log(likelihoods))) == 0  # likelihoods 2, 0.6, 1
    # with a uniform prior MAP and ML agree
    uniform = jnp.log(jnp.full(3, 1 / 3))
    assert int(map_hypothesis(jnp.array([0.1, 0.9, 0.3]), uniform)) == 1


def test_map_and_ml_hypotheses_can_differ():
    log_likelihoods = jnp.log(jnp.array([0.5, 0.4]))
    log_priors = jnp.log(jnp.array([0.2, 0.8]))
    assert int(ml_hypothesis(log_likelihoods)) == 0
    assert int(map_hypothesis(log_likelihoods, log_priors)) == 1


def test_bayes_optimal_with_soft_predictions_over_a_batch(key):
    h_key, p_key = jax.random.split(key)
    posteriors = jax.nn.softmax(jax.random.normal(h_key, (4,)))
    predictions = jax.nn.softmax(jax.random.normal(p_key, (4, 5, 3)), axis=-1)
    out = bayes_optimal_probabilities(posteriors, predictions)
    ref = np.einsum("h,hnk->nk", np.asarray(posteriors), np.asarray(predictions))
    np.testing.assert_allclose(out, ref, rtol=1e-5)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(
        bayes_optimal_classifier(posteriors, predictions), np.argmax(ref, -1)
    )
    assert_grads_close(
        lambda p: jnp.sum(bayes_optimal_probabilities(p, predictions)[:, 0]), posteriors
    )
    assert_jit_matches_eager(bayes_optimal_probabilities, posteriors, predictions)
    assert_vmap_matches_loop(
        bayes_optimal_probabilities, posteriors, predictions, in_axes=(None, 1)
    )


def test_bayes_optimal_errors():
    with pytest.raises(ValueError, match="posteriors must sum to 1"):
        bayes_optimal_probabilities(jnp.array([0.5, 0.6]), jnp.array([0, 1]), 2)
    with pytest.raises(ValueError, match="num_classes is required"):
        bayes_optimal_probabilities(jnp.array([0.5, 0.5]), jnp.array([0, 1]))
    with pytest.raises(ValueError, match="one row per hypothesis"):
        bayes_optimal_probabilities(jnp.array([0.5, 0.5]), jnp.array([0, 1, 1]), 2)
    with pytest.raises(ValueError, match="predictions must sum to 1"):
        bayes_optimal_probabilities(jnp.array([0.5, 0.5]), jnp.array([[0.5, 0.6], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="log_priors must have the shape"):
        hypothesis_posteriors(jnp.zeros(3), jnp.zeros(2))


def test_hypothesis_posteriors_grads_and_jit(key):
    ll = jax.random.normal(key, (4,))
    lp = jnp.log(jnp.array([0.1, 0.2, 0.3, 0.4]))
    np.testing.assert_allclose(
        hypothesis_posteriors(ll, lp),
        np.exp(ll + lp) / np.sum(np.exp(ll + lp)),
        rtol=1e-5,
    )
    assert_grads_close(lambda z: hypothesis_posteriors(z, lp)[0], ll)
    assert_jit_matches_eager(hypothesis_posteriors, ll, lp)


# ------------------------------------------------------------ Bernoulli parameter


def _scipy_bernoulli_map(k, n, a, b):
    def negative_log_posterior(theta):
        return -(stats.binom.logpmf(k, n, theta) + stats.beta.logpdf(theta, a, b))

    result = optimize.minimize_scalar(
        negative_log_posterior,
        bounds=(1e-9, 1 - 1e-9),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return result.x


@pytest.mark.parametrize(("a", "b"), [(1.0, 1.0), (2.0, 2.0), (5.0, 1.5)])
def test_bernoulli_map_matches_scipy_posterior_mode(a, b):
    x = jnp.array([1, 0, 1, 1, 0, 1, 1])
    expected = _scipy_bernoulli_map(5, 7, a, b)
    np.testing.assert_allclose(bernoulli_map(x, a, b), expected, rtol=1e-5)


def test_bernoulli_ml_is_the_frequency_and_map_shrinks_it():
    x = jnp.array([1, 1, 1])  # three heads in a row
    np.testing.assert_allclose(bernoulli_ml(x), 1.0)
    np.testing.assert_allclose(bernoulli_map(x, 1.0, 1.0), 1.0)  # flat prior: MAP = ML
    np.testing.assert_allclose(bernoulli_map(x, 2.0, 2.0), 0.8, rtol=1e-6)
    # MAP tends to ML as n grows
    many = jnp.tile(jnp.array([1, 0, 1, 1]), 500)
    np.testing.assert_allclose(bernoulli_map(many, 5.0, 5.0), bernoulli_ml(many), atol=3e-3)


def test_bernoulli_ml_maximizes_the_scipy_likelihood():
    x = np.array([1, 0, 0, 1, 0])
    thetas = np.linspace(0.01, 0.99, 99)
    likelihood = [stats.bernoulli.logpmf(x, t).sum() for t in thetas]
    np.testing.assert_allclose(bernoulli_ml(jnp.asarray(x)), thetas[np.argmax(likelihood)])


def test_bernoulli_errors():
    with pytest.raises(ValueError, match="observations must hold 0/1 outcomes"):
        bernoulli_ml(jnp.array([0, 2]))
    with pytest.raises(ValueError, match="prior_alpha must be >= 1"):
        bernoulli_map(jnp.array([0, 1]), 0.5, 2.0)
    with pytest.raises(ValueError, match="prior_beta must be > 0"):
        bernoulli_map(jnp.array([0, 1]), 2.0, -1.0)
    with pytest.raises(ValueError, match="observations must have rank 1"):
        bernoulli_ml(jnp.ones((2, 2)))
    with pytest.raises(ValueError, match="observations must hold at least one example"):
        bernoulli_ml(jnp.zeros((0,)))


# --------------------------------------------------------------- Gaussian parameter


def test_gaussian_ml_estimates_match_scipy(key):
    x = 2.0 + 0.5 * jax.random.normal(key, (50,))
    mean, std = stats.norm.fit(np.asarray(x, np.float64))
    np.testing.assert_allclose(gaussian_mean_ml(x), mean, rtol=1e-5)
    np.testing.assert_allclose(gaussian_variance_ml(x), std**2, rtol=1e-4)


def test_gaussian_mean_map_matches_scipy_optimum(key):
    x = np.asarray(1.5 + jax.random.normal(key, (6,)), np.float64)
    sigma2, mu0, tau2 = 2.0, -1.0, 0.5

    def negative_log_posterior(mu):
        return -(
            stats.norm.logpdf(x, mu, np.sqrt(sigma2)).sum()
            + stats.norm.logpdf(mu, mu0, np.sqrt(tau2))
        )

    expected = optimize.minimize_scalar(negative_log_posterior).x
    got = gaussian_mean_map(jnp.asarray(x, jnp.float32), sigma2, mu0, tau2)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # a broad prior gives back the ML mean, a narrow one the prior mean
    np.testing.assert_allclose(
        gaussian_mean_map(jnp.asarray(x), sigma2, mu0, 1e8), x.mean(), rtol=1e-5
    )
    np.testing.assert_allclose(gaussian_mean_map(jnp.asarray(x), sigma2, mu0, 1e-8), mu0, rtol=1e-5)


def test_gaussian_map_grads_jit_vmap(key):
    key, batch_key = jax.random.split(key)
    x = jax.random.normal(key, (5,))
    assert_grads_close(lambda z: gaussian_mean_map(z, 2.0, 0.5, 1.0), x)
    assert_grads_close(lambda s: gaussian_mean_map(x, s, 0.5, 1.0), jnp.array(2.0))
    assert_grads_close(lambda z: gaussian_variance_ml(z), x)
    assert_jit_matches_eager(lambda z: gaussian_mean_map(z, 2.0, 0.5, 1.0), x)
    assert_vmap_matches_loop(
        lambda z: gaussian_mean_map(z, 2.0, 0.5, 1.0), jax.random.normal(batch_key, (3, 5))
    )


def test_gaussian_errors():
    with pytest.raises(ValueError, match="noise_variance must be > 0"):
        gaussian_mean_map(jnp.ones(3), 0.0, 0.0, 1.0)
    with pytest.raises(ValueError, match="prior_variance must be > 0"):
        gaussian_mean_map(jnp.ones(3), 1.0, 0.0, -1.0)
    with pytest.raises(TypeError, match="observations must have a floating dtype"):
        gaussian_mean_ml(jnp.array([1, 2]))
