"""MNIST-1D classified by an MLP trained with the compiled fit loop."""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.data import load_mnist1d
from jaxdl.experiment import Run, history_columns, line_plot
from jaxdl.metrics import accuracy, confusion_matrix
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, epochs_for_steps, fit, make_supervised_loss

OPTIMIZERS = {"adam": optax.adam, "sgd": optax.sgd, "rmsprop": optax.rmsprop}
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "elu", "softplus")


def validate(config: dict) -> None:
    if config["optimizer"] not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {sorted(OPTIMIZERS)}, got {config['optimizer']!r}"
        )
    if config["activation"] not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {list(ACTIVATIONS)}, got {config['activation']!r}"
        )


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train, evaluate on the test split, write the plots; return the metrics."""
    data = load_mnist1d(num_samples=config["num_samples"], seed=config["data_seed"]).split_val(
        config["val_fraction"], seed=config["data_seed"]
    )
    model = MLP(
        features=(*config["hidden"], data.num_classes), activation=config["activation"], output=None
    )
    tx = optax.inject_hyperparams(OPTIMIZERS[config["optimizer"]])(
        learning_rate=config["learning_rate"]
    )
    if config["weight_decay"]:
        tx = optax.chain(optax.add_decayed_weights(config["weight_decay"]), tx)

    init_key, train_key = jax.random.split(workdir.key)
    state = create_train_state(init_key, model, data.x_train[:1], tx)
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    num_epochs = epochs_for_steps(config["num_steps"], len(data.x_train), config["batch_size"])
    result = fit(
        train_key,
        state,
        loss_fn,
        (data.x_train, data.y_train),
        num_epochs=num_epochs,
        batch_size=config["batch_size"],
        val_data=(data.x_val, data.y_val),
        epochs_per_chunk=config["epochs_per_chunk"],
        **workdir.fit_kwargs(checkpoint=config["checkpoint"]),
    )

    @jax.jit  # one compiled program for the test evaluation (no one-off eager ops)
    def evaluate(params, x, y):
        logits = model.apply({"params": params}, x)
        return accuracy(y, logits), confusion_matrix(y, logits.argmax(-1), data.num_classes)

    test_accuracy, confusion = evaluate(result.state.params, data.x_test, data.y_test)
    test_accuracy, confusion = float(test_accuracy), np.asarray(confusion)
    history = result.history  # the whole run, restored epochs included
    line_plot(
        workdir / "loss.png",
        history_columns(history, "train_loss", "val_loss"),
        xlabel="epoch",
        ylabel="cross-entropy (nats)",
        title="MNIST-1D MLP: loss",
    )
    line_plot(
        workdir / "accuracy.png",
        history_columns(history, "train_accuracy", "val_accuracy"),
        xlabel="epoch",
        ylabel="accuracy",
        title="MNIST-1D MLP: accuracy",
    )
    return {
        "test_accuracy": test_accuracy,
        "final_train_loss": history[-1]["train_loss"],
        "first_train_loss": history[0]["train_loss"],
        "final_train_accuracy": history[-1]["train_accuracy"],
        "final_val_accuracy": history[-1]["val_accuracy"],
        "num_steps": int(result.state.step),
        "num_epochs": len(history),
        "steps_per_second": float(np.median([r["steps_per_second"] for r in history])),
        "confusion_matrix": confusion.tolist(),
    }
