"""Tests for transfer learning, freezing and retraining on all data."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.training import EarlyStopping, create_train_state, make_supervised_loss
from jaxdl.training.transfer import (
    freeze,
    replace_head,
    retrain_on_all_data,
    transfer_params,
)
from tests._fixtures import optax_steps


class _Classifier(nn.Module):
    num_classes: int

    @nn.compact
    def __call__(self, x, *, train=False):
        h = jnp.tanh(nn.Dense(6, name="trunk")(x))
        return nn.Dense(self.num_classes, name="head")(h)


def _two_tasks(key):
    k1, k2 = jax.random.split(key)
    source = _Classifier(num_classes=3).init(k1, jnp.ones((1, 4)))
    target = _Classifier(num_classes=5).init(k2, jnp.ones((1, 4)))
    return source, target


# -------------------------------------------------------------------------- transfer


def test_transfer_params_copies_trunk_keeps_new_head(key):
    source, target = _two_tasks(key)
    new = transfer_params(source, target, exclude=r"head")
    np.testing.assert_array_equal(
        new["params"]["trunk"]["kernel"], source["params"]["trunk"]["kernel"]
    )
    np.testing.assert_array_equal(
        new["params"]["head"]["kernel"], target["params"]["head"]["kernel"]
    )
    assert new["params"]["head"]["kernel"].shape == (6, 5)


def test_transfer_params_errors(key):
    source, target = _two_tasks(key)
    with pytest.raises(ValueError, match="has shape .* exclude it"):
        transfer_params(source, target)
    with pytest.raises(ValueError, match="copied nothing"):
        transfer_params(source, target, exclude=r"params")


def test_replace_head_swaps_one_subtree(key):
    source, target = _two_tasks(key)
    new = replace_head(source, "params/head", target["params"]["head"])
    assert new["params"]["head"]["kernel"].shape == (6, 5)
    assert new["params"]["trunk"] is source["params"]["trunk"]
    assert source["params"]["head"]["kernel"].shape == (6, 3)  # input untouched
    out = _Classifier(num_classes=5).apply(new, jnp.ones((2, 4)))
    assert out.shape == (2, 5)
    with pytest.raises(ValueError, match="head 'params/tail' not found"):
        replace_head(source, "params/tail", {})


def test_freeze_keeps_frozen_leaves_unchanged_and_trains_the_rest(key):
    data_key, init_key = jax.random.split(key)
    x = jax.random.normal(data_key, (16, 4))
    y = jnp.arange(16) % 3
    params = _Classifier(num_classes=3).init(init_key, x)

    @jax.jit
    def loss(p):
        logits = _Classifier(num_classes=3).apply(p, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    tx = freeze(optax.sgd(0.5), params, frozen=r"trunk")
    trained = optax_steps(tx, params, loss, 20)
    for leaf in ("kernel", "bias"):
        np.testing.assert_array_equal(
            trained["params"]["trunk"][leaf], params["params"]["trunk"][leaf]
        )
    assert not np.allclose(trained["params"]["head"]["kernel"], params["params"]["head"]["kernel"])
    assert loss(trained) < loss(params)


@pytest.mark.standard_dtype_promotion
def test_freeze_holds_no_optimizer_state_for_frozen_leaves(key):
    params = _Classifier(num_classes=3).init(key, jnp.ones((1, 4)))
    tx = freeze(optax.adam(1e-2), params, frozen=r"^params/trunk/")
    state = tx.init(params)
    trainable = state.inner_states["trainable"].inner_state
    adam_mu = trainable[0].mu["params"]
    assert isinstance(adam_mu["trunk"]["kernel"], optax.MaskedNode)
    assert adam_mu["head"]["kernel"].shape == (6, 3)


def test_freeze_regex_matching_nothing_is_an_error(key):
    params = _Classifier(num_classes=3).init(key, jnp.ones((1, 4)))
    with pytest.raises(ValueError, match="selected no parameter"):
        freeze(optax.sgd(0.1), params, frozen=r"encoder")
    with pytest.raises(TypeError, match="frozen must be a regex string"):
        freeze(optax.sgd(0.1), params, frozen=None)


# ------------------------------------------------------ early stopping, then retrain


@pytest.mark.standard_dtype_promotion
def test_retrain_on_all_data_uses_the_best_step(key):
    init_key, fit_key = jax.random.split(key)
    x = jnp.linspace(-1, 1, 20)[:, None]
    y = (x[:, 0] > 0).astype(jnp.int32)
    model = _Classifier(num_classes=2)
    state = create_train_state(init_key, model, x, optax.sgd(0.5))
    initial = jax.tree.map(np.asarray, state.params)
    result = retrain_on_all_data(
        fit_key,
        state,
        make_supervised_loss(model),
        (x[:12], y[:12]),
        (x[12:], y[12:]),
        num_epochs=6,
        batch_size=4,
        early_stopping=EarlyStopping(patience=2),
        progress=False,
    )
    # the first run has 12 // 4 = 3 steps per epoch and evaluates after each epoch
    assert result.best_step == int(result.first_run.best_state.step)
    assert result.best_step % 3 == 0 and result.best_step >= 3
    # the retrain sees 20 examples, 5 steps per epoch: best_step rounded up to whole epochs
    assert result.num_steps == result.num_epochs * 5 == int(result.second_run.state.step)
    assert result.best_step <= result.num_steps < result.best_step + 5
    assert len(result.second_run.history) == result.num_epochs
    # both runs started from the same initial parameters, which were not consumed
    for a, b in zip(jax.tree.leaves(state.params), jax.tree.leaves(initial), strict=True):
        np.testing.assert_array_equal(a, b)


def test_retrain_on_all_data_errors(key):
    model = _Classifier(num_classes=2)
    state = create_train_state(key, model, jnp.ones((4, 3)), optax.sgd(0.1))
    data = (jnp.ones((4, 3)), jnp.zeros(4, jnp.int32))
    with pytest.raises(ValueError, match="same number of arrays"):
        retrain_on_all_data(key, state, make_supervised_loss(model), data, data[:1], num_epochs=2)
    with pytest.raises(ValueError, match="must agree past the first axis"):
        retrain_on_all_data(
            key, state, make_supervised_loss(model), data, (jnp.ones((2, 4)), data[1]), num_epochs=2
        )
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        retrain_on_all_data(key, state, make_supervised_loss(model), data, data, num_epochs=0)
