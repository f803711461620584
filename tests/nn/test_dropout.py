"""Tests for jaxdl.nn.dropout: the Dropout layer and DropoutMLP."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn.dropout import Dropout, DropoutMLP
from jaxdl.nn.registry import registered_models
from jaxdl.sampling.dropout import dropout, monte_carlo_dropout
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


def test_training_without_rng_raises():
    layer = Dropout(keep_probability=0.5)
    with pytest.raises(ValueError, match="train=True needs a 'dropout' rng"):
        layer.apply({}, jnp.ones(4), train=True)


def test_layer_training_keeps_or_scales(key):
    x = jnp.arange(1.0, 7.0)
    for rule, k in zip(("inverted", "classic"), jax.random.split(key), strict=True):
        y = Dropout(0.5, rule=rule).apply({}, x, train=True, rngs={"dropout": k})
        kept = np.asarray(y) != 0
        scale = 2.0 if rule == "inverted" else 1.0
        np.testing.assert_allclose(np.asarray(y)[kept], scale * np.asarray(x)[kept])


def test_layer_inference_rules():
    x = jnp.array([1.0, 2.0])
    np.testing.assert_allclose(Dropout(0.8).apply({}, x, train=False), x)
    np.testing.assert_allclose(Dropout(0.8, rule="classic").apply({}, x), 0.8 * x)


def test_layer_bad_rule():
    with pytest.raises(ValueError, match="rule must be one of"):
        Dropout(0.5, rule="gaussian").apply({}, jnp.ones(2))


def test_custom_rng_collection(key):
    layer = Dropout(0.5, rng_collection="noise")
    with pytest.raises(ValueError, match="needs a 'noise' rng"):
        layer.apply({}, jnp.ones(3), train=True, rngs={"dropout": key})


def test_dropout_mlp_defaults_follow_course(key):
    model = DropoutMLP(features=(16, 3))
    assert model.input_keep_probability == 0.8
    assert model.hidden_keep_probability == 0.5
    params = model.init(key, jnp.ones((1, 5)))
    shapes = jax.tree_util.tree_map(jnp.shape, params["params"])
    assert shapes["hidden_0"]["kernel"] == (5, 16)
    assert shapes["output"]["kernel"] == (16, 3)


def test_dropout_mlp_train_is_stochastic_eval_is_not(key):
    k_init, k_x, k1, k2 = jax.random.split(key, 4)
    model = DropoutMLP(features=(32, 2))
    x = jax.random.normal(k_x, (4, 6))
    params = jax.jit(model.init)(k_init, x)
    apply = jax.jit(model.apply, static_argnames="train")
    eval_out = apply(params, x, train=False)
    np.testing.assert_allclose(eval_out, apply(params, x))
    a = apply(params, x, train=True, rngs={"dropout": k1})
    b = apply(params, x, train=True, rngs={"dropout": k2})
    assert np.max(np.abs(np.asarray(a - b))) > 1e-3
    with pytest.raises(ValueError, match="needs a 'dropout' rng"):
        model.apply(params, x, train=True)


def test_dropout_mlp_mc_average_is_close_to_eval_for_linear_net(key):
    """With identity activations, E[inverted-dropout net] == deterministic net."""
    k_init, k_x, k_mc = jax.random.split(key, 3)
    model = DropoutMLP(features=(8, 2), activation=lambda h: h)
    x = jax.random.normal(k_x, (1, 4))
    params = model.init(k_init, x)
    pred = jax.jit(
        lambda key_: monte_carlo_dropout(
            key_, lambda k: model.apply(params, x, train=True, rngs={"dropout": k}), 3000
        )
    )(k_mc)
    se = np.sqrt(np.asarray(pred.variance) / 3000)
    np.testing.assert_array_less(
        np.abs(np.asarray(pred.mean - model.apply(params, x))), 5 * se + 1e-6
    )


def test_dropout_mlp_gradients(key):
    k_init, k_x, k_drop = jax.random.split(key, 3)
    model = DropoutMLP(features=(4, 2), activation=jnp.tanh)
    x = jax.random.normal(k_x, (3, 3))
    params = model.init(k_init, x)

    def loss(p, k):
        return jnp.sum(model.apply(p, x, train=True, rngs={"dropout": k}) ** 2)

    assert_grads_close(loss, params, k_drop, rtol=1e-4)


def test_dropout_mlp_jit_and_vmap(key):
    k_init, k_x, k_drop, k_vmap = jax.random.split(key, 4)
    model = DropoutMLP(features=(4, 2))
    x = jax.random.normal(k_x, (3, 5))
    params = model.init(k_init, x)
    assert_jit_matches_eager(
        lambda p, v, k: model.apply(p, v, train=True, rngs={"dropout": k}), params, x, k_drop
    )
    keys = jax.random.split(k_vmap, 3)
    assert_vmap_matches_loop(
        jax.jit(lambda k, v: Dropout(0.5).apply({}, v, train=True, rngs={"dropout": k})),
        keys,
        x,
    )


def test_models_registered():
    models = registered_models()
    assert "Dropout" in models and "DropoutMLP" in models
    spec = models["DropoutMLP"]
    module = spec.make()
    params = module.init(jax.random.key(1), jnp.ones((2, *spec.input_shape)))
    out = module.apply(params, jnp.ones((2, *spec.input_shape)), **spec.apply_kwargs)
    assert out.shape == (2, 3)


def test_functional_and_layer_agree_in_distribution(key):
    x = jnp.ones((2000, 4))
    k1, k2 = jax.random.split(key)
    layer = Dropout(0.8).apply({}, x, train=True, rngs={"dropout": k1})
    fn = dropout(k2, x, 0.8)
    assert abs(float((layer != 0).mean()) - float((fn != 0).mean())) < 0.03
