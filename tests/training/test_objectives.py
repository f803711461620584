"""make_supervised_loss: values against optax and by hand, per-example weights,
evaluate's metrics, and gradients checked in float64."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.testing import assert_grads_close
from jaxdl.training import make_supervised_loss


class _Dropped(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):
        x = nn.Dropout(0.5, deterministic=not train)(x)
        return nn.Dense(3)(x)


def _problem(dtype=jnp.float32):
    x = jax.random.normal(jax.random.key(0), (6, 4), dtype)
    y = jnp.array([0, 1, 2, 0, 1, 2], jnp.int32)
    model = nn.Dense(3, param_dtype=dtype, dtype=dtype)
    params = model.init(jax.random.key(1), x)["params"]
    return model, params, x, y


def test_cross_entropy_equals_optax_and_accuracy_is_reported():
    model, params, x, y = _problem()
    loss_fn = make_supervised_loss(model, "cross_entropy", metrics=("accuracy", "error_rate"))
    loss, (model_state, metrics) = loss_fn(params, {}, (x, y), jax.random.key(2))
    logits = model.apply({"params": params}, x)
    expected = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    np.testing.assert_allclose(loss, expected, rtol=1e-6)
    accuracy = np.mean(np.argmax(logits, -1) == np.asarray(y))
    np.testing.assert_allclose(metrics["accuracy"], accuracy, rtol=1e-6)
    np.testing.assert_allclose(metrics["error_rate"], 1.0 - accuracy, rtol=1e-6)
    assert model_state == {}


def test_mse_equals_the_mean_square_by_hand_and_evaluate_reports_rmse():
    x = jax.random.normal(jax.random.key(0), (5, 3))
    t = jax.random.normal(jax.random.key(1), (5, 2))
    model = nn.Dense(2)
    params = model.init(jax.random.key(2), x)["params"]
    loss_fn = make_supervised_loss(model, "mse", metrics=("mse", "rmse"))
    out = model.apply({"params": params}, x)
    by_hand = np.mean((np.asarray(out) - np.asarray(t)) ** 2)
    loss, _ = loss_fn(params, {}, (x, t), jax.random.key(3))
    np.testing.assert_allclose(loss, by_hand, rtol=1e-5)
    metrics = loss_fn.evaluate(params, {}, (x, t))
    assert sorted(metrics) == ["loss", "mse", "rmse"]
    np.testing.assert_allclose(metrics["loss"], by_hand, rtol=1e-5)
    np.testing.assert_allclose(metrics["rmse"], np.sqrt(by_hand), rtol=1e-5)


def test_per_example_weights_give_the_weighted_mean():
    model, params, x, y = _problem()
    loss_fn = make_supervised_loss(model)
    logits = model.apply({"params": params}, x)
    per_example = optax.softmax_cross_entropy_with_integer_labels(logits, y)
    w = jnp.array([2.0, 0.0, 1.0, 0.0, 0.0, 1.0])
    loss, _ = loss_fn(params, {}, (x, y, w), jax.random.key(2))
    np.testing.assert_allclose(loss, jnp.sum(w * per_example) / jnp.sum(w), rtol=1e-6)
    only_first = jnp.zeros(6).at[0].set(3.0)  # the weighted mean ignores zero weights
    loss0, _ = loss_fn(params, {}, (x, y, only_first), jax.random.key(2))
    np.testing.assert_allclose(loss0, per_example[0], rtol=1e-6)


def test_evaluate_runs_in_inference_mode_and_training_uses_the_key():
    x = jnp.ones((4, 5))
    y = jnp.array([0, 1, 2, 0])
    model = _Dropped()
    params = model.init(jax.random.key(0), x)["params"]
    loss_fn = make_supervised_loss(model)
    first = loss_fn.evaluate(params, {}, (x, y))
    again = loss_fn.evaluate(params, {}, (x, y))
    assert float(first["loss"]) == float(again["loss"])  # no dropout when evaluating
    a, _ = loss_fn(params, {}, (x, y), jax.random.key(1))
    b, _ = loss_fn(params, {}, (x, y), jax.random.key(2))
    assert float(a) != float(b)  # dropout masks come from the step key


def test_bad_loss_and_metric_names_are_refused():
    with pytest.raises(ValueError, match="loss must be one of"):
        make_supervised_loss(nn.Dense(2), "hinge")
    with pytest.raises(ValueError, match="unknown \\['f1'\\]"):
        make_supervised_loss(nn.Dense(2), metrics=("f1",))
    with pytest.raises(TypeError, match="loss must be a name or a callable"):
        make_supervised_loss(nn.Dense(2), 3)


def test_validate_refuses_labels_out_of_range():
    model, params, x, y = _problem()
    with pytest.raises(ValueError, match=r"train_data labels must lie in \[0, 3\)"):
        make_supervised_loss(model).validate(params, {}, (x, y + 1), "train_data")


def test_jit_grad_matches_float64_finite_differences():
    with jax.enable_x64(True):
        model, params, x, y = _problem(jnp.float64)
        loss_fn = make_supervised_loss(model, metrics=())

        def scalar_loss(p, batch):
            return loss_fn(p, {}, batch, jax.random.key(0))[0]

        grads = jax.jit(jax.grad(scalar_loss))(params, (x, y))
        assert jax.tree.structure(grads) == jax.tree.structure(params)
        assert_grads_close(scalar_loss, params, (x, y), rtol=1e-6, atol=1e-9)
