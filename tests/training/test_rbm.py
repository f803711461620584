"""Tests for jaxdl.training.rbm: CD-k / PCD training of RBMs through ``fit``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from sklearn.datasets import load_digits

from jaxdl.probabilistic import rbm
from jaxdl.testing import assert_bitwise_equal
from jaxdl.training import Checkpointer, cd_update_step, rbm_train_state, train_rbm
from tests._fixtures import Interrupt, stop_at_epoch


@pytest.fixture(scope="module")
def digits():
    x = load_digits().data[:200]
    return jnp.asarray((x / 16.0 > 0.5).astype(np.float32))


@pytest.mark.parametrize("persistent", [False, True])
def test_train_rbm_through_fit_raises_the_pseudo_likelihood(digits, persistent):
    params = rbm.init_params(jax.random.key(0), 64, 16)
    before = float(jnp.mean(rbm.exact_pseudo_log_likelihood(params, digits)))
    result = train_rbm(
        jax.random.key(1),
        params,
        digits,
        num_epochs=4,
        batch_size=10,
        learning_rate=0.1,
        persistent=persistent,
        val_data=digits[:50],
        progress=False,
    )
    after = float(jnp.mean(rbm.exact_pseudo_log_likelihood(result.state.params, digits)))
    assert after > before + 10.0
    assert int(result.state.step) == 4 * 20
    history = result.history
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert history[-1]["train_reconstruction_error"] < history[0]["train_reconstruction_error"]
    assert {"train_free_energy_gap", "val_reconstruction_error", "val_free_energy"} <= set(
        history[-1]
    )
    assert history[-1]["learning_rate"] == pytest.approx(0.1)
    if persistent:
        assert result.state.model_state["chains"].shape == (10, 64)  # default: batch_size
    else:
        assert result.state.model_state == {}


def test_pcd_resumes_bit_for_bit_with_its_chains_checkpointed(digits, tmp_path):
    data = digits[:60]
    params = rbm.init_params(jax.random.key(2), 64, 8)
    kwargs = dict(
        num_epochs=4,
        batch_size=10,
        learning_rate=0.1,
        persistent=True,
        num_chains=6,
        progress=False,
    )
    reference = train_rbm(jax.random.key(3), params, data, **kwargs)

    ckpt = dict(checkpoint_dir=str(tmp_path), checkpoint_every_steps=1)
    with pytest.raises(Interrupt):
        train_rbm(jax.random.key(3), params, data, callback=stop_at_epoch(2), **ckpt, **kwargs)
    # the interrupted run's checkpoint holds the persistent chains in model_state
    with Checkpointer(str(tmp_path)) as checkpointer:
        step = checkpointer.latest_step()
        assert step is not None and 0 < step < 4 * 6
        like = {
            "step": jnp.zeros((), jnp.int32),
            "params": params,
            "opt_state": reference.state.opt_state,
            "model_state": {"chains": jnp.zeros((6, 64))},
        }
        saved = checkpointer.restore(like)
    assert saved["model_state"]["chains"].shape == (6, 64)
    resumed = train_rbm(jax.random.key(3), params, data, **ckpt, **kwargs)
    assert_bitwise_equal(resumed.state.params, reference.state.params)
    assert_bitwise_equal(resumed.state.model_state, reference.state.model_state)
    assert_bitwise_equal(resumed.state.opt_state, reference.state.opt_state)
    assert [r["epoch"] for r in resumed.history] == [1, 2, 3, 4]


@pytest.mark.standard_dtype_promotion
def test_gaussian_units_with_an_optax_optimizer_and_frozen_variance():
    init_key, data_key = jax.random.split(jax.random.key(4))
    centers = jnp.array([[2.0, -2.0, 2.0], [-2.0, 2.0, -2.0]])
    label_key, noise_key = jax.random.split(data_key)
    labels = jax.random.bernoulli(label_key, 0.5, (100,)).astype(jnp.int32)
    data = centers[labels] + 0.3 * jax.random.normal(noise_key, (100, 3))
    params = rbm.init_gaussian_params(init_key, 3, 4, weight_scale=0.1)
    kwargs = dict(num_epochs=6, batch_size=20, optimizer=optax.adam(0.05), progress=False)
    result = train_rbm(jax.random.key(5), params, data, **kwargs)
    errors = [r["train_reconstruction_error"] for r in result.history]
    assert errors[-1] < 0.5 * errors[0]
    assert not np.allclose(result.state.params.log_variance, params.log_variance)
    frozen = train_rbm(jax.random.key(5), params, data, learn_variance=False, **kwargs)
    np.testing.assert_array_equal(frozen.state.params.log_variance, params.log_variance)
    assert not np.allclose(frozen.state.params.weights, params.weights)


def test_rbm_train_state_and_cached_update_step(digits):
    params = rbm.init_params(jax.random.key(6), 64, 4)
    cd = rbm_train_state(None, params, optax.sgd(0.1))
    assert cd.model_state == {} and int(cd.step) == 0
    pcd = rbm_train_state(jax.random.key(7), params, optax.sgd(0.1), data=digits, num_chains=3)
    assert pcd.model_state["chains"].shape == (3, 64)
    assert cd_update_step(2) is cd_update_step(2)
    assert cd_update_step(2) is not cd_update_step(1)
    with pytest.raises(ValueError, match="need a key and the training data"):
        rbm_train_state(None, params, optax.sgd(0.1), num_chains=3)


def test_train_rbm_errors():
    tiny = rbm.init_params(jax.random.key(8), 5, 4)
    data = jnp.zeros((20, 5))
    kwargs = dict(num_epochs=1, progress=False)
    with pytest.raises(ValueError, match="batch_size must be <="):
        train_rbm(jax.random.key(9), tiny, data, batch_size=50, **kwargs)
    with pytest.raises(ValueError, match="either learning_rate"):
        train_rbm(
            jax.random.key(9),
            tiny,
            data,
            batch_size=5,
            learning_rate=0.1,
            optimizer=optax.sgd(0.1),
            **kwargs,
        )
    with pytest.raises(ValueError, match="only used with persistent"):
        train_rbm(jax.random.key(9), tiny, data, batch_size=5, num_chains=3, **kwargs)
    with pytest.raises(ValueError, match="learning_rate must be > 0"):
        train_rbm(jax.random.key(9), tiny, data, batch_size=5, learning_rate=-0.1, **kwargs)
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        train_rbm(jax.random.key(9), tiny, data, batch_size=5, num_epochs=0)
    with pytest.raises(ValueError, match="train_data must hold probabilities"):
        train_rbm(jax.random.key(9), tiny, data + 3.0, batch_size=5, **kwargs)
    with pytest.raises(ValueError, match="val_data must have last dimension 5"):
        train_rbm(jax.random.key(9), tiny, data, batch_size=5, val_data=jnp.zeros((4, 3)), **kwargs)
