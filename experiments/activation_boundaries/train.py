"""Train the same (4, 2) network with tanh and with ReLU hidden units; plot both boundaries.

Both networks start from the same initial weights and see the same minibatches, so the
only difference is the nonlinearity: tanh features are smooth, ReLU features piecewise
linear, and so are the decision boundaries.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import moons
from jaxdl.experiment import Run, decision_boundary, figure
from jaxdl.metrics import accuracy
from jaxdl.nn import MLP, constant
from jaxdl.training import create_train_state, fit, make_supervised_loss


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    logger = workdir.logger
    data_key, init_key, train_key = jax.random.split(workdir.key, 3)
    x, y = moons(data_key, config["num_samples"], noise=config["noise"])
    num = len(config["activations"])
    with figure(
        workdir / "decision_boundaries.png", 1, num, figsize=(5 * num, 5), squeeze=False
    ) as axes:
        summary = _train_each(config, workdir, logger, x, y, init_key, train_key, axes[0])
    return summary


def _train_each(config, workdir, logger, x, y, init_key, train_key, axes) -> dict:
    summary: dict = {}
    for name, ax in zip(config["activations"], axes, strict=True):
        # a small positive bias keeps the 2-unit ReLU layer from dying at initialization
        model = MLP(
            features=(*config["hidden"], 2),
            activation=name,
            output=None,
            bias_init=constant(config["bias_init"]),
        )
        # the same initial weights for every activation (a cloned key, not a reused one)
        state = create_train_state(
            jax.random.clone(init_key), model, x[:1], optax.adam(config["learning_rate"])
        )
        # the same minibatch order for every activation
        result = fit(
            jax.random.clone(train_key),
            state,
            make_supervised_loss(model),
            (x, y),
            num_epochs=config["num_epochs"],
            batch_size=config["batch_size"],
            progress=workdir.progress,
        )
        for record in result.history:
            logger.log(record["step"], activation=name, **record)

        def predict(points, params=result.state.params, model=model):
            return jnp.argmax(model.apply({"params": params}, jnp.asarray(points)), axis=-1)

        acc = float(accuracy(y, predict(x)))
        decision_boundary(
            ax,
            predict,
            np.asarray(x),
            np.asarray(y),
            title=f"{name}: training accuracy {acc:.2f}",
        )
        summary[f"{name}_train_accuracy"] = acc
        summary[f"{name}_first_train_loss"] = result.history[0]["train_loss"]
        summary[f"{name}_final_train_loss"] = result.history[-1]["train_loss"]
    return summary
