"""Train the same (4, 2) network with tanh and with ReLU hidden units; plot both boundaries.

Both networks start from the same initial weights and see the same minibatches, so the
only difference is the nonlinearity: tanh features are smooth, ReLU features piecewise
linear, and so are the decision boundaries.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

from experiments._common import plot_decision_boundary
from jaxdl.data import moons
from jaxdl.metrics import accuracy
from jaxdl.nn import MLP, constant
from jaxdl.training import RunLogger, create_train_state, fit, supervised_loss


def train_and_evaluate(config: dict, workdir: str) -> dict:
    path = pathlib.Path(workdir)
    logger = RunLogger(path)
    logger.write_config(config)
    data_key, init_key, train_key = jax.random.split(jax.random.key(config["seed"]), 3)
    x, y = moons(data_key, config["num_samples"], noise=config["noise"])
    fig, axes = plt.subplots(
        1, len(config["activations"]), figsize=(5 * len(config["activations"]), 5), dpi=100
    )
    axes = np.atleast_1d(axes)
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
            supervised_loss(model),
            (x, y),
            num_epochs=config["num_epochs"],
            batch_size=config["batch_size"],
            progress=config["progress"],
        )
        for record in result.history:
            logger.log(record["step"], activation=name, **record)

        def predict(points, params=result.state.params, model=model):
            return jnp.argmax(model.apply({"params": params}, jnp.asarray(points)), axis=-1)

        acc = float(accuracy(y, predict(x)))
        plot_decision_boundary(
            predict,
            np.asarray(x),
            np.asarray(y),
            None,
            ax=ax,
            title=f"{name}: training accuracy {acc:.2f}",
        )
        summary[f"{name}_train_accuracy"] = acc
        summary[f"{name}_first_train_loss"] = result.history[0]["train_loss"]
        summary[f"{name}_final_train_loss"] = result.history[-1]["train_loss"]
    fig.tight_layout()
    fig.savefig(path / "decision_boundaries.png")
    plt.close(fig)
    logger.write_summary(summary)
    return summary
