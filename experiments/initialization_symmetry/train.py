"""Initialization symmetry: a tanh MLP whose weights all start equal never separates its units.

A one-hidden-layer tanh MLP on XOR with every weight set to the same constant: all hidden
units compute the same function and receive the same gradient, so they stay identical and
the network behaves like one hidden unit and fails, while random initialization (the
course's ``U(-1/sqrt(m), 1/sqrt(m))``) solves the problem.
"""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.data.toy import xor
from jaxdl.experiment import Run, line_plot
from jaxdl.nn.initializers import constant
from jaxdl.nn.mlp import MLP
from jaxdl.training import create_train_state, fit, make_supervised_loss


def unit_spread(kernel: np.ndarray) -> float:
    """Largest difference between any hidden unit's incoming weights and the first unit's."""
    kernel = np.asarray(kernel)
    return float(np.max(np.abs(kernel - kernel[:, :1])))


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train the MLP from random and from constant weights; return the metrics."""
    logger = workdir.logger
    train_key, test_key, init_key, fit_key = jax.random.split(workdir.key, 4)
    x, y = jax.jit(lambda k: xor(k, config["num_train"], config["noise"]))(train_key)
    x_test, y_test = jax.jit(lambda k: xor(k, config["num_test"], config["noise"]))(test_key)
    features = (config["num_hidden"], 2)
    models = {
        "random": MLP(features=features, activation="tanh", output=None),
        "symmetric": MLP(
            features=features,
            activation="tanh",
            output=None,
            kernel_init=constant(config["symmetric_value"]),
        ),
    }
    summary: dict = {}
    curves = {}
    for i, (name, model) in enumerate(models.items()):
        loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
        state = create_train_state(
            jax.random.clone(init_key), model, x[:1], optax.sgd(config["learning_rate"])
        )
        result = fit(
            jax.random.fold_in(fit_key, i),
            state,
            loss_fn,
            (x, y),
            num_epochs=config["num_epochs"],
            epochs_per_chunk=config["epochs_per_chunk"],
            progress=workdir.progress,
            callback=lambda r, name=name: logger.log(
                r["step"],
                init=name,
                **{k: v for k, v in r.items() if k != "step"},
            ),
        )
        params = result.state.params
        test = jax.jit(loss_fn.evaluate)(params, {}, (x_test, y_test))
        curves[name] = [r["train_loss"] for r in result.history]
        summary[f"{name}_unit_spread"] = unit_spread(params["Dense_0"]["kernel"])
        summary[f"{name}_initial_unit_spread"] = unit_spread(state.params["Dense_0"]["kernel"])
        summary[f"{name}_test_accuracy"] = float(test["accuracy"])
        summary[f"{name}_first_train_loss"] = result.history[0]["train_loss"]
        summary[f"{name}_final_train_loss"] = result.history[-1]["train_loss"]
    line_plot(
        workdir / "loss.png",
        curves,
        xlabel="epoch",
        ylabel="training loss (cross-entropy, nats)",
        title="XOR: random vs constant (symmetric) initial weights",
    )
    return summary
