"""Tests for jaxdl.probabilistic.rbm.training: CD-k / PCD gradients, cd_step, train_rbm."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.probabilistic import rbm
from tests.probabilistic.rbm._reference import (
    bits,
    random_gaussian_rbm,
    random_rbm,
)


@pytest.mark.parametrize("gaussian", [False, True])
def test_cd_phases_are_free_energy_gradients(key, gaussian):
    params = random_gaussian_rbm(key, 4, 3) if gaussian else random_rbm(key, 4, 3)
    if gaussian:
        data = jax.random.normal(jax.random.key(1), (6, 4))
    else:
        data = jnp.asarray(bits(4)[[0, 3, 5, 9, 12, 15]], jnp.float32)
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
    params = random_rbm(key, 4, 3)
    data = jnp.asarray(bits(4)[[1, 6, 11]], jnp.float32)
    chains = jnp.zeros((4000, 4))
    grads, info = rbm.contrastive_divergence(jax.random.key(1), params, data, k=40, chains=chains)
    exact_negative = jax.grad(rbm.log_partition_function)(params)
    for got, want in zip(info.negative_phase, exact_negative, strict=True):
        # Each statistic is a mean of 4000 values in [0, 1]: standard error <= 0.008.
        np.testing.assert_allclose(got, want, atol=0.04)
    assert info.chains.shape == (4000, 4)
    assert grads.weights.shape == (4, 3)


def test_pcd_training_increases_pseudo_likelihood_on_digits(key, binary_digits):
    # CD-1 training on digits is covered by the rbm-digits smoke test.
    init_key, train_key = jax.random.split(key)
    data = jnp.asarray(binary_digits)
    params = rbm.init_params(init_key, 64, 32)
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
    params = rbm.init_gaussian_params(init_key, 3, 4, weight_scale=0.1)
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
    params = rbm.init_params(key, 64, 8)
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
        rbm.log_partition_function(random_rbm(jax.random.key(14), 30, 30, scale=0.01))
    with pytest.raises(ValueError, match="betas must increase from 0 to 1"):
        rbm.ais_log_partition(key, tiny, betas=jnp.array([0.0, 0.7, 0.5, 1.0]))
    with pytest.raises(ValueError, match="num_betas must be >= 2"):
        rbm.ais_log_partition(key, tiny, num_betas=1)
    with pytest.raises(ValueError, match="Gaussian base model"):
        gaussian = random_gaussian_rbm(jax.random.key(15), 2, 2)
        rbm.ais_log_partition(key, gaussian, base_visible_bias=jnp.ones(2))
    with pytest.raises(ValueError, match="log_partition must have rank 0"):
        rbm.log_likelihood(tiny, data, jnp.zeros(2))
    assert math.isfinite(float(rbm.log_partition_function(tiny)))


def test_training_in_several_noise_chunks_equals_one_chunk_in_distribution(monkeypatch):
    """Epochs whose Gibbs noise is drawn in several chunks (with a shorter last one) train."""
    data = (jax.random.uniform(jax.random.key(40), (70, 6)) > 0.5).astype(jnp.float32)
    params = rbm.init_params(jax.random.key(41), 6, 4)
    jax.clear_caches()
    monkeypatch.setattr(rbm.gibbs, "_NOISE_CHUNK_NUMBERS", 3 * 10 * (6 + 4))  # 3 of 7 steps a chunk
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


def test_cd_step_is_one_optimizer_update_of_the_cd_gradient(tiny):
    """cd_step on a TrainState equals contrastive_divergence + the state's optax update."""
    from jaxdl.training import TrainState

    tx = optax.sgd(0.1)
    batch = jnp.asarray(bits(5)[[1, 6, 19, 30]], jnp.float32)
    for model_state in ({}, {"chains": jnp.asarray(bits(5)[[2, 9, 31]], jnp.float32)}):
        state = TrainState.create(apply_fn=None, params=tiny, tx=tx, model_state=model_state)
        key = jax.random.key(21)
        new, metrics = rbm.cd_step(jax.random.clone(key), state, (batch,), k=2)
        chains = model_state.get("chains")
        grads, info = rbm.contrastive_divergence(key, tiny, batch, k=2, chains=chains)
        expected = optax.apply_updates(tiny, tx.update(grads, tx.init(tiny), tiny)[0])
        for got, want in zip(new.params, expected, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
        assert int(new.step) == 0  # the driver (fit) advances the step
        if chains is None:
            assert new.model_state == {}
        else:
            np.testing.assert_array_equal(new.model_state["chains"], info.chains)
        assert set(metrics) == {"reconstruction_error", "free_energy_gap"}
        assert all(np.isfinite(float(v)) for v in metrics.values())
    assert set(rbm.cd_evaluate(tiny, {}, (batch,))) == {"reconstruction_error", "free_energy"}


def test_cd_step_in_a_scan_trains_like_train_rbm(key, binary_digits):
    """PCD by cd_step inside lax.scan (what fit runs) raises the pseudo-likelihood."""
    from jaxdl.training import TrainState

    data = jnp.asarray(binary_digits)
    init_key, chain_key, run_key = jax.random.split(key, 3)
    params = rbm.init_params(init_key, 64, 16)
    chains = rbm.init_persistent_chains(chain_key, data, 10)
    state = TrainState.create(
        apply_fn=None, params=params, tx=optax.sgd(0.1), model_state={"chains": chains}
    )
    batches = data[:300].reshape(30, 10, 64)

    def body(state, inputs):
        t, batch = inputs
        return rbm.cd_step(jax.random.fold_in(run_key, t), state, batch)

    @jax.jit
    def run(state):
        for epoch in range(5):
            state, metrics = jax.lax.scan(body, state, (epoch * 30 + jnp.arange(30), batches))
        return state, metrics

    state, metrics = run(state)
    before = float(jnp.mean(rbm.exact_pseudo_log_likelihood(params, data)))
    after = float(jnp.mean(rbm.exact_pseudo_log_likelihood(state.params, data)))
    assert after > before + 10.0
    assert metrics["reconstruction_error"].shape == (30,)
    assert state.model_state["chains"].shape == (10, 64)
