"""Core losses: equality with optax, torch and scipy; information inequalities; errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.stats
import torch
import torch.nn.functional as F
from hypothesis import given

from jaxdl import losses
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop
from jaxdl.testing import strategies as jst


def _t(x):
    return torch.tensor(np.asarray(x, dtype=np.float64))


def _probs(key, shape):
    return jax.nn.softmax(2.0 * jax.random.normal(key, shape), axis=-1)


def test_softmax_cross_entropy_matches_optax_and_torch(key):
    k1, k2 = jax.random.split(key)
    logits = 3.0 * jax.random.normal(k1, (7, 5))
    labels = jax.random.randint(k2, (7,), 0, 5)
    out = losses.softmax_cross_entropy(logits, labels)
    assert out.shape == (7,)
    np.testing.assert_allclose(
        out, optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels), rtol=1e-6
    )
    expected = F.cross_entropy(
        _t(logits), torch.tensor(np.asarray(labels, np.int64)), reduction="none"
    )
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-6)
    # logsumexp(z) - z_y, written out.
    manual = jax.scipy.special.logsumexp(logits, axis=-1) - logits[jnp.arange(7), labels]
    np.testing.assert_allclose(out, manual, rtol=1e-6)


def test_softmax_cross_entropy_with_probs(key):
    k1, k2 = jax.random.split(key)
    logits = jax.random.normal(k1, (4, 6))
    probs = _probs(k2, (4, 6))
    out = losses.softmax_cross_entropy_with_probs(logits, probs)
    np.testing.assert_allclose(out, optax.losses.softmax_cross_entropy(logits, probs), rtol=1e-6)
    torch_out = F.cross_entropy(_t(logits), _t(probs), reduction="none").numpy()
    np.testing.assert_allclose(out, torch_out, rtol=1e-5)
    # One-hot targets give the integer-label loss; and H(p, softmax(z)) = cross_entropy.
    labels = jnp.array([0, 5, 2, 2])
    np.testing.assert_allclose(
        losses.softmax_cross_entropy_with_probs(logits, jax.nn.one_hot(labels, 6)),
        losses.softmax_cross_entropy(logits, labels),
        rtol=1e-6,
    )
    np.testing.assert_allclose(out, losses.cross_entropy(probs, jax.nn.softmax(logits)), rtol=1e-5)


def test_sigmoid_bce_matches_optax_torch_and_course_formula(key):
    k1, k2 = jax.random.split(key)
    logits = 4.0 * jax.random.normal(k1, (3, 8))
    labels = jax.random.bernoulli(k2, 0.5, (3, 8)).astype(jnp.float32)
    out = losses.sigmoid_binary_cross_entropy(logits, labels)
    assert out.shape == (3, 8)
    np.testing.assert_allclose(
        out, optax.losses.sigmoid_binary_cross_entropy(logits, labels), rtol=1e-5, atol=1e-6
    )
    torch_out = F.binary_cross_entropy_with_logits(_t(logits), _t(labels), reduction="none")
    np.testing.assert_allclose(out, torch_out.numpy(), rtol=1e-5, atol=1e-6)
    # zeta((1 - 2y) z) for hard labels.
    np.testing.assert_allclose(out, jax.nn.softplus((1 - 2 * labels) * logits), rtol=1e-6)
    # Integer labels are accepted.
    np.testing.assert_allclose(
        losses.sigmoid_binary_cross_entropy(logits, labels.astype(jnp.int32)), out
    )


def test_sigmoid_bce_is_stable_for_huge_logits():
    logits = jnp.array([100.0, -100.0, 100.0, -100.0, 30.0])
    labels = jnp.array([1.0, 0.0, 0.0, 1.0, 1.0])
    out = losses.sigmoid_binary_cross_entropy(logits, labels)
    assert bool(jnp.all(jnp.isfinite(out)))
    np.testing.assert_allclose(out, [0.0, 0.0, 100.0, 100.0, np.log1p(np.exp(-30.0))], rtol=1e-6)
    grads = jax.grad(lambda z: jnp.sum(losses.sigmoid_binary_cross_entropy(z, labels)))(logits)
    np.testing.assert_allclose(grads, jax.nn.sigmoid(logits) - labels, atol=1e-7)
    # The naive form through probabilities overflows to inf.
    naive = -(labels * jnp.log(jax.nn.sigmoid(logits)))
    assert not bool(jnp.all(jnp.isfinite(naive)))


def test_squared_errors(key):
    k1, k2 = jax.random.split(key)
    predictions = jax.random.normal(k1, (5, 3))
    targets = jax.random.normal(k2, (5, 3))
    mse = losses.mean_squared_error(predictions, targets)
    half = losses.half_squared_error(predictions, targets)
    torch_mse = F.mse_loss(_t(predictions), _t(targets), reduction="none").mean(-1).numpy()
    np.testing.assert_allclose(mse, torch_mse, rtol=1e-5)
    np.testing.assert_allclose(half, 0.5 * 3 * mse, rtol=1e-5)
    np.testing.assert_allclose(
        half, jnp.sum(optax.losses.l2_loss(predictions, targets), axis=-1), rtol=1e-6
    )
    # Gradient of the half squared error is the residual.
    grad = jax.grad(lambda p: jnp.sum(losses.half_squared_error(p, targets)))(predictions)
    np.testing.assert_allclose(grad, predictions - targets, rtol=1e-6)


def test_gaussian_nll_matches_scipy_and_torch(key):
    k1, k2, k3 = jax.random.split(key, 3)
    mean = jax.random.normal(k1, (4, 3))
    log_variance = 0.5 * jax.random.normal(k2, (4, 3))
    targets = jax.random.normal(k3, (4, 3))
    out = losses.gaussian_nll(mean, log_variance, targets)
    scale = np.exp(0.5 * np.asarray(log_variance, np.float64))
    expected = -scipy.stats.norm.logpdf(np.asarray(targets), np.asarray(mean), scale).sum(-1)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    torch_out = F.gaussian_nll_loss(
        _t(mean), _t(targets), _t(jnp.exp(log_variance)), full=True, reduction="none"
    )
    np.testing.assert_allclose(out, torch_out.numpy().sum(-1), rtol=1e-5)
    no_const = losses.gaussian_nll(mean, jnp.zeros_like(mean), targets, include_constant=False)
    np.testing.assert_allclose(no_const, losses.half_squared_error(mean, targets), rtol=1e-6)


def test_entropy_cross_entropy_kl_identities(key):
    k1, k2 = jax.random.split(key)
    p = _probs(k1, (6, 5))
    q = _probs(k2, (6, 5))
    h = losses.entropy(p)
    ce = losses.cross_entropy(p, q)
    kl = losses.kl_divergence(p, q)
    np.testing.assert_allclose(h, scipy.stats.entropy(np.asarray(p), axis=-1), rtol=1e-5)
    np.testing.assert_allclose(
        kl, scipy.stats.entropy(np.asarray(p), np.asarray(q), axis=-1), rtol=1e-4, atol=1e-6
    )
    np.testing.assert_allclose(kl, ce - h, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(kl, optax.losses.kl_divergence(jnp.log(q), p), rtol=1e-4, atol=1e-6)
    torch_kl = F.kl_div(_t(jnp.log(q)), _t(p), reduction="none").sum(-1).numpy()
    np.testing.assert_allclose(kl, torch_kl, rtol=1e-4, atol=1e-6)
    # Gibbs' inequality: H(p, q) >= H(p), equality iff p == q; KL is not symmetric.
    assert bool(jnp.all(kl > 0))
    assert bool(jnp.all(ce >= h))
    np.testing.assert_allclose(losses.kl_divergence(p, p), 0.0, atol=1e-6)
    assert not np.allclose(kl, losses.kl_divergence(q, p), rtol=1e-3)


def test_zero_log_zero_is_zero():
    p = jnp.array([1.0, 0.0, 0.0])
    q = jnp.array([0.5, 0.5, 0.0])
    assert float(losses.entropy(p)) == 0.0
    assert float(losses.cross_entropy(p, q)) == pytest.approx(np.log(2.0))
    assert float(losses.kl_divergence(p, q)) == pytest.approx(np.log(2.0))
    assert float(losses.entropy(jnp.full(4, 0.25))) == pytest.approx(np.log(4.0))
    assert bool(jnp.isinf(losses.kl_divergence(q, p)))


def test_gradients_match_finite_differences(key):
    k1, k2, k3 = jax.random.split(key, 3)
    logits = jax.random.normal(k1, (3, 4))
    labels = jnp.array([0, 3, 1])
    targets = jax.random.normal(k2, (3, 4))
    probs = _probs(k3, (3, 4))

    def classification(z, p):
        return jnp.sum(
            losses.softmax_cross_entropy(z, labels)
            + 0.5 * losses.softmax_cross_entropy_with_probs(z, p)
            + 0.25 * jnp.sum(losses.sigmoid_binary_cross_entropy(z, p), axis=-1)
        )

    def regression(params, t):
        z, log_variance = params
        return jnp.sum(
            losses.mean_squared_error(z, t)
            + 0.5 * losses.half_squared_error(z, t)
            + 0.25 * losses.gaussian_nll(z, log_variance, t)
        )

    def information(z, p):
        q = jax.nn.softmax(z)
        return jnp.sum(
            losses.entropy(q) + 0.5 * losses.kl_divergence(p, q) + 0.25 * losses.cross_entropy(p, q)
        )

    assert_grads_close(classification, logits, probs)
    assert_grads_close(regression, (logits, 0.3 * targets), targets)
    assert_grads_close(information, logits, probs)


def test_jit_and_vmap(key):
    k1, k2 = jax.random.split(key)
    logits = jax.random.normal(k1, (4, 3))
    labels = jnp.array([0, 2, 1, 1])
    probs = _probs(k2, (4, 3))
    q = jax.nn.softmax(logits)

    def some_losses(z, y, p, q):
        return (
            losses.softmax_cross_entropy(z, y),
            losses.sigmoid_binary_cross_entropy(z, p),
            losses.gaussian_nll(z, p, q),
            losses.kl_divergence(p, q),
        )

    assert_jit_matches_eager(some_losses, logits, labels, probs, q)
    assert_vmap_matches_loop(some_losses, logits[:2], labels[:2], probs[:2], q[:2])


def test_errors():
    logits = jnp.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 4\), got values in \[0, 4\]"):
        losses.softmax_cross_entropy(logits, jnp.array([0, 1, 4]))
    with pytest.raises(ValueError, match=r"labels must have shape logits.shape\[:-1\]"):
        losses.softmax_cross_entropy(logits, jnp.array([0, 1]))
    with pytest.raises(TypeError, match="labels must have an integer dtype"):
        losses.softmax_cross_entropy(logits, jnp.array([0.0, 1.0, 2.0]))
    with pytest.raises(TypeError, match="logits must have a floating dtype"):
        losses.softmax_cross_entropy(jnp.zeros((3, 4), jnp.int32), jnp.array([0, 1, 2]))
    with pytest.raises(ValueError, match="logits must have at least one axis"):
        losses.softmax_cross_entropy(jnp.array(1.0), jnp.array(0))
    with pytest.raises(ValueError, match="predictions and targets must have the same shape"):
        losses.mean_squared_error(jnp.zeros((3, 2)), jnp.zeros((3, 1)))
    with pytest.raises(ValueError, match="predictions and targets must have the same shape"):
        losses.half_squared_error(jnp.zeros((3, 2)), jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match="logits and labels must have the same shape"):
        losses.sigmoid_binary_cross_entropy(jnp.zeros(3), jnp.zeros(4))
    with pytest.raises(ValueError, match=r"labels must hold probabilities in \[0, 1\]"):
        losses.sigmoid_binary_cross_entropy(jnp.zeros(2), jnp.array([0.0, 2.0]))
    with pytest.raises(ValueError, match="probabilities must sum to 1 along axis -1"):
        losses.softmax_cross_entropy_with_probs(logits, jnp.full((3, 4), 0.5))
    with pytest.raises(ValueError, match="mean and log_variance must have the same shape"):
        losses.gaussian_nll(jnp.zeros((2, 2)), jnp.zeros((2, 1)), jnp.zeros((2, 2)))
    with pytest.raises(ValueError, match="q must sum to 1"):
        losses.kl_divergence(jnp.array([0.5, 0.5]), jnp.array([0.5, 0.6]))
    with pytest.raises(ValueError, match="p must hold probabilities"):
        losses.entropy(jnp.array([-0.5, 1.5]))
    with pytest.raises(ValueError, match="p and q must have the same shape"):
        losses.cross_entropy(jnp.array([0.5, 0.5]), jnp.array([0.2, 0.3, 0.5]))


@given(jst.probability_vectors(5, min_probability=0.0), jst.probability_vectors(5))
def test_gibbs_inequality_property(p, q):
    h = losses.entropy(p)
    ce = losses.cross_entropy(p, q)
    kl = losses.kl_divergence(p, q)
    assert float(kl) >= -1e-6
    assert float(ce) >= float(h) - 1e-5
    np.testing.assert_allclose(kl, ce - h, rtol=1e-4, atol=1e-5)
    assert 0.0 <= float(h) <= np.log(5.0) + 1e-6


def test_self_information_and_entropy_in_bits_and_nats():
    """Seed 002 (ch. 3, information theory): an event of probability 0.5 carries 1 bit,
    one of probability 0.125 carries 3 bits; a fair coin's entropy is 1 bit = log 2 nats."""
    bits = losses.self_information(jnp.array([0.5, 0.125, 1.0]), unit="bits")
    np.testing.assert_allclose(bits, [1.0, 3.0, 0.0], atol=1e-6)
    nats = losses.self_information(jnp.array([0.5, 0.125]))
    np.testing.assert_allclose(nats, [np.log(2.0), 3 * np.log(2.0)], rtol=1e-6)
    assert float(losses.self_information(0.0, unit="bits")) == np.inf
    np.testing.assert_allclose(losses.entropy(jnp.array([0.5, 0.5]), unit="bits"), 1.0, rtol=1e-6)
    p = jnp.array([[0.5, 0.25, 0.125, 0.125], [0.25, 0.25, 0.25, 0.25]])
    # Entropy is the expected self-information, and matches scipy in base 2.
    np.testing.assert_allclose(losses.entropy(p, unit="bits"), [1.75, 2.0], rtol=1e-6)
    np.testing.assert_allclose(
        losses.entropy(p, unit="bits"), scipy.stats.entropy(np.asarray(p), base=2, axis=-1)
    )
    np.testing.assert_allclose(
        losses.entropy(p), jnp.sum(p * losses.self_information(p), axis=-1), rtol=1e-6
    )
    assert_grads_close(lambda q: losses.self_information(q, unit="bits").sum(), p[0])
    with pytest.raises(ValueError, match="unit must be one of"):
        losses.entropy(p, unit="hartleys")
    with pytest.raises(ValueError, match="p must hold probabilities"):
        losses.self_information(jnp.array([1.5]))
