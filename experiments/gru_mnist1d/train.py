"""MNIST-1D read step by step by a GRU (course or library form), with a time-shuffled control."""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.data import load_mnist1d
from jaxdl.experiment import Run, history_columns, line_plot
from jaxdl.nn import SequenceClassifier, make_sequence_classification_loss
from jaxdl.training import create_train_state, epochs_for_steps, fit

CELLS = ("gru", "gru_library", "lstm", "simple")


def validate(config: dict) -> None:
    if config["cell"] not in CELLS:
        raise ValueError(f"cell must be one of {list(CELLS)}, got {config['cell']!r}")


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train the sequence classifier, evaluate once on the test split, plot the curves."""
    data = load_mnist1d(num_samples=config["num_samples"], seed=config["data_seed"]).split_val(
        config["val_fraction"], seed=config["data_seed"]
    )
    length = data.x_train.shape[1]
    order = np.arange(length)
    if config["shuffle_time"]:  # the control: one fixed permutation of the time steps
        order = np.random.default_rng(config["data_seed"]).permutation(length)

    def as_sequences(x):
        return np.asarray(x)[:, order, None].astype(np.float32)  # [N, T, 1]

    x_train, x_val, x_test = map(as_sequences, (data.x_train, data.x_val, data.x_test))
    model = SequenceClassifier(
        num_hidden=config["num_hidden"], num_outputs=data.num_classes, cell=config["cell"]
    )
    schedule = optax.cosine_decay_schedule(config["learning_rate"], config["num_steps"])
    tx = optax.chain(optax.clip_by_global_norm(config["clip_norm"]), optax.adam(schedule))
    init_key, train_key = jax.random.split(workdir.key)
    state = create_train_state(init_key, model, x_train[:1], tx)
    loss_fn = make_sequence_classification_loss(model)
    num_epochs = epochs_for_steps(config["num_steps"], len(x_train), config["batch_size"])
    result = fit(
        train_key,
        state,
        loss_fn,
        (x_train, data.y_train),
        num_epochs=num_epochs,
        batch_size=config["batch_size"],
        val_data=(x_val, data.y_val),
        epochs_per_chunk=config["epochs_per_chunk"],
        **workdir.fit_kwargs(checkpoint=config["checkpoint"]),
    )
    test = jax.jit(loss_fn.evaluate)(result.state.params, {}, (x_test, data.y_test))
    history = result.history
    name = f"{config['cell']} GRU" if config["cell"].startswith("gru") else config["cell"]
    suffix = ", time-shuffled" if config["shuffle_time"] else ""
    line_plot(
        workdir / "loss.png",
        history_columns(history, "train_loss", "val_loss"),
        xlabel="epoch",
        ylabel="cross-entropy (nats)",
        title=f"MNIST-1D, {name}{suffix}: loss",
    )
    line_plot(
        workdir / "accuracy.png",
        history_columns(history, "train_accuracy", "val_accuracy"),
        xlabel="epoch",
        ylabel="accuracy",
        title=f"MNIST-1D, {name}{suffix}: accuracy",
    )
    return {
        "test_accuracy": float(test["accuracy"]),
        "test_loss": float(test["loss"]),
        "first_train_loss": history[0]["train_loss"],
        "final_train_loss": history[-1]["train_loss"],
        "final_val_accuracy": history[-1]["val_accuracy"],
        "num_steps": int(result.state.step),
        "num_epochs": len(history),
        "steps_per_second": float(np.median([r["steps_per_second"] for r in history])),
    }
