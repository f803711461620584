"""Tests for jaxdl.probabilistic.rbm: exact enumeration on tiny RBMs is the reference."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from scipy import stats
from sklearn.datasets import load_digits
from sklearn.neural_network import BernoulliRBM

from jaxdl.probabilistic import rbm
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop

# ----------------------------------------------------------------------------------------
# Fixtures and exact references
# ----------------------------------------------------------------------------------------


def _bits(n: int) -> np.ndarray:
    """All 2**n binary vectors as float64 rows."""
    codes = np.arange(2**n)[:, None]
    return ((codes >> np.arange(n)[None, :]) & 1).astype(np.float64)


def _random_rbm(key, num_visible, num_hidden, scale=1.0) -> rbm.RBMParams:
    k_w, k_b, k_c = jax.random.split(key, 3)
    return rbm.RBMParams(
        weights=scale * jax.random.normal(k_w, (num_visible, num_hidden)),
        visible_bias=0.5 * jax.random.normal(k_b, (num_visible,)),
        hidden_bias=0.5 * jax.random.normal(k_c, (num_hidden,)),
    )


def _random_gaussian_rbm(key, num_visible, num_hidden, scale=0.7) -> rbm.GaussianRBMParams:
    k_w, k_b, k_c, k_s = jax.random.split(key, 4)
    return rbm.GaussianRBMParams(
        weights=scale * jax.random.normal(k_w, (num_visible, num_hidden)),
        visible_bias=0.5 * jax.random.normal(k_b, (num_visible,)),
        hidden_bias=0.5 * jax.random.normal(k_c, (num_hidden,)),
        log_variance=0.3 * jax.random.normal(k_s, (num_visible,)),
    )


def _np(params):
    return [np.asarray(x, np.float64) for x in params]


def _np_energy(params, v, h):
    W, b, c = _np(params)[:3]
    return -(v @ b) - (h @ c) - np.einsum("...i,ij,...j->...", v, W, h)


def _exact_joint(params):
    """Exact P(v, h) of a tiny Bernoulli RBM as a [2**V, 2**H] table."""
    V, H = params.weights.shape
    vs, hs = _bits(V), _bits(H)
    log_p = -_np_energy(params, vs[:, None, :], hs[None, :, :])
    log_p -= np.logaddexp.reduce(log_p.ravel())
    return vs, hs, np.exp(log_p)


@pytest.fixture
def tiny():
    return _random_rbm(jax.random.key(123), 5, 4)


@pytest.fixture(scope="module")
def binary_digits():
    x = load_digits().data[:300]
    return (x / 16.0 > 0.5).astype(np.float32)


# ----------------------------------------------------------------------------------------
# Energy, free energy, conditionals
# ----------------------------------------------------------------------------------------


def test_init_shapes_and_scale(key):
    key, gaussian_key = jax.random.split(key)
    params = rbm.init(key, 50, 40, weight_scale=0.1)
    assert params.weights.shape == (50, 40)
    np.testing.assert_array_equal(params.visible_bias, np.zeros(50))
    np.testing.assert_array_equal(params.hidden_bias, np.zeros(40))
    assert abs(float(jnp.std(params.weights)) - 0.1) < 0.01
    gaussian = rbm.init_gaussian(gaussian_key, 3, 2, log_variance=-1.0, visible_bias=jnp.ones(3))
    np.testing.assert_array_equal(gaussian.log_variance, -np.ones(3))
    np.testing.assert_array_equal(gaussian.visible_bias, np.ones(3))


def test_energy_matches_numpy_formula(tiny):
    vs, hs = _bits(5)[::3], _bits(4)[: len(_bits(5)[::3])]
    got = rbm.energy(tiny, jnp.asarray(vs, jnp.float32), jnp.asarray(hs, jnp.float32))
    np.testing.assert_allclose(got, _np_energy(tiny, vs, hs), rtol=1e-5, atol=1e-5)


def test_free_energy_is_marginal_over_hidden(tiny):
    vs, hs = _bits(5), _bits(4)
    brute = -np.logaddexp.reduce(-_np_energy(tiny, vs[:, None, :], hs[None, :, :]), axis=1)
    got = rbm.free_energy(tiny, jnp.asarray(vs, jnp.float32))
    np.testing.assert_allclose(got, brute, rtol=1e-5, atol=1e-5)


def test_gaussian_free_energy_is_marginal_over_hidden(key):
    params = _random_gaussian_rbm(key, 3, 4)
    v = jax.random.normal(jax.random.key(1), (6, 3))
    hs = jnp.asarray(_bits(4), jnp.float32)
    energies = jax.vmap(lambda h: rbm.energy(params, v, jnp.broadcast_to(h, (6, 4))))(hs)
    brute = -jax.nn.logsumexp(-energies, axis=0)
    np.testing.assert_allclose(rbm.free_energy(params, v), brute, rtol=1e-5, atol=1e-5)


def test_conditionals_match_enumeration(tiny):
    vs, hs, joint = _exact_joint(tiny)
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
    params = _random_gaussian_rbm(key, 3, 4)
    h = jnp.asarray(_bits(4)[5])
    mean = rbm.visible_mean(params, h)
    # E(v, h) is a quadratic in v: its minimum is the mean and its Hessian is diag(1/s).
    grad_at_mean = jax.grad(lambda v: rbm.energy(params, v, h))(mean)
    np.testing.assert_allclose(grad_at_mean, np.zeros(3), atol=1e-5)
    hessian = jax.hessian(lambda v: rbm.energy(params, v, h))(mean)
    np.testing.assert_allclose(hessian, np.diag(np.exp(-params.log_variance)), rtol=1e-5)
    # P(h | v) against enumeration of exp(-E(v, h)) over h.
    v = jnp.array([0.3, -1.0, 2.0])
    hs = jnp.asarray(_bits(4), jnp.float32)
    log_p = -jax.vmap(lambda hh: rbm.energy(params, v, hh))(hs)
    posterior = jax.nn.softmax(log_p)
    np.testing.assert_allclose(
        rbm.hidden_probabilities(params, v), posterior @ hs, rtol=1e-5, atol=1e-6
    )


def test_matches_scikit_learn_free_energy_and_hidden_means(tiny):
    ref = BernoulliRBM(n_components=4)
    W, b, c = _np(tiny)
    ref.components_, ref.intercept_visible_, ref.intercept_hidden_ = W.T, b, c
    v = _bits(5)
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


# ----------------------------------------------------------------------------------------
# Partition function and likelihood
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 4), (3, 6)])  # enumerate hidden / enumerate visible
def test_log_partition_matches_brute_force(key, shape):
    params = _random_rbm(key, *shape)
    vs, hs = _bits(shape[0]), _bits(shape[1])
    brute = np.logaddexp.reduce(-_np_energy(params, vs[:, None, :], hs[None, :, :]).ravel())
    np.testing.assert_allclose(rbm.log_partition_function(params), brute, rtol=1e-5)


def test_log_partition_chunks_many_states(key):
    # 2**13 hidden states: two chunks of 2**12 go through lax.map.
    params = _random_rbm(key, 14, 13, scale=0.3)
    hs = jnp.asarray(_bits(13), jnp.float32)
    terms = hs @ params.hidden_bias + jnp.sum(
        jax.nn.softplus(hs @ params.weights.T + params.visible_bias[None, :]), axis=1
    )
    np.testing.assert_allclose(
        rbm.log_partition_function(params), jax.nn.logsumexp(terms), rtol=1e-5
    )


def test_gaussian_log_partition_matches_numerical_integration(key):
    params = _random_gaussian_rbm(key, 1, 3)
    grid = np.linspace(-15.0, 15.0, 20001)[:, None]
    free = np.asarray(rbm.free_energy(params, jnp.asarray(grid, jnp.float32)), np.float64)
    integral = np.log(np.trapezoid(np.exp(-free), grid[:, 0]))
    np.testing.assert_allclose(rbm.log_partition_function(params), integral, rtol=1e-4)


def test_log_likelihood_normalizes(tiny):
    vs = jnp.asarray(_bits(5), jnp.float32)
    log_p = rbm.log_likelihood(tiny, vs, rbm.log_partition_function(tiny))
    np.testing.assert_allclose(jnp.sum(jnp.exp(log_p)), 1.0, rtol=1e-5)


def test_grad_log_partition_is_model_expectation(tiny):
    # d log Z / d theta = E_model[-dF/dtheta]: the exact negative phase.
    vs = jnp.asarray(_bits(5), jnp.float32)
    p_v = jax.nn.softmax(-rbm.free_energy(tiny, vs))
    per_v = jax.vmap(jax.grad(lambda p, v: -rbm.free_energy(p, v)), in_axes=(None, 0))(tiny, vs)
    expected = jax.tree.map(lambda g: jnp.tensordot(p_v, g, axes=1), per_v)
    got = jax.grad(rbm.log_partition_function)(tiny)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_ais_matches_exact_log_partition(key):
    params = _random_rbm(key, 10, 6)
    exact = rbm.log_partition_function(params)
    result = rbm.ais_log_partition(jax.random.key(1), params, num_runs=200, num_betas=1000)
    assert result.log_weights.shape == (200,)
    assert float(result.log_partition_std) > 0.0
    # Tolerance from the spread of the runs (delta-method standard error).
    tolerance = 4.0 * float(result.log_partition_std) + 1e-3
    assert abs(float(result.log_partition - exact)) < tolerance
    # The base model is exact at beta = 0.
    base = rbm.RBMParams(jnp.zeros_like(params.weights), jnp.zeros(10), jnp.zeros(6))
    np.testing.assert_allclose(
        result.log_partition_base, rbm.log_partition_function(base), rtol=1e-6
    )


def test_ais_with_base_rate_schedule_and_gaussian(key, binary_digits):
    params = _random_rbm(key, 10, 6, scale=0.8)
    base = rbm.base_rate_visible_bias(jnp.asarray(binary_digits[:, 20:30]))
    # A schedule with finer steps near beta = 1 (same length as the linear one above).
    betas = jnp.concatenate([jnp.linspace(0.0, 0.5, 400), jnp.linspace(0.5, 1.0, 601)[1:]])
    result = rbm.ais_log_partition(
        jax.random.key(2), params, num_runs=200, betas=betas, base_visible_bias=base
    )
    exact = rbm.log_partition_function(params)
    assert abs(float(result.log_partition - exact)) < 4.0 * float(result.log_partition_std) + 1e-3

    gaussian = _random_gaussian_rbm(jax.random.key(3), 4, 5)
    result = rbm.ais_log_partition(jax.random.key(4), gaussian, num_runs=100, num_betas=500)
    exact = rbm.log_partition_function(gaussian)
    assert abs(float(result.log_partition - exact)) < 4.0 * float(result.log_partition_std) + 1e-3


# ----------------------------------------------------------------------------------------
# Gibbs sampling (statistics against the exact distribution)
# ----------------------------------------------------------------------------------------


def test_gibbs_chains_sample_exact_distribution(key):
    params = _random_rbm(key, 4, 3)
    vs, _, joint = _exact_joint(params)
    p_v = joint.sum(axis=1)
    num_chains = 4000
    samples = rbm.sample(jax.random.key(1), params, num_chains, 40)
    codes = np.asarray(samples, np.int64) @ (1 << np.arange(4))
    counts = np.bincount(codes, minlength=16)
    # Independent chains: the effective sample size is the number of chains.
    expected = num_chains * p_v
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    tv = 0.5 * np.abs(counts / num_chains - p_v).sum()
    tv_tolerance = 3.0 * 0.5 * np.sum(np.sqrt(p_v * (1 - p_v) / num_chains))
    assert tv < tv_tolerance


def test_gibbs_step_hidden_and_visible_statistics(key):
    params = _random_rbm(key, 4, 3)
    vs, hs, joint = _exact_joint(params)
    num_chains = 4000
    # Start the chains at exact samples of P(v): one sweep must leave P(v, h) invariant.
    init_key, step_key = jax.random.split(jax.random.key(7))
    rows = jax.random.choice(init_key, 16, (num_chains,), p=jnp.asarray(joint.sum(axis=1)))
    state = rbm.gibbs_init(params, jnp.asarray(vs[np.asarray(rows)], jnp.float32))
    state, info = rbm.gibbs_step(step_key, state, params)
    assert info.hidden_probabilities.shape == (num_chains, 3)
    hidden_mean = np.asarray(state.hidden).mean(axis=0)
    exact_hidden_mean = joint.sum(axis=0) @ hs
    tolerance = 4.0 * np.sqrt(exact_hidden_mean * (1 - exact_hidden_mean) / num_chains)
    assert np.all(np.abs(hidden_mean - exact_hidden_mean) < tolerance)
    visible_mean = np.asarray(state.visible).mean(axis=0)
    exact_visible_mean = joint.sum(axis=1) @ vs
    tolerance = 4.0 * np.sqrt(exact_visible_mean * (1 - exact_visible_mean) / num_chains)
    assert np.all(np.abs(visible_mean - exact_visible_mean) < tolerance)


def test_gaussian_gibbs_matches_mixture_moments(key):
    params = _random_gaussian_rbm(key, 2, 3, scale=1.0)
    hs = jnp.asarray(_bits(3), jnp.float32)
    p_h = np.asarray(jax.nn.softmax(rbm._log_unnormalized_hidden_marginal(params, hs)))
    means = np.asarray(hs @ params.weights.T + params.visible_bias[None, :], np.float64)
    variance = np.exp(np.asarray(params.log_variance, np.float64))
    mean = p_h @ means
    second = p_h @ (means**2) + variance
    var = second - mean**2
    num_chains = 4000
    samples = np.asarray(rbm.sample(jax.random.key(1), params, num_chains, 40), np.float64)
    assert np.all(np.abs(samples.mean(axis=0) - mean) < 4.0 * np.sqrt(var / num_chains))
    # Var of the sample variance of a (near-Gaussian) variable ~ 2 var^2 / n; allow kurtosis.
    assert np.all(np.abs(samples.var(axis=0) - var) < 6.0 * var * np.sqrt(2.0 / num_chains))


def test_run_gibbs_zero_steps_is_identity(tiny):
    state = rbm.gibbs_init(tiny, jnp.ones((3, 5)))
    out = rbm.run_gibbs(jax.random.key(3), state, tiny, 0)
    np.testing.assert_array_equal(out.visible, state.visible)


def test_gibbs_jit_and_vmap(tiny):
    keys = jax.random.split(jax.random.key(9), 3)
    visible = jnp.asarray(_bits(5)[[1, 7, 30]], jnp.float32)

    def one_chain(key, v):
        state, info = rbm.gibbs_step(key, rbm.gibbs_init(tiny, v), tiny)
        return state.visible, info.visible_mean

    assert_vmap_matches_loop(one_chain, keys, visible)
    assert_jit_matches_eager(one_chain, keys[0], visible[0])


def test_free_energy_jit_and_vmap(tiny):
    visible = jnp.asarray(_bits(5)[:6], jnp.float32)
    fn = lambda v: rbm.free_energy(tiny, v)
    assert_jit_matches_eager(fn, visible)
    assert_vmap_matches_loop(fn, visible)
    np.testing.assert_allclose(fn(visible[2]), fn(visible)[2], rtol=1e-6)


# ----------------------------------------------------------------------------------------
# Gradients
# ----------------------------------------------------------------------------------------


def test_gradients_against_finite_differences(key):
    params = _random_rbm(key, 4, 3)
    v = jnp.asarray(_bits(4)[[3, 9, 14]], jnp.float32)
    assert_grads_close(lambda p, v: jnp.sum(rbm.free_energy(p, v)), params, v)
    assert_grads_close(lambda p: rbm.log_partition_function(p), params)
    assert_grads_close(lambda p, v: jnp.sum(rbm.exact_pseudo_log_likelihood(p, v)), params, v)
    gaussian = _random_gaussian_rbm(jax.random.key(3), 3, 2)
    x = jax.random.normal(jax.random.key(4), (4, 3))
    assert_grads_close(lambda p, x: jnp.sum(rbm.free_energy(p, x)), gaussian, x)
    assert_grads_close(lambda p: rbm.log_partition_function(p), gaussian)


@pytest.mark.parametrize("gaussian", [False, True])
def test_cd_phases_are_free_energy_gradients(key, gaussian):
    params = _random_gaussian_rbm(key, 4, 3) if gaussian else _random_rbm(key, 4, 3)
    if gaussian:
        data = jax.random.normal(jax.random.key(1), (6, 4))
    else:
        data = jnp.asarray(_bits(4)[[0, 3, 5, 9, 12, 15]], jnp.float32)
    grads, info = rbm.contrastive_divergence(jax.random.key(2), params, data, k=2)

    def mean_negative_free_energy(p, v):
        return -jnp.mean(rbm.free_energy(p, v))

    positive = jax.grad(mean_negative_free_energy)(params, data)
    negative = jax.grad(mean_negative_free_energy)(params, info.chains)
    for got, want in zip(info.positive_phase, positive, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for got, want in zip(info.negative_phase, negative, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for g, p, n in zip(grads, positive, negative, strict=True):
        np.testing.assert_allclose(g, n - p, rtol=1e-5, atol=1e-6)


def test_long_persistent_chains_give_exact_gradient(key):
    # With many well-mixed chains the negative phase estimates d log Z / d theta.
    params = _random_rbm(key, 4, 3)
    data = jnp.asarray(_bits(4)[[1, 6, 11]], jnp.float32)
    chains = jnp.zeros((4000, 4))
    grads, info = rbm.contrastive_divergence(jax.random.key(1), params, data, k=40, chains=chains)
    exact_negative = jax.grad(rbm.log_partition_function)(params)
    for got, want in zip(info.negative_phase, exact_negative, strict=True):
        # Each statistic is a mean of 4000 values in [0, 1]: standard error <= 0.008.
        np.testing.assert_allclose(got, want, atol=0.04)
    assert info.chains.shape == (4000, 4)
    assert grads.weights.shape == (4, 3)


# ----------------------------------------------------------------------------------------
# Pseudo-likelihood
# ----------------------------------------------------------------------------------------


def test_exact_pseudo_likelihood_matches_enumeration(tiny):
    vs = _bits(5)
    log_p = -np.asarray(rbm.free_energy(tiny, jnp.asarray(vs, jnp.float32)), np.float64)
    codes = np.arange(32)
    expected = np.zeros(32)
    for i in range(5):
        flipped = codes ^ (1 << i)
        expected += log_p - np.logaddexp(log_p, log_p[flipped])
    got = rbm.exact_pseudo_log_likelihood(tiny, jnp.asarray(vs, jnp.float32))
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_stochastic_pseudo_likelihood_is_unbiased_and_matches_sklearn(tiny):
    v = jnp.asarray(_bits(5)[[3, 17, 29]], jnp.float32)
    keys = jax.random.split(jax.random.key(5), 2000)
    draws = jax.vmap(lambda k: rbm.pseudo_log_likelihood(k, tiny, v))(keys)
    exact = rbm.exact_pseudo_log_likelihood(tiny, v)
    standard_error = np.asarray(jnp.std(draws, axis=0)) / np.sqrt(2000)
    assert np.all(np.abs(np.asarray(draws.mean(axis=0) - exact)) < 4.0 * standard_error + 1e-4)
    # Each draw is one of scikit-learn's score_samples values for the same weights.
    ref = BernoulliRBM(n_components=4, random_state=0)
    W, b, c = _np(tiny)
    ref.components_, ref.intercept_visible_, ref.intercept_hidden_ = W.T, b, c
    ref.n_features_in_ = 5
    sk = ref.score_samples(np.asarray(v, np.float64))
    index = np.random.RandomState(0).randint(0, 5, 3)
    vs = np.asarray(v, np.float64)
    flipped = vs.copy()
    flipped[np.arange(3), index] = 1 - flipped[np.arange(3), index]
    ours = 5 * jax.nn.log_sigmoid(rbm.free_energy(tiny, flipped) - rbm.free_energy(tiny, v))
    np.testing.assert_allclose(ours, sk, rtol=1e-4)


# ----------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------


def test_pcd_training_increases_pseudo_likelihood_on_digits(key, binary_digits):
    # CD-1 training on digits is covered by the rbm-digits smoke test.
    init_key, train_key = jax.random.split(key)
    data = jnp.asarray(binary_digits)
    params = rbm.init(init_key, 64, 32)
    before = float(jnp.mean(rbm.exact_pseudo_log_likelihood(params, data)))
    result = rbm.train_rbm(train_key, params, data, 10, 10, 0.1, 1, True)
    after = float(jnp.mean(rbm.exact_pseudo_log_likelihood(result.params, data)))
    # The best model without hidden units (independent pixels at their base rates).
    independent = rbm.RBMParams(
        jnp.zeros((64, 32)), rbm.base_rate_visible_bias(data, pseudocount=0.01), jnp.zeros(32)
    )
    baseline = float(jnp.mean(rbm.exact_pseudo_log_likelihood(independent, data)))
    assert after > before + 15.0
    assert after > baseline + 1.5
    history = result.history
    assert history.pseudo_log_likelihood.shape == (10,)
    assert float(history.pseudo_log_likelihood[-1]) > before + 15.0
    assert float(history.reconstruction_error[-1]) < float(history.reconstruction_error[0])
    assert result.chains.shape == (10, 64)


@pytest.mark.standard_dtype_promotion
def test_training_with_optax_optimizer_and_gaussian_units(key):
    init_key, data_key, train_key = jax.random.split(key, 3)
    # Two Gaussian clusters: a Gaussian RBM lowers the free energy of the data.
    centers = jnp.array([[2.0, -2.0, 2.0], [-2.0, 2.0, -2.0]])
    label_key, noise_key = jax.random.split(data_key)
    labels = jax.random.bernoulli(label_key, 0.5, (200,)).astype(jnp.int32)
    data = centers[labels] + 0.3 * jax.random.normal(noise_key, (200, 3))
    params = rbm.init_gaussian(init_key, 3, 4, weight_scale=0.1)
    optimizer = optax.adam(0.05)
    result = rbm.train_rbm(train_key, params, data, 8, 20, optimizer=optimizer)
    history = result.history
    assert float(history.reconstruction_error[-1]) < 0.5 * float(history.reconstruction_error[0])
    assert np.all(np.isnan(np.asarray(history.pseudo_log_likelihood)))
    assert not np.allclose(result.params.log_variance, params.log_variance)
    frozen_key = jax.random.key(99)
    frozen = rbm.train_rbm(
        frozen_key, params, data, 8, 20, optimizer=optimizer, learn_variance=False
    )
    np.testing.assert_array_equal(frozen.params.log_variance, params.log_variance)
    assert not np.allclose(frozen.params.weights, params.weights)
    assert frozen.history.free_energy.shape == (8,)


def test_train_without_monitor_and_resume(key, binary_digits):
    data = jnp.asarray(binary_digits[:40])
    params = rbm.init(key, 64, 8)
    first = rbm.train_rbm(jax.random.key(1), params, data, 1, 10, 0.1, 1, True, monitor=False)
    assert first.history.reconstruction_error.shape == (0,)
    assert not np.allclose(first.params.weights, params.weights)
    resumed = rbm.train_rbm(
        jax.random.key(2),
        first.params,
        data,
        1,
        10,
        0.1,
        1,
        True,
        monitor=False,
        chains=first.chains,
        opt_state=first.opt_state,
    )
    assert resumed.chains.shape == (10, 64)
    assert not np.allclose(resumed.params.weights, first.params.weights)
    with pytest.raises(ValueError, match="chains must have 4 rows"):
        rbm.train_rbm(
            jax.random.key(3), params, data, 1, 10, persistent=True, num_chains=4, chains=data[:3]
        )


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------


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
        rbm.pseudo_log_likelihood(key, _random_gaussian_rbm(jax.random.key(12), 5, 4), good)
    with pytest.raises(ValueError, match="visible bias|visible_bias must have shape"):
        rbm.init(key, 5, 4, visible_bias=jnp.zeros(3))
    with pytest.raises(ValueError, match="num_hidden must be > 0"):
        rbm.init(key, 5, 0)
    with pytest.raises(ValueError, match="data must hold probabilities"):
        rbm.base_rate_visible_bias(good - 1.0)


def test_training_and_partition_errors(tiny):
    key = jax.random.key(13)
    data = jnp.zeros((20, 5))
    with pytest.raises(ValueError, match="batch_size must be <="):
        rbm.train_rbm(key, tiny, data, 1, 50)
    with pytest.raises(ValueError, match="either learning_rate"):
        rbm.train_rbm(key, tiny, data, 1, 5, 0.1, optimizer=optax.sgd(0.1))
    with pytest.raises(ValueError, match="only used with persistent"):
        rbm.train_rbm(key, tiny, data, 1, 5, num_chains=3)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        rbm.train_rbm(key, tiny, data, 1, 5, -0.1)
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        rbm.train_rbm(key, tiny, data, 0, 5)
    with pytest.raises(ValueError, match="data must hold probabilities"):
        rbm.train_rbm(key, tiny, data + 3.0, 1, 5)
    with pytest.raises(ValueError, match="max_enumerated_units"):
        rbm.log_partition_function(_random_rbm(jax.random.key(14), 30, 30, scale=0.01))
    with pytest.raises(ValueError, match="betas must increase from 0 to 1"):
        rbm.ais_log_partition(key, tiny, betas=jnp.array([0.0, 0.7, 0.5, 1.0]))
    with pytest.raises(ValueError, match="num_betas must be >= 2"):
        rbm.ais_log_partition(key, tiny, num_betas=1)
    with pytest.raises(ValueError, match="Gaussian base model"):
        gaussian = _random_gaussian_rbm(jax.random.key(15), 2, 2)
        rbm.ais_log_partition(key, gaussian, base_visible_bias=jnp.ones(2))
    with pytest.raises(ValueError, match="log_partition must have rank 0"):
        rbm.log_likelihood(tiny, data, jnp.zeros(2))
    assert math.isfinite(float(rbm.log_partition_function(tiny)))


@pytest.mark.slow
def test_training_in_several_noise_chunks_equals_one_chunk_in_distribution(monkeypatch):
    """Epochs whose Gibbs noise is drawn in several chunks (with a shorter last one) train."""
    data = (jax.random.uniform(jax.random.key(40), (70, 6)) > 0.5).astype(jnp.float32)
    params = rbm.init(jax.random.key(41), 6, 4)
    jax.clear_caches()
    monkeypatch.setattr(rbm, "_NOISE_CHUNK_NUMBERS", 3 * 10 * (6 + 4))  # 3 of 7 steps a chunk
    chunked = rbm.train_rbm(jax.random.key(42), params, data, 3, 10, 0.1)
    jax.clear_caches()
    monkeypatch.undo()
    whole = rbm.train_rbm(jax.random.key(42), params, data, 3, 10, 0.1)
    jax.clear_caches()
    for result in (chunked, whole):
        assert all(bool(jnp.all(jnp.isfinite(leaf))) for leaf in jax.tree.leaves(result.params))
    # the chunked path really ran: its random stream, hence its weights, differ
    assert float(jnp.max(jnp.abs(chunked.params.weights - whole.params.weights))) > 1e-4
    # different random streams, same algorithm: both lower the reconstruction error
    for result in (chunked, whole):
        errors = result.history.reconstruction_error
        assert float(errors[-1]) < float(errors[0])
