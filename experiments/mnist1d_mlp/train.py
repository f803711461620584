"""Train an MLP on MNIST-1D with the compiled ``fit`` loop."""

from __future__ import annotations

import pathlib

import jax
import numpy as np
import optax

from experiments._common import history_columns, plot_curves
from jaxdl.data import load_mnist1d
from jaxdl.metrics import accuracy, confusion_matrix
from jaxdl.nn import MLP
from jaxdl.training import (
    RunLogger,
    create_train_state,
    epochs_for_steps,
    fit,
    supervised_loss,
)

OPTIMIZERS = {"adam": optax.adam, "sgd": optax.sgd, "rmsprop": optax.rmsprop}


def train_and_evaluate(config: dict, workdir: str) -> dict:
    """Train, evaluate on the test split, write the run directory; return the summary."""
    workdir_path = pathlib.Path(workdir)
    logger = RunLogger(workdir_path)
    logger.write_config(config)
    data = load_mnist1d(num_samples=config["num_samples"], seed=config["data_seed"])

    model = MLP(
        features=(*config["hidden"], data.num_classes), activation=config["activation"], output=None
    )
    if config["optimizer"] not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {sorted(OPTIMIZERS)}, got {config['optimizer']!r}"
        )
    tx = optax.inject_hyperparams(OPTIMIZERS[config["optimizer"]])(
        learning_rate=config["learning_rate"]
    )
    if config["weight_decay"]:
        tx = optax.chain(optax.add_decayed_weights(config["weight_decay"]), tx)

    init_key, train_key = jax.random.split(jax.random.key(config["seed"]))
    state = create_train_state(init_key, model, data.x_train[:1], tx)
    loss_fn = supervised_loss(model, "cross_entropy", ("accuracy",))
    num_epochs = epochs_for_steps(config["num_steps"], len(data.x_train), config["batch_size"])
    result = fit(
        train_key,
        state,
        loss_fn,
        (data.x_train, data.y_train),
        num_epochs=num_epochs,
        batch_size=config["batch_size"],
        eval_data=(data.x_test, data.y_test),
        epochs_per_chunk=config["epochs_per_chunk"],
        checkpoint_dir=str(workdir_path / "checkpoints") if config["checkpoint"] else None,
        progress=config["progress"],
        logger=logger,
    )

    logits = model.apply({"params": result.state.params}, data.x_test)
    test_accuracy = float(accuracy(data.y_test, logits))
    confusion = np.asarray(confusion_matrix(data.y_test, logits.argmax(-1), data.num_classes))
    history = result.history
    curves = history_columns(history, "train_loss", "eval_loss")
    plot_curves(curves, workdir_path / "loss.png", title="MNIST-1D MLP: cross-entropy")
    plot_curves(
        history_columns(history, "train_accuracy", "eval_accuracy"),
        workdir_path / "accuracy.png",
        ylabel="accuracy",
        title="MNIST-1D MLP",
    )
    summary = {
        "test_accuracy": test_accuracy,
        "final_train_loss": history[-1]["train_loss"],
        "first_train_loss": history[0]["train_loss"],
        "final_train_accuracy": history[-1]["train_accuracy"],
        "num_steps": int(result.state.step),
        "num_epochs": len(history),
        "steps_per_second": float(np.median([r["steps_per_second"] for r in history])),
        "confusion_matrix": confusion.tolist(),
    }
    logger.write_summary(summary)
    return summary
