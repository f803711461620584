"""MultiTaskMLP: a shared trunk and one head per task."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.losses import multi_task_loss
from jaxdl.nn.multitask import MultiTaskMLP
from jaxdl.nn.registry import registered_models
from tests._fixtures import optax_steps


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

    trained = optax_steps(optax.sgd(0.2), params, loss, 150)
    before, after = task_losses(params), task_losses(trained)
    assert after[0] < 0.5 * before[0] and after[1] < 0.5 * before[1]


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


def test_multi_task_mlp_needs_a_task():
    with pytest.raises(ValueError, match="at least one task"):
        MultiTaskMLP(trunk_features=(4,), head_features=()).init(
            jax.random.key(1), jnp.ones((1, 2))
        )
