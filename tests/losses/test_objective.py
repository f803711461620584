"""Objective: a loss function that also evaluates."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl.losses import Objective


def test_objective_calls_the_loss_and_evaluates():
    def loss_fn(params, model_state, batch, key):
        return jnp.mean((params * batch) ** 2), (model_state, {"scale": params})

    objective = Objective(loss_fn, lambda p, s, b: {"loss": loss_fn(p, s, b, None)[0]})
    loss, (state, metrics) = objective(jnp.array(2.0), {}, jnp.ones(3), jax.random.key(0))
    assert float(loss) == 4.0 and state == {} and float(metrics["scale"]) == 2.0
    assert float(objective.evaluate(jnp.array(2.0), {}, jnp.ones(3))["loss"]) == 4.0
    assert float(jax.jit(objective.evaluate)(jnp.array(1.0), {}, jnp.ones(3))["loss"]) == 1.0
