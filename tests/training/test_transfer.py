"""Tests for transfer learning, freezing, multi-task, semi- and self-supervised helpers."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.nn.registry import registered_models
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop
from jaxdl.training import EarlyStopping, create_train_state, supervised_loss
from jaxdl.training.transfer import (
    MultiTaskMLP,
    SemiSupervisedAutoencoder,
    freeze,
    masked_prediction_loss,
    multi_task_loss,
    original_vs_distorted_pairs,
    replace_head,
    retrain_on_all_data,
    semi_supervised_loss,
    transfer_params,
)


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


def _sgd_steps(tx, params, loss, num_steps):
    def body(carry, _):
        p, s = carry
        updates, s = tx.update(jax.grad(loss)(p), s, p)
        return (optax.apply_updates(p, updates), s), None

    (params, _), _ = jax.lax.scan(body, (params, tx.init(params)), None, length=num_steps)
    return params


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
    trained = _sgd_steps(tx, params, loss, 20)
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


# ------------------------------------------------------------------------ multi-task


def test_multi_task_mlp_shares_the_trunk(key):
    model = MultiTaskMLP(trunk_features=(8,), head_features=(3, 1))
    x = jnp.ones((2, 5))
    params = model.init(key, x)
    assert set(params["params"]) == {"trunk_0", "head_0", "head_1"}
    outputs = model.apply(params, x)
    assert [o.shape for o in outputs] == [(2, 3), (2, 1)]
    # both heads' gradients reach the shared trunk
    per_head = jax.jit(
        lambda p: [jax.grad(lambda q, t=t: jnp.sum(model.apply(q, x)[t]))(p) for t in range(2)]
    )(params)
    for t, grads in enumerate(per_head):
        assert np.any(np.asarray(grads["params"]["trunk_0"]["kernel"]) != 0)
        other = f"head_{1 - t}"
        assert np.all(np.asarray(grads["params"][other]["kernel"]) == 0)


def test_multi_task_training_reduces_both_losses(key):
    data_key, init_key = jax.random.split(key)
    x = jax.random.normal(data_key, (32, 3))
    labels = (x[:, 0] > 0).astype(jnp.int32)
    target = x[:, 1:2] * 2.0
    model = MultiTaskMLP(trunk_features=(16,), head_features=(2, 1), activation="tanh")
    params = model.init(init_key, x)

    @jax.jit
    def task_losses(p):
        logits, regression = model.apply(p, x)
        ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
        return ce, jnp.mean(jnp.square(regression - target))

    def loss(p):
        return multi_task_loss(task_losses(p), [1.0, 0.5])

    trained = _sgd_steps(optax.sgd(0.2), params, loss, 150)
    before, after = task_losses(params), task_losses(trained)
    assert after[0] < 0.5 * before[0] and after[1] < 0.5 * before[1]


def test_multi_task_loss_values_grads_errors():
    np.testing.assert_allclose(multi_task_loss([jnp.array(2.0), jnp.array(4.0)], [1.0, 0.5]), 4.0)
    np.testing.assert_allclose(multi_task_loss([jnp.array(2.0), jnp.array(4.0)]), 6.0)
    assert_grads_close(lambda z: multi_task_loss([z[0] ** 2, z[1] ** 3], [0.3, 2.0]), jnp.ones(2))
    with pytest.raises(ValueError, match="weights must have one entry per task"):
        multi_task_loss([jnp.array(1.0)], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"weights\[1\] must be >= 0"):
        multi_task_loss([jnp.array(1.0), jnp.array(1.0)], [1.0, -2.0])
    with pytest.raises(ValueError, match="each task loss must be a scalar"):
        multi_task_loss([jnp.ones(3)])
    with pytest.raises(ValueError, match="at least one task"):
        MultiTaskMLP(trunk_features=(4,), head_features=()).init(
            jax.random.key(1), jnp.ones((1, 2))
        )


# ------------------------------------------------------------------ semi-supervised


def test_semi_supervised_autoencoder_shares_the_encoder(key):
    model = SemiSupervisedAutoencoder(encoder_features=(8, 2), num_classes=3)
    x = jnp.ones((4, 6))
    params = model.init(key, x)
    logits, reconstruction = model.apply(params, x)
    assert logits.shape == (4, 3) and reconstruction.shape == (4, 6)
    per_output = jax.jit(
        lambda p: [jax.grad(lambda q, i=i: jnp.sum(model.apply(q, x)[i] ** 2))(p) for i in (0, 1)]
    )(params)
    for grads in per_output:
        assert np.any(np.asarray(grads["params"]["encoder_0"]["kernel"]) != 0)


def test_semi_supervised_loss_value_and_unlabelled_rows_ignored(key):
    k1, k2, k3 = jax.random.split(key, 3)
    logits = jax.random.normal(k1, (5, 3))
    x = jax.random.normal(k2, (5, 4))
    x_hat = jax.random.normal(k3, (5, 4))
    labels = jnp.array([0, 2, -1, -1, 1])
    labelled = labels >= 0
    z = np.asarray(logits, np.float64)
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    ce = -log_p[[0, 1, 4], [0, 2, 1]].mean()
    recon = np.mean((np.asarray(x_hat) - np.asarray(x)) ** 2)
    got = semi_supervised_loss(logits, x_hat, x, labels, labelled, 0.3)
    np.testing.assert_allclose(got, ce + 0.3 * recon, rtol=1e-5)
    # changing the label of an unlabelled row changes nothing
    other = semi_supervised_loss(logits, x_hat, x, labels.at[2].set(1), labelled, 0.3)
    np.testing.assert_allclose(other, got)
    assert_grads_close(
        lambda p: semi_supervised_loss(p[0], p[1], x, labels, labelled, 0.3), (logits, x_hat)
    )
    assert_jit_matches_eager(semi_supervised_loss, logits, x_hat, x, labels, labelled, 0.3)


def test_semi_supervised_training_with_few_labels(key):
    data_key, init_key = jax.random.split(key)
    x = jax.random.normal(data_key, (40, 6))
    labels = (x[:, 0] + x[:, 1] > 0).astype(jnp.int32)
    labelled = jnp.arange(40) < 6  # 6 labelled examples out of 40
    model = SemiSupervisedAutoencoder(encoder_features=(8, 3), num_classes=2)
    params = model.init(init_key, x)

    @jax.jit
    def parts(p):
        logits, x_hat = model.apply(p, x)
        return semi_supervised_loss(logits, x_hat, x, labels, labelled, 1.0), jnp.mean(
            jnp.square(x_hat - x)
        )

    trained = _sgd_steps(optax.sgd(0.1), params, lambda p: parts(p)[0], 200)
    assert parts(trained)[0] < parts(params)[0]
    assert parts(trained)[1] < parts(params)[1]  # the unlabelled rows were used


def test_semi_supervised_loss_errors():
    ok = dict(
        logits=jnp.zeros((2, 3)),
        reconstruction=jnp.zeros((2, 4)),
        x=jnp.zeros((2, 4)),
        labels=jnp.array([0, 1]),
        labelled=jnp.array([True, False]),
        reconstruction_weight=1.0,
    )
    with pytest.raises(ValueError, match="reconstruction_weight must be >= 0"):
        semi_supervised_loss(**{**ok, "reconstruction_weight": -1.0})
    with pytest.raises(ValueError, match="reconstruction must have the shape of x"):
        semi_supervised_loss(**{**ok, "reconstruction": jnp.zeros((2, 5))})
    with pytest.raises(TypeError, match="labelled must be a bool array"):
        semi_supervised_loss(**{**ok, "labelled": jnp.array([1, 0])})
    with pytest.raises(ValueError, match="must have the same number of rows"):
        semi_supervised_loss(**{**ok, "labels": jnp.array([0, 1, 1])})


# ------------------------------------------------------------------- self-supervised


def test_masked_prediction_loss_counts_only_masked_positions(key):
    x = jnp.array([[1.0, 2.0, 3.0, 4.0]])
    mask = jnp.array([[False, True, True, False]])
    prediction = jnp.array([[100.0, 2.5, 2.0, -100.0]])
    np.testing.assert_allclose(masked_prediction_loss(prediction, x, mask), [(0.25 + 1.0) / 2])
    k1, k2 = jax.random.split(key)
    xs = jax.random.normal(k1, (3, 5))
    preds = jax.random.normal(k2, (3, 5))
    masks = jnp.arange(15).reshape(3, 5) % 2 == 0
    assert_grads_close(lambda p: jnp.sum(masked_prediction_loss(p, xs, masks)), preds)
    assert_vmap_matches_loop(masked_prediction_loss, preds, xs, masks)
    with pytest.raises(ValueError, match="must share one shape"):
        masked_prediction_loss(preds, xs, masks[:, :2])


def test_original_vs_distorted_pairs(key):
    x = jnp.arange(1.0, 401.0).reshape(200, 2)
    pairs, labels = original_vs_distorted_pairs(key, x, noise_std=0.5)
    assert pairs.shape == (200, 2, 2) and labels.dtype == jnp.int32
    idx = np.arange(200)
    original = np.asarray(pairs)[idx, np.asarray(labels)]
    distorted = np.asarray(pairs)[idx, 1 - np.asarray(labels)]
    np.testing.assert_array_equal(original, x)
    assert np.all(distorted != np.asarray(x))
    assert abs(float(labels.mean()) - 0.5) < 4 * np.sqrt(0.25 / 200)


def test_original_vs_distorted_pairs_custom_distortion_and_errors(key):
    x = jnp.ones((4, 3))
    pairs, labels = original_vs_distorted_pairs(key, x, distort=lambda k, z: -z)
    np.testing.assert_array_equal(
        np.asarray(pairs)[np.arange(4), 1 - np.asarray(labels)], -np.ones((4, 3))
    )
    with pytest.raises(ValueError, match="distort must keep the shape"):
        original_vs_distorted_pairs(jax.random.key(2), x, distort=lambda k, z: z[:, :1])
    with pytest.raises(ValueError, match="noise_std must be > 0"):
        original_vs_distorted_pairs(jax.random.key(3), x, noise_std=0.0)


def test_models_are_registered():
    models = registered_models()
    assert "MultiTaskMLP" in models and "SemiSupervisedAutoencoder" in models
    for name in ("MultiTaskMLP", "SemiSupervisedAutoencoder"):
        spec = models[name]
        model = spec.make()
        params = model.init(jax.random.key(1), jnp.ones((2, *spec.input_shape)))
        assert all(
            np.all(np.isfinite(o))
            for o in jax.tree.leaves(model.apply(params, jnp.ones((2, *spec.input_shape))))
        )


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
        supervised_loss(model),
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
        retrain_on_all_data(key, state, supervised_loss(model), data, data[:1], num_epochs=2)
    with pytest.raises(ValueError, match="must agree past the first axis"):
        retrain_on_all_data(
            key, state, supervised_loss(model), data, (jnp.ones((2, 4)), data[1]), num_epochs=2
        )
    with pytest.raises(ValueError, match="num_epochs must be > 0"):
        retrain_on_all_data(key, state, supervised_loss(model), data, data, num_epochs=0)
