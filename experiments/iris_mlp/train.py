"""The course's Iris demo: 2 inputs, 10 sigmoid hidden units, 3 sigmoid outputs on one-hot
targets, mean squared error minimized by (online) stochastic gradient descent."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from experiments._common import history_columns, plot_curves, plot_decision_boundary
from jaxdl.data import load_iris, one_hot, standardize
from jaxdl.metrics import accuracy
from jaxdl.nn import MLP
from jaxdl.training import RunLogger, create_train_state, fit, supervised_loss


def train_and_evaluate(config: dict, workdir: str) -> dict:
    path = pathlib.Path(workdir)
    logger = RunLogger(path)
    logger.write_config(config)
    data = load_iris(features=tuple(config["features"]))
    _, (x_train, x_test) = standardize(data.x_train, data.x_test)
    t_train = one_hot(data.y_train, data.num_classes)
    t_test = one_hot(data.y_test, data.num_classes)

    model = MLP(
        features=(config["num_hidden"], data.num_classes), activation="sigmoid", output="sigmoid"
    )
    init_key, train_key = jax.random.split(jax.random.key(config["seed"]))
    state = create_train_state(init_key, model, x_train[:1], optax.sgd(config["learning_rate"]))
    loss_fn = supervised_loss(model, "mse", ())
    result = fit(
        train_key,
        state,
        loss_fn,
        (x_train, t_train),
        num_epochs=config["num_epochs"],
        batch_size=config["batch_size"],
        eval_data=(x_test, t_test),
        progress=config["progress"],
        logger=logger,
    )

    def predict(points):
        return jnp.argmax(model.apply({"params": result.state.params}, points), axis=-1)

    train_accuracy = float(accuracy(data.y_train, predict(x_train)))
    test_accuracy = float(accuracy(data.y_test, predict(x_test)))
    plot_curves(
        history_columns(result.history, "train_loss", "eval_loss"),
        path / "loss.png",
        ylabel="MSE",
        title="Iris 2-10-3 sigmoid network, SGD",
    )
    plot_decision_boundary(
        lambda p: np.asarray(predict(jnp.asarray(p))),
        np.asarray(x_train),
        np.asarray(data.y_train),
        path / "decision_regions.png",
        title=f"Iris, test accuracy {test_accuracy:.2f}",
    )
    summary = {
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "first_train_loss": result.history[0]["train_loss"],
        "final_train_loss": result.history[-1]["train_loss"],
        "num_steps": int(result.state.step),
    }
    logger.write_summary(summary)
    return summary
