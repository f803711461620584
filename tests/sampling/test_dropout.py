"""Tests for jaxdl.sampling.dropout: rules, Monte Carlo dropout, geometric-mean ensembles."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.sampling import dropout as dr
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


def test_inverted_and_classic_share_the_mask(key):
    x = jnp.arange(1.0, 9.0)
    key_copy = jax.random.clone(key)
    inverted = dr.dropout(key, x, 0.5, rule="inverted")
    classic = dr.dropout(key_copy, x, 0.5, rule="classic")
    np.testing.assert_allclose(inverted, classic / 0.5)
    kept = np.asarray(classic) != 0
    np.testing.assert_allclose(np.asarray(classic)[kept], np.asarray(x)[kept])


def test_keep_frequency_and_unbiased_inverted(key):
    x = jnp.ones((4000, 5))
    y = np.asarray(dr.dropout(key, x, 0.8))
    kept = (y != 0).mean()
    n = y.size
    assert abs(kept - 0.8) < 5 * np.sqrt(0.8 * 0.2 / n)
    # E[x mu / p] = x: the mean stays 1 within 5 standard errors (sd = sqrt((1-p)/p)).
    assert abs(y.mean() - 1.0) < 5 * np.sqrt(0.2 / 0.8 / n)


def test_classic_training_mean_matches_weight_scaling(key):
    x = jnp.full((6000, 3), 2.0)
    y = np.asarray(dr.dropout(key, x, 0.5, rule="classic"))
    scaled = np.asarray(dr.dropout_inference(x, 0.5, rule="classic"))
    np.testing.assert_allclose(scaled, 1.0)
    assert abs(y.mean() - scaled.mean()) < 5 * 1.0 / np.sqrt(y.size)


def test_inference_rules():
    x = jnp.array([1.0, -2.0])
    np.testing.assert_allclose(dr.dropout_inference(x, 0.8, rule="inverted"), x)
    np.testing.assert_allclose(dr.dropout_inference(x, 0.8, rule="classic"), 0.8 * x)


def test_broadcast_axes_share_mask(key):
    y = np.asarray(dr.dropout(key, jnp.ones((3, 50)), 0.5, broadcast_axes=(0,)))
    np.testing.assert_array_equal(y[0], y[1])
    np.testing.assert_array_equal(y[0], y[2])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"keep_probability": 0.0}, ValueError, r"keep_probability must lie in \(0.0, 1.0\]"),
        ({"keep_probability": 1.2}, ValueError, "keep_probability must lie in"),
        ({"keep_probability": 0.5, "rule": "bogus"}, ValueError, "rule must be one of"),
    ],
)
def test_dropout_errors(key, kwargs, error, match):
    with pytest.raises(error, match=match):
        dr.dropout(key, jnp.ones(3), **kwargs)


def test_dropout_rejects_integer_input(key):
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        dr.dropout(key, jnp.ones(3, jnp.int32), 0.5)


def test_dropout_gradients_with_fixed_key(key):
    def loss(x, k):
        return jnp.sum(jnp.tanh(dr.dropout(k, x, 0.6)) ** 2)

    assert_grads_close(loss, jnp.array([0.3, -1.2, 0.8, 2.0]), key)


def test_dropout_jit_and_vmap(key):
    x = jnp.arange(12.0).reshape(3, 4)
    assert_jit_matches_eager(lambda k, v: dr.dropout(k, v, 0.5), key, x)
    keys = jax.random.split(key, 3)
    assert_vmap_matches_loop(jax.jit(lambda k, v: dr.dropout(k, v, 0.7, rule="classic")), keys, x)


# --- ensembles --------------------------------------------------------------------------------


def _softmax_regression(key, num_inputs, num_classes):
    k_w, k_b, k_x = jax.random.split(key, 3)
    weights = jax.random.normal(k_w, (num_inputs, num_classes))
    bias = jax.random.normal(k_b, (num_classes,))
    x = jax.random.normal(k_x, (num_inputs,))
    return weights, bias, x


@pytest.mark.parametrize(("num_inputs", "keep"), [(10, 0.5), (6, 0.8)])
def test_weight_scaling_is_exact_for_softmax_regression(key, num_inputs, keep):
    """Renormalized geometric mean over all 2^d masks == weight scaling (GBC 2016, 7.12)."""
    weights, bias, x = _softmax_regression(key, num_inputs, 3)
    masks = dr.enumerate_masks(num_inputs)
    assert masks.shape == (2**num_inputs, num_inputs)
    log_probs = jax.nn.log_softmax((masks * x[None, :]) @ weights + bias[None, :], axis=-1)
    weights_mu = jnp.exp(dr.mask_log_probabilities(masks, keep))
    np.testing.assert_allclose(jnp.sum(weights_mu), 1.0, rtol=1e-5)
    ensemble = dr.renormalized_geometric_mean(log_probs, weights_mu)
    scaled_input = dr.dropout_inference(x, keep, rule="classic")
    weight_scaling = jax.nn.softmax(scaled_input @ weights + bias)
    np.testing.assert_allclose(ensemble, weight_scaling, rtol=1e-5, atol=1e-6)
    # The arithmetic mean of the same ensemble is a different distribution.
    arithmetic = jnp.sum(weights_mu[:, None] * jnp.exp(log_probs), axis=0)
    assert np.max(np.abs(np.asarray(arithmetic - weight_scaling))) > 1e-4


def test_geometric_mean_uniform_weights_is_mth_root():
    probs = jnp.array([[0.9, 0.1], [0.5, 0.5]])
    expected = np.sqrt(np.array([0.45, 0.05]))
    np.testing.assert_allclose(
        dr.renormalized_geometric_mean(jnp.log(probs)), expected / expected.sum(), rtol=1e-6
    )


def test_geometric_mean_errors():
    with pytest.raises(ValueError, match="rank >= 2"):
        dr.renormalized_geometric_mean(jnp.zeros(3))
    with pytest.raises(ValueError, match=r"weights must have shape \(2,\)"):
        dr.renormalized_geometric_mean(jnp.zeros((2, 3)), jnp.ones(3))


def test_enumerate_masks_errors():
    with pytest.raises(ValueError, match="num_units must be <= 20"):
        dr.enumerate_masks(21)
    with pytest.raises(TypeError, match="num_units must be an int"):
        dr.enumerate_masks(2.0)


def test_monte_carlo_dropout_converges_to_arithmetic_mean(key):
    """MC dropout averages T sampled sub-networks; it estimates sum_mu p(mu) p(y|x, mu)."""
    k_model, k_mc = jax.random.split(key)
    weights, bias, x = _softmax_regression(k_model, 5, 3)
    keep = 0.8
    masks = dr.enumerate_masks(5)
    probs = jax.nn.softmax((masks * x[None, :]) @ weights + bias[None, :], axis=-1)
    exact = jnp.sum(jnp.exp(dr.mask_log_probabilities(masks, keep))[:, None] * probs, axis=0)

    def one_pass(k):
        return jax.nn.softmax(dr.dropout(k, x, keep, rule="classic") @ weights + bias)

    pred = dr.monte_carlo_dropout(k_mc, one_pass, num_samples=4000)
    assert pred.samples.shape == (4000, 3)
    se = np.sqrt(np.asarray(pred.variance) / 4000)
    np.testing.assert_array_less(np.abs(np.asarray(pred.mean - exact)), 5 * se + 1e-6)


def test_monte_carlo_dropout_single_pass_variance_is_zero(key):
    pred = dr.monte_carlo_dropout(key, lambda k: dr.dropout(k, jnp.ones(3), 0.5), 1)
    np.testing.assert_array_equal(pred.variance, 0.0)
    with pytest.raises(TypeError, match="num_samples must be an int"):
        dr.monte_carlo_dropout(key, lambda k: k, 2.5)


def test_mask_log_probabilities_errors():
    with pytest.raises(ValueError, match="keep_probability must lie in"):
        dr.mask_log_probabilities(dr.enumerate_masks(2), 1.0)


def test_mask_log_probabilities_per_unit_and_jit():
    masks = dr.enumerate_masks(2)
    keep = jnp.array([0.5, 0.8])
    expected = np.log([0.5 * 0.2, 0.5 * 0.2, 0.5 * 0.8, 0.5 * 0.8])
    np.testing.assert_allclose(dr.mask_log_probabilities(masks, keep), expected, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(dr.mask_log_probabilities)(masks, keep), expected, rtol=1e-6)
