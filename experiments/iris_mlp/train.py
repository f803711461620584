"""The course's Iris demo: a 2-10-3 sigmoid network, MSE on one-hot targets, online SGD.

Two inputs, ten sigmoid hidden units and three sigmoid outputs; the mean squared error
against one-hot targets is minimized by (online) stochastic gradient descent.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_iris, one_hot, standardize
from jaxdl.experiment import Run, decision_boundary, figure, history_columns, line_plot
from jaxdl.metrics import accuracy
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, fit, make_supervised_loss


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    data = load_iris(features=tuple(config["features"]))
    _, (x_train, x_test) = standardize(data.x_train, data.x_test)
    t_train = one_hot(data.y_train, data.num_classes)

    model = MLP(
        features=(config["num_hidden"], data.num_classes), activation="sigmoid", output="sigmoid"
    )
    init_key, train_key = jax.random.split(workdir.key)
    state = create_train_state(init_key, model, x_train[:1], optax.sgd(config["learning_rate"]))
    loss_fn = make_supervised_loss(model, "mse", ())
    result = fit(
        train_key,
        state,
        loss_fn,
        (x_train, t_train),
        num_epochs=config["num_epochs"],
        batch_size=config["batch_size"],
        **workdir.fit_kwargs(),
    )

    def predict(points):
        return jnp.argmax(model.apply({"params": result.state.params}, points), axis=-1)

    train_accuracy = float(accuracy(data.y_train, predict(x_train)))
    test_accuracy = float(accuracy(data.y_test, predict(x_test)))
    line_plot(
        workdir / "loss.png",
        history_columns(result.history, "train_loss"),
        xlabel="epoch",
        ylabel="MSE (one-hot targets)",
        title="Iris 2-10-3 sigmoid network, SGD",
    )
    with figure(workdir / "decision_regions.png", figsize=(5, 5)) as ax:
        decision_boundary(
            ax,
            lambda p: np.asarray(predict(jnp.asarray(p))),
            np.asarray(x_train),
            np.asarray(data.y_train),
            title=f"Iris, test accuracy {test_accuracy:.2f}",
        )
        ax.set(xlabel="feature 1 (standardized)", ylabel="feature 2 (standardized)")
    return {
        "train_accuracy": train_accuracy,
        "test_accuracy": test_accuracy,
        "first_train_loss": result.history[0]["train_loss"],
        "final_train_loss": result.history[-1]["train_loss"],
        "num_steps": int(result.state.step),
    }
