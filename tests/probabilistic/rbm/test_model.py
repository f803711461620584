"""Tests for jaxdl.probabilistic.rbm.model: energies, conditionals, monitors (vs enumeration)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.neural_network import BernoulliRBM

from jaxdl.probabilistic import rbm
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop
from tests.probabilistic.rbm._reference import (
    bits,
    exact_joint,
    np_energy,
    np_params,
    random_gaussian_rbm,
    random_rbm,
)


def test_init_shapes_and_scale(key):
    key, gaussian_key = jax.random.split(key)
    params = rbm.init_params(key, 50, 40, weight_scale=0.1)
    assert params.weights.shape == (50, 40)
    np.testing.assert_array_equal(params.visible_bias, np.zeros(50))
    np.testing.assert_array_equal(params.hidden_bias, np.zeros(40))
    assert abs(float(jnp.std(params.weights)) - 0.1) < 0.01
    gaussian = rbm.init_gaussian_params(
        gaussian_key, 3, 2, log_variance=-1.0, visible_bias=jnp.ones(3)
    )
    np.testing.assert_array_equal(gaussian.log_variance, -np.ones(3))
    np.testing.assert_array_equal(gaussian.visible_bias, np.ones(3))


def test_energy_matches_numpy_formula(tiny):
    vs, hs = bits(5)[::3], bits(4)[: len(bits(5)[::3])]
    got = rbm.energy(tiny, jnp.asarray(vs, jnp.float32), jnp.asarray(hs, jnp.float32))
    np.testing.assert_allclose(got, np_energy(tiny, vs, hs), rtol=1e-5, atol=1e-5)


def test_free_energy_is_marginal_over_hidden(tiny):
    vs, hs = bits(5), bits(4)
    brute = -np.logaddexp.reduce(-np_energy(tiny, vs[:, None, :], hs[None, :, :]), axis=1)
    got = rbm.free_energy(tiny, jnp.asarray(vs, jnp.float32))
    np.testing.assert_allclose(got, brute, rtol=1e-5, atol=1e-5)


def test_gaussian_free_energy_is_marginal_over_hidden(key):
    params = random_gaussian_rbm(key, 3, 4)
    v = jax.random.normal(jax.random.key(1), (6, 3))
    hs = jnp.asarray(bits(4), jnp.float32)
    energies = jax.vmap(lambda h: rbm.energy(params, v, jnp.broadcast_to(h, (6, 4))))(hs)
    brute = -jax.nn.logsumexp(-energies, axis=0)
    np.testing.assert_allclose(rbm.free_energy(params, v), brute, rtol=1e-5, atol=1e-5)


def test_conditionals_match_enumeration(tiny):
    vs, hs, joint = exact_joint(tiny)
    p_h_given_v = joint / joint.sum(axis=1, keepdims=True)  # [2**V, 2**H]
    np.testing.assert_allclose(
        rbm.hidden_probabilities(tiny, jnp.asarray(vs, jnp.float32)),
        p_h_given_v @ hs,
        rtol=1e-5,
        atol=1e-6,
    )
    p_v_given_h = joint / joint.sum(axis=0, keepdims=True)
    np.testing.assert_allclose(
        rbm.visible_mean(tiny, jnp.asarray(hs, jnp.float32)),
        p_v_given_h.T @ vs,
        rtol=1e-5,
        atol=1e-6,
    )


def test_gaussian_conditionals(key):
    params = random_gaussian_rbm(key, 3, 4)
    h = jnp.asarray(bits(4)[5])
    mean = rbm.visible_mean(params, h)
    # E(v, h) is a quadratic in v: its minimum is the mean and its Hessian is diag(1/s).
    grad_at_mean = jax.grad(lambda v: rbm.energy(params, v, h))(mean)
    np.testing.assert_allclose(grad_at_mean, np.zeros(3), atol=1e-5)
    hessian = jax.hessian(lambda v: rbm.energy(params, v, h))(mean)
    np.testing.assert_allclose(hessian, np.diag(np.exp(-params.log_variance)), rtol=1e-5)
    # P(h | v) against enumeration of exp(-E(v, h)) over h.
    v = jnp.array([0.3, -1.0, 2.0])
    hs = jnp.asarray(bits(4), jnp.float32)
    log_p = -jax.vmap(lambda hh: rbm.energy(params, v, hh))(hs)
    posterior = jax.nn.softmax(log_p)
    np.testing.assert_allclose(
        rbm.hidden_probabilities(params, v), posterior @ hs, rtol=1e-5, atol=1e-6
    )


def test_matches_scikit_learn_free_energy_and_hidden_means(tiny):
    ref = BernoulliRBM(n_components=4)
    W, b, c = np_params(tiny)
    ref.components_, ref.intercept_visible_, ref.intercept_hidden_ = W.T, b, c
    v = bits(5)
    np.testing.assert_allclose(
        rbm.free_energy(tiny, jnp.asarray(v, jnp.float32)), ref._free_energy(v), rtol=1e-5
    )
    np.testing.assert_allclose(
        rbm.hidden_probabilities(tiny, jnp.asarray(v, jnp.float32)),
        ref._mean_hiddens(v),
        rtol=1e-5,
    )


def test_base_rate_visible_bias_reproduces_marginals():
    data = jnp.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    bias = rbm.base_rate_visible_bias(data, pseudocount=0.5)
    expected = (np.array([3.0, 1.0, 1.0]) + 0.5) / 5.0
    np.testing.assert_allclose(jax.nn.sigmoid(bias), expected, rtol=1e-6)


def test_free_energy_jit_and_vmap(tiny):
    visible = jnp.asarray(bits(5)[:6], jnp.float32)
    fn = lambda v: rbm.free_energy(tiny, v)
    assert_jit_matches_eager(fn, visible)
    assert_vmap_matches_loop(fn, visible)
    np.testing.assert_allclose(fn(visible[2]), fn(visible)[2], rtol=1e-6)


def test_gradients_against_finite_differences(key):
    params = random_rbm(key, 4, 3)
    v = jnp.asarray(bits(4)[[3, 9, 14]], jnp.float32)
    assert_grads_close(lambda p, v: jnp.sum(rbm.free_energy(p, v)), params, v)
    assert_grads_close(lambda p: rbm.log_partition_function(p), params)
    assert_grads_close(lambda p, v: jnp.sum(rbm.exact_pseudo_log_likelihood(p, v)), params, v)
    gaussian = random_gaussian_rbm(jax.random.key(3), 3, 2)
    x = jax.random.normal(jax.random.key(4), (4, 3))
    assert_grads_close(lambda p, x: jnp.sum(rbm.free_energy(p, x)), gaussian, x)
    assert_grads_close(lambda p: rbm.log_partition_function(p), gaussian)


def test_exact_pseudo_likelihood_matches_enumeration(tiny):
    vs = bits(5)
    log_p = -np.asarray(rbm.free_energy(tiny, jnp.asarray(vs, jnp.float32)), np.float64)
    codes = np.arange(32)
    expected = np.zeros(32)
    for i in range(5):
        flipped = codes ^ (1 << i)
        expected += log_p - np.logaddexp(log_p, log_p[flipped])
    got = rbm.exact_pseudo_log_likelihood(tiny, jnp.asarray(vs, jnp.float32))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_stochastic_pseudo_likelihood_is_unbiased_and_matches_sklearn(tiny):
    v = jnp.asarray(bits(5)[[3, 17, 29]], jnp.float32)
    keys = jax.random.split(jax.random.key(5), 2000)
    draws = jax.vmap(lambda k: rbm.pseudo_log_likelihood(k, tiny, v))(keys)
    exact = rbm.exact_pseudo_log_likelihood(tiny, v)
    standard_error = np.asarray(jnp.std(draws, axis=0)) / np.sqrt(2000)
    assert np.all(np.abs(np.asarray(draws.mean(axis=0) - exact)) < 4.0 * standard_error + 1e-4)
    # Each draw is one of scikit-learn's score_samples values for the same weights.
    ref = BernoulliRBM(n_components=4, random_state=0)
    W, b, c = np_params(tiny)
    ref.components_, ref.intercept_visible_, ref.intercept_hidden_ = W.T, b, c
    ref.n_features_in_ = 5
    sk = ref.score_samples(np.asarray(v, np.float64))
    index = np.random.RandomState(0).randint(0, 5, 3)
    vs = np.asarray(v, np.float64)
    flipped = vs.copy()
    flipped[np.arange(3), index] = 1 - flipped[np.arange(3), index]
    ours = 5 * jax.nn.log_sigmoid(rbm.free_energy(tiny, flipped) - rbm.free_energy(tiny, v))
    np.testing.assert_allclose(ours, sk, rtol=1e-4)


def test_errors(tiny):
    key = jax.random.key(11)
    good = jnp.zeros((4, 5))
    with pytest.raises(ValueError, match="visible must have last dimension 5"):
        rbm.free_energy(tiny, jnp.zeros((4, 6)))
    with pytest.raises(ValueError, match="visible must have rank"):
        rbm.free_energy(tiny, jnp.zeros((2, 2, 5)))
    with pytest.raises(ValueError, match="hidden must have last dimension 4"):
        rbm.visible_mean(tiny, jnp.zeros(3))
    with pytest.raises(ValueError, match="same leading shape"):
        rbm.energy(tiny, jnp.zeros((2, 5)), jnp.zeros((3, 4)))
    with pytest.raises(ValueError, match="probabilities in"):
        rbm.contrastive_divergence(key, tiny, good.at[0, 0].set(2.0))
    with pytest.raises(ValueError, match="k must be > 0"):
        rbm.contrastive_divergence(key, tiny, good, k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        rbm.contrastive_divergence(key, tiny, good, k=1.5)
    with pytest.raises(ValueError, match="chains must have last dimension 5"):
        rbm.contrastive_divergence(key, tiny, good, chains=jnp.zeros((3, 2)))
    with pytest.raises(ValueError, match="params.hidden_bias must have shape"):
        rbm.free_energy(tiny._replace(hidden_bias=jnp.zeros(3)), good)
    with pytest.raises(TypeError, match="params must be RBMParams"):
        rbm.free_energy({"weights": tiny.weights}, good)
    with pytest.raises(TypeError, match="binary visible units"):
        rbm.pseudo_log_likelihood(key, random_gaussian_rbm(jax.random.key(12), 5, 4), good)
    with pytest.raises(ValueError, match="visible bias|visible_bias must have shape"):
        rbm.init_params(key, 5, 4, visible_bias=jnp.zeros(3))
    with pytest.raises(ValueError, match="num_hidden must be > 0"):
        rbm.init_params(key, 5, 0)
    with pytest.raises(ValueError, match="data must hold probabilities"):
        rbm.base_rate_visible_bias(good - 1.0)
