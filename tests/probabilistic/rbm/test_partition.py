"""Tests for jaxdl.probabilistic.rbm.partition: exact log Z, likelihood, AIS as a kernel."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.probabilistic import rbm
from jaxdl.sampling import sample_chain
from tests.probabilistic.rbm._reference import (
    bits,
    np_energy,
    random_gaussian_rbm,
    random_rbm,
)


@pytest.mark.parametrize("shape", [(5, 4), (3, 6)])  # enumerate hidden / enumerate visible
def test_log_partition_matches_brute_force(key, shape):
    params = random_rbm(key, *shape)
    vs, hs = bits(shape[0]), bits(shape[1])
    brute = np.logaddexp.reduce(-np_energy(params, vs[:, None, :], hs[None, :, :]).ravel())
    np.testing.assert_allclose(rbm.log_partition_function(params), brute, rtol=1e-5)


def test_log_partition_chunks_many_states(key):
    # 2**13 hidden states: two chunks of 2**12 go through lax.map.
    params = random_rbm(key, 14, 13, scale=0.3)
    hs = jnp.asarray(bits(13), jnp.float32)
    terms = hs @ params.hidden_bias + jnp.sum(
        jax.nn.softplus(hs @ params.weights.T + params.visible_bias[None, :]), axis=1
    )
    np.testing.assert_allclose(
        rbm.log_partition_function(params), jax.nn.logsumexp(terms), rtol=1e-5
    )


def test_gaussian_log_partition_matches_numerical_integration(key):
    params = random_gaussian_rbm(key, 1, 3)
    grid = np.linspace(-15.0, 15.0, 20001)[:, None]
    free = np.asarray(rbm.free_energy(params, jnp.asarray(grid, jnp.float32)), np.float64)
    integral = np.log(np.trapezoid(np.exp(-free), grid[:, 0]))
    np.testing.assert_allclose(rbm.log_partition_function(params), integral, rtol=1e-4)


def test_log_likelihood_normalizes(tiny):
    vs = jnp.asarray(bits(5), jnp.float32)
    log_p = rbm.log_likelihood(tiny, vs, rbm.log_partition_function(tiny))
    np.testing.assert_allclose(jnp.sum(jnp.exp(log_p)), 1.0, rtol=1e-5)


def test_grad_log_partition_is_model_expectation(tiny):
    # d log Z / d theta = E_model[-dF/dtheta]: the exact negative phase.
    vs = jnp.asarray(bits(5), jnp.float32)
    p_v = jax.nn.softmax(-rbm.free_energy(tiny, vs))
    per_v = jax.vmap(jax.grad(lambda p, v: -rbm.free_energy(p, v)), in_axes=(None, 0))(tiny, vs)
    expected = jax.tree.map(lambda g: jnp.tensordot(p_v, g, axes=1), per_v)
    got = jax.grad(rbm.log_partition_function)(tiny)
    for a, b in zip(got, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_ais_matches_exact_log_partition(key):
    params = random_rbm(key, 10, 6)
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
    params = random_rbm(key, 10, 6, scale=0.8)
    base = rbm.base_rate_visible_bias(jnp.asarray(binary_digits[:, 20:30]))
    # A schedule with finer steps near beta = 1 (same length as the linear one above).
    betas = jnp.concatenate([jnp.linspace(0.0, 0.5, 400), jnp.linspace(0.5, 1.0, 601)[1:]])
    result = rbm.ais_log_partition(
        jax.random.key(2), params, num_runs=200, betas=betas, base_visible_bias=base
    )
    exact = rbm.log_partition_function(params)
    assert abs(float(result.log_partition - exact)) < 4.0 * float(result.log_partition_std) + 1e-3

    gaussian = random_gaussian_rbm(jax.random.key(3), 4, 5)
    result = rbm.ais_log_partition(jax.random.key(4), gaussian, num_runs=100, num_betas=500)
    exact = rbm.log_partition_function(gaussian)
    assert abs(float(result.log_partition - exact)) < 4.0 * float(result.log_partition_std) + 1e-3


def test_ais_log_partition_is_ais_kernel_driven_by_sample_chain(tiny):
    """ais_log_partition = ais_init + len(betas) - 1 ais_kernel calls through sample_chain."""
    betas = jnp.linspace(0.0, 1.0, 30)
    base = jnp.full((5,), -0.3)
    result = rbm.ais_log_partition(
        jax.random.key(7), tiny, num_runs=6, betas=betas, base_visible_bias=base
    )
    init_key, run_key = jax.random.split(jax.random.key(7))
    state = rbm.ais_init(init_key, tiny, 6, base_visible_bias=base)
    kernel = functools.partial(rbm.ais_kernel, params=tiny, betas=betas, base_visible_bias=base)
    final, (states, infos) = sample_chain(run_key, kernel, state, 29)
    np.testing.assert_allclose(final.log_weights, result.log_weights, rtol=1e-5, atol=1e-5)
    assert int(final.step) == 29
    np.testing.assert_allclose(infos.beta, betas[1:], rtol=1e-6)
    np.testing.assert_allclose(
        jnp.sum(infos.log_weight_increments, axis=0), final.log_weights, rtol=1e-5, atol=1e-5
    )
