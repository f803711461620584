"""Tests for jaxdl.sampling.reparam: reparametrized and discrete samplers."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxdl.sampling import reparam
from jaxdl.testing import (
    assert_grads_close,
    assert_jit_matches_eager,
    assert_vmap_matches_loop,
)


def _chi_square_pvalue(samples: np.ndarray, probabilities: np.ndarray) -> float:
    counts = np.bincount(samples.reshape(-1), minlength=probabilities.shape[0])
    expected = probabilities / probabilities.sum() * counts.sum()
    return float(stats.chisquare(counts, expected).pvalue)


# --- Gaussian reparametrization ---------------------------------------------------------------


def test_normal_moments(key):
    mean = jnp.array([1.0, -2.0, 0.5])
    std = jnp.array([0.5, 2.0, 1.0])
    z = reparam.normal(key, jnp.broadcast_to(mean, (4000, 3)), jnp.broadcast_to(std, (4000, 3)))
    n = z.shape[0]
    # Standard error of the mean is std / sqrt(n); allow 5 of them.
    np.testing.assert_array_less(np.abs(np.mean(z, 0) - mean), 5 * std / np.sqrt(n))
    # Standard error of the sample std is about std / sqrt(2n).
    np.testing.assert_array_less(np.abs(np.std(z, 0) - std), 5 * std / np.sqrt(2 * n))


def test_normal_is_affine_in_parameters(key):
    key_copy = jax.random.clone(key)
    eps = reparam.normal(key, jnp.zeros(5), jnp.ones(5))
    z = reparam.normal(key_copy, jnp.full(5, 3.0), jnp.full(5, 2.0))
    np.testing.assert_allclose(z, 3.0 + 2.0 * eps, rtol=1e-6)


def test_normal_gradients_with_fixed_key(key):
    def loss(params, k):
        z = reparam.normal(k, params["mean"], params["std"])
        return jnp.sum(jnp.sin(z) * z)

    params = {"mean": jnp.array([0.3, -1.0]), "std": jnp.array([0.7, 1.3])}
    assert_grads_close(loss, params, key, rtol=1e-5)


def test_normal_from_log_variance_gradients(key):
    def loss(params, k):
        z = reparam.normal_from_log_variance(k, params["mean"], params["log_variance"])
        return jnp.sum(z**2)

    params = {"mean": jnp.array([0.3, -1.0]), "log_variance": jnp.array([-0.5, 0.4])}
    assert_grads_close(loss, params, key)


def test_normal_rejects_negative_scale(key):
    with pytest.raises(ValueError, match="std must be >= 0"):
        reparam.normal(key, jnp.zeros(2), jnp.array([1.0, -1.0]))


def test_normal_jit_and_vmap(key):
    assert_jit_matches_eager(reparam.normal, key, jnp.zeros(3), jnp.ones(3))
    keys = jax.random.split(key, 4)
    means = jnp.arange(8.0).reshape(4, 2)
    assert_vmap_matches_loop(jax.jit(lambda k, m: reparam.normal(k, m, jnp.ones(2))), keys, means)


# --- multivariate normal ----------------------------------------------------------------------


def test_multivariate_normal_covariance(key):
    covariance = jnp.array([[2.0, 0.6], [0.6, 0.5]])
    mean = jnp.array([1.0, -1.0])
    x = np.asarray(reparam.multivariate_normal(key, mean, covariance, shape=(20000,)))
    emp = np.cov(x.T)
    # Var of an entry of the sample covariance ~ (S_ij^2 + S_ii S_jj) / n.
    c = np.asarray(covariance)
    se = np.sqrt((c**2 + np.outer(np.diag(c), np.diag(c))) / x.shape[0])
    np.testing.assert_array_less(np.abs(emp - c), 5 * se)
    np.testing.assert_array_less(np.abs(x.mean(0) - mean), 5 * np.sqrt(np.diag(c) / x.shape[0]))


def test_multivariate_normal_matches_cholesky_form(key):
    covariance = jnp.array([[2.0, 0.6], [0.6, 0.5]])
    key_copy = jax.random.clone(key)
    x = reparam.multivariate_normal(key, jnp.zeros(2), covariance, shape=(3,))
    y = reparam.multivariate_normal_from_cholesky(
        key_copy, jnp.zeros(2), jnp.linalg.cholesky(covariance), shape=(3,)
    )
    np.testing.assert_allclose(x, y, rtol=1e-6)


def test_multivariate_normal_gradients(key):
    def loss(params, k):
        cov = params["a"] @ params["a"].T + 0.5 * jnp.eye(2)
        x = reparam.multivariate_normal(k, params["mean"], cov, shape=(3,))
        return jnp.sum(jnp.tanh(x))

    params = {"mean": jnp.array([0.2, -0.3]), "a": jnp.array([[1.0, 0.2], [-0.4, 0.7]])}
    assert_grads_close(loss, params, key, rtol=1e-4)


@pytest.mark.parametrize(
    ("covariance", "match"),
    [
        (jnp.array([[1.0, 2.0], [2.0, 1.0]]), "positive definite"),
        # Singular (rank one): float eigenvalues of rounding size, not 0.
        # v v^T with v = (0.1, 0.3) in float32: smallest eigenvalue +2.8e-10, not 0.
        (jnp.outer(jnp.array([0.1, 0.3]), jnp.array([0.1, 0.3])), "positive definite"),
        (jnp.array([[1.0, 0.5], [0.0, 1.0]]), "symmetric"),
        (jnp.ones(3), "square matrix"),
    ],
)
def test_multivariate_normal_errors(key, covariance, match):
    with pytest.raises(ValueError, match=match):
        reparam.multivariate_normal(key, jnp.zeros(2), covariance)


def test_multivariate_normal_jit(key):
    cov = jnp.array([[2.0, 0.6], [0.6, 0.5]])
    assert_jit_matches_eager(
        lambda k, m, c: reparam.multivariate_normal(k, m, c, shape=(4,)), key, jnp.zeros(2), cov
    )


# --- discrete samplers ------------------------------------------------------------------------


def test_bernoulli_frequency(key):
    p = jnp.array([0.1, 0.5, 0.9])
    x = reparam.bernoulli(key, jnp.broadcast_to(p, (5000, 3)))
    freq = np.mean(np.asarray(x), axis=0)
    np.testing.assert_array_less(np.abs(freq - p), 5 * np.sqrt(p * (1 - p) / 5000))
    assert set(np.unique(np.asarray(x))) <= {0.0, 1.0}


def test_bernoulli_rejects_bad_probability(key):
    with pytest.raises(ValueError, match=r"probability must hold probabilities in \[0, 1\]"):
        reparam.bernoulli(key, jnp.array([0.5, 1.5]))


def test_categorical_chi_square(key):
    p = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    x = reparam.categorical(key, jnp.asarray(p), shape=(20000,))
    assert x.dtype == jnp.int32
    assert _chi_square_pvalue(np.asarray(x), p.astype(np.float64)) > 1e-3


def test_gumbel_max_is_exact_categorical(key):
    p = np.array([0.05, 0.15, 0.5, 0.3])
    x = reparam.gumbel_max(key, jnp.log(jnp.asarray(p, jnp.float32)), shape=(20000,))
    assert _chi_square_pvalue(np.asarray(x), p) > 1e-3


def test_gumbel_max_batched_logits(key):
    logits = jnp.log(jnp.array([[0.9, 0.1], [0.2, 0.8]]))
    x = np.asarray(reparam.gumbel_max(key, logits, shape=(4000, 2)))
    freq_one = x.mean(axis=0)
    np.testing.assert_array_less(np.abs(freq_one - np.array([0.1, 0.8])), 0.03)


@pytest.mark.parametrize(
    ("probabilities", "match"),
    [
        (jnp.array([0.5, 0.6]), "must sum to 1"),
        (jnp.array([-0.5, 1.5]), r"in \[0, 1\]"),
    ],
)
def test_categorical_errors(key, probabilities, match):
    with pytest.raises(ValueError, match=match):
        reparam.categorical(key, probabilities)


def test_categorical_shape_error(key):
    with pytest.raises(ValueError, match="must end with the batch shape"):
        reparam.categorical(key, jnp.full((2, 3), 1 / 3), shape=(5, 3))


def test_discrete_samplers_jit_vmap(key):
    p = jnp.array([0.2, 0.3, 0.5])
    assert_jit_matches_eager(lambda k, q: reparam.categorical(k, q, shape=(8,)), key, p)
    assert_jit_matches_eager(lambda k, q: reparam.gumbel_max(k, jnp.log(q), shape=(8,)), key, p)
    keys = jax.random.split(key, 3)
    probs = jnp.array([0.1, 0.5, 0.9])
    assert_vmap_matches_loop(jax.jit(lambda k, q: reparam.bernoulli(k, q, shape=(4,))), keys, probs)


# --- relaxations and straight-through ---------------------------------------------------------


def test_gumbel_softmax_limits(key):
    logits = jnp.log(jnp.array([0.2, 0.3, 0.5]))
    k1, k2 = jax.random.split(key)
    cold = reparam.gumbel_softmax(k1, jnp.broadcast_to(logits, (3000, 3)), temperature=0.01)
    np.testing.assert_allclose(np.sum(cold, -1), 1.0, rtol=1e-5)
    # Near zero temperature the samples are (almost) one-hot and follow softmax(logits).
    assert np.mean(np.max(np.asarray(cold), -1) > 0.99) > 0.9
    freq = np.bincount(np.argmax(np.asarray(cold), -1), minlength=3) / 3000
    np.testing.assert_array_less(np.abs(freq - np.array([0.2, 0.3, 0.5])), 0.04)
    hot = reparam.gumbel_softmax(k2, jnp.broadcast_to(logits, (100, 3)), temperature=100.0)
    np.testing.assert_allclose(hot, 1.0 / 3.0, atol=0.05)


def test_gumbel_softmax_hard_is_one_hot_with_soft_gradient(key):
    logits = jnp.array([0.1, -0.4, 0.8])

    def f(lg, k, hard):
        return jnp.sum(reparam.gumbel_softmax(k, lg, 0.5, hard=hard) * jnp.arange(3.0))

    hard = reparam.gumbel_softmax(key, logits, 0.5, hard=True)
    np.testing.assert_allclose(np.sort(np.asarray(hard)), [0.0, 0.0, 1.0])
    g_hard = jax.grad(f)(logits, jax.random.clone(key), True)
    g_soft = jax.grad(f)(logits, jax.random.clone(key), False)
    np.testing.assert_allclose(g_hard, g_soft, rtol=1e-5, atol=1e-7)


def test_gumbel_softmax_gradients(key):
    def loss(logits, k):
        return jnp.sum(reparam.gumbel_softmax(k, logits, 0.7) * jnp.array([1.0, -2.0, 0.5]))

    assert_grads_close(loss, jnp.array([0.1, -0.4, 0.8]), key)


def test_gumbel_softmax_rejects_bad_temperature(key):
    with pytest.raises(ValueError, match="temperature must be > 0"):
        reparam.gumbel_softmax(key, jnp.zeros(3), temperature=0.0)


def test_straight_through_forward_and_backward():
    x = jnp.array([0.2, 0.7, 1.6])
    y = reparam.straight_through(jnp.round(x), x)
    np.testing.assert_allclose(y, [0.0, 1.0, 2.0])
    np.testing.assert_allclose(
        jax.grad(lambda v: jnp.sum(reparam.straight_through(jnp.round(v), v) ** 2))(x),
        2 * jnp.round(x),
    )


def test_straight_through_shape_error():
    with pytest.raises(ValueError, match="must share a shape"):
        reparam.straight_through(jnp.zeros(2), jnp.zeros(3))


def test_straight_through_bernoulli_gradient_is_identity(key):
    p = jnp.array([0.2, 0.6, 0.9])
    x = reparam.straight_through_bernoulli(key, p)
    assert set(np.unique(np.asarray(x))) <= {0.0, 1.0}
    g = jax.grad(
        lambda q: jnp.sum(
            reparam.straight_through_bernoulli(jax.random.clone(key), q)
            * jnp.array([1.0, 2.0, 3.0])
        )
    )(p)
    np.testing.assert_allclose(g, [1.0, 2.0, 3.0])


def test_straight_through_categorical(key):
    logits = jnp.array([0.3, -0.1, 0.2])
    y = reparam.straight_through_categorical(key, logits)
    np.testing.assert_allclose(np.sort(np.asarray(y)), [0.0, 0.0, 1.0])
    w = jnp.array([1.0, -1.0, 2.0])
    g = jax.grad(
        lambda lg: jnp.sum(reparam.straight_through_categorical(jax.random.clone(key), lg) * w)
    )(logits)
    g_soft = jax.grad(lambda lg: jnp.sum(jax.nn.softmax(lg) * w))(logits)
    np.testing.assert_allclose(g, g_soft, rtol=1e-5, atol=1e-7)
