"""Tests for jaxdl.probabilistic.rbm.training: CD-k / PCD gradients and the pure update pieces.

Training runs (``jaxdl.training.train_rbm`` through ``fit``) are tested in
tests/training/test_rbm.py.
"""

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


def test_cd_validate_and_partition_errors(tiny):
    key = jax.random.key(13)
    data = jnp.zeros((20, 5))
    rbm.cd_validate(tiny, {}, (data,))
    with pytest.raises(ValueError, match="train_data must hold probabilities"):
        rbm.cd_validate(tiny, {}, (data + 3.0,), "train_data")
    with pytest.raises(ValueError, match="data must have rank 2"):
        rbm.cd_validate(tiny, {}, data[0])
    with pytest.raises(ValueError, match=r"model_state\['chains'\] must have last dimension 5"):
        rbm.cd_validate(tiny, {"chains": jnp.zeros((3, 4))}, data)
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


def test_gibbs_noise_in_several_chunks_runs_and_changes_the_stream(monkeypatch, tiny):
    """Sweeps whose noise is drawn in several chunks (with a shorter last one) still sample."""
    state = rbm.gibbs_init(tiny, jnp.zeros((10, 5)))
    jax.clear_caches()
    monkeypatch.setattr(rbm.gibbs, "_NOISE_CHUNK_NUMBERS", 3 * 10 * (5 + 4))  # 3 of 7 sweeps
    chunked, _ = rbm.gibbs_kernel(jax.random.key(42), state, tiny, num_sweeps=7)
    jax.clear_caches()
    monkeypatch.undo()
    whole, _ = rbm.gibbs_kernel(jax.random.key(42), state, tiny, num_sweeps=7)
    jax.clear_caches()
    for result in (chunked, whole):
        assert set(np.unique(np.asarray(result.visible))) <= {0.0, 1.0}
    assert not np.array_equal(chunked.visible, whole.visible)  # another random stream


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


def test_cd_step_in_a_scan_raises_the_pseudo_likelihood(key, binary_digits):
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
