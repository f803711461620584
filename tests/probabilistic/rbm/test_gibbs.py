"""Tests for jaxdl.probabilistic.rbm.gibbs: the block Gibbs kernel against exact enumeration."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from jaxdl.probabilistic import rbm
from jaxdl.sampling import sample_chain
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop
from tests.probabilistic.rbm._reference import (
    bits,
    exact_joint,
    random_gaussian_rbm,
    random_rbm,
)


def test_gibbs_chains_sample_exact_distribution(key):
    params = random_rbm(key, 4, 3)
    vs, _, joint = exact_joint(params)
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


def test_gibbs_kernel_hidden_and_visible_statistics(key):
    params = random_rbm(key, 4, 3)
    vs, hs, joint = exact_joint(params)
    num_chains = 4000
    # Start the chains at exact samples of P(v): one sweep must leave P(v, h) invariant.
    init_key, step_key = jax.random.split(jax.random.key(7))
    rows = jax.random.choice(init_key, 16, (num_chains,), p=jnp.asarray(joint.sum(axis=1)))
    state = rbm.gibbs_init(params, jnp.asarray(vs[np.asarray(rows)], jnp.float32))
    state, info = rbm.gibbs_kernel(step_key, state, params)
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
    params = random_gaussian_rbm(key, 2, 3, scale=1.0)
    hs = jnp.asarray(bits(3), jnp.float32)
    p_h = np.asarray(jax.nn.softmax(rbm.partition._log_unnormalized_hidden_marginal(params, hs)))
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


def test_gibbs_jit_and_vmap(tiny):
    keys = jax.random.split(jax.random.key(9), 3)
    visible = jnp.asarray(bits(5)[[1, 7, 30]], jnp.float32)

    def one_chain(key, v):
        state, info = rbm.gibbs_kernel(key, rbm.gibbs_init(tiny, v), tiny)
        return state.visible, info.visible_mean

    assert_vmap_matches_loop(one_chain, keys, visible)
    assert_jit_matches_eager(one_chain, keys[0], visible[0])


def test_sample_chain_with_thinning_kernel_samples_exact_distribution(key):
    """num_sweeps sweeps per kernel call (blocked noise), kept states pooled over chains."""
    params = random_rbm(key, 4, 3)
    vs, _, joint = exact_joint(params)
    p_v = joint.sum(axis=1)
    num_chains, num_samples = 500, 8
    kernel = functools.partial(rbm.gibbs_kernel, params=params, num_sweeps=5)
    start = rbm.gibbs_init(params, jnp.zeros((num_chains, 4)))
    final, (states, infos) = sample_chain(jax.random.key(2), kernel, start, num_samples, burn_in=4)
    assert isinstance(final, rbm.RBMGibbsState) and isinstance(infos, rbm.RBMGibbsInfo)
    assert states.visible.shape == (num_samples, num_chains, 4)
    assert infos.hidden_probabilities.shape == (num_samples, num_chains, 3)
    codes = np.asarray(states.visible, np.int64).reshape(-1, 4) @ (1 << np.arange(4))
    counts = np.bincount(codes, minlength=16)
    # 5 sweeps apart, the kept states of a chain are nearly independent on this tiny RBM;
    # the chi-square test on pooled counts is conservative at p > 1e-4.
    assert stats.chisquare(counts, counts.sum() * p_v).pvalue > 1e-4


def test_num_sweeps_matches_repeated_single_sweeps_in_distribution(tiny):
    """One call with num_sweeps=3 gives the chain three sweeps on (mean activity agrees)."""
    start = rbm.gibbs_init(tiny, jnp.zeros((2000, 5)))
    three, _ = rbm.gibbs_kernel(jax.random.key(5), start, tiny, num_sweeps=3)
    one_by_one = start
    for t in range(3):
        one_by_one, _ = rbm.gibbs_kernel(jax.random.key(10 + t), one_by_one, tiny)
    a, b = np.asarray(three.visible).mean(0), np.asarray(one_by_one.visible).mean(0)
    assert np.all(np.abs(a - b) < 5 * np.sqrt(2 * 0.25 / 2000))
    with pytest.raises(ValueError, match="num_sweeps must be > 0"):
        rbm.gibbs_kernel(jax.random.key(6), start, tiny, num_sweeps=0)
