"""MNIST-1D classified by a 1-D CNN, with the shuffled-input control of the MNIST-1D paper."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_mnist1d
from jaxdl.experiment import Run, history_columns, line_plot
from jaxdl.nn import CNN1D
from jaxdl.training import create_train_state, epochs_for_steps, fit, make_supervised_loss


def validate(config: dict) -> None:
    if not config["features"] or min(config["features"]) < 1:
        raise ValueError(f"features must be positive channel counts, got {config['features']}")
    if len(config["kernel_size"]) != len(config["features"]):
        raise ValueError(
            f"kernel_size must have one entry per layer ({len(config['features'])}), "
            f"got {config['kernel_size']}"
        )


def _train(config: dict, data, permutation, key, workdir: Run, tag: str):
    """Train the CNN on (possibly permuted) inputs; return test accuracy and history."""
    model = CNN1D(
        features=tuple(config["features"]),
        kernel_size=tuple(config["kernel_size"]),
        strides=config["strides"],
        num_classes=data.num_classes,
    )
    x_train, x_val, x_test = (
        jnp.asarray(x)[:, permutation, None] for x in (data.x_train, data.x_val, data.x_test)
    )
    init_key, train_key = jax.random.split(key)
    tx = optax.adamw(config["learning_rate"], weight_decay=config["weight_decay"])
    state = create_train_state(init_key, model, x_train[:1], tx)
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    result = fit(
        train_key,
        state,
        loss_fn,
        (x_train, data.y_train),
        num_epochs=epochs_for_steps(config["num_steps"], len(x_train), config["batch_size"]),
        batch_size=config["batch_size"],
        val_data=(x_val, data.y_val),
        epochs_per_chunk=config["epochs_per_chunk"],
        **(workdir.fit_kwargs() if tag == "ordered" else {}),
    )
    test = jax.jit(loss_fn.evaluate)(
        result.state.params, result.state.model_state, (x_test, data.y_test)
    )
    return float(test["accuracy"]), result.history


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train on the ordered and on the shuffled inputs; evaluate; plot the learning curves."""
    data = load_mnist1d(num_samples=config["num_samples"], seed=config["data_seed"]).split_val(
        config["val_fraction"], seed=config["data_seed"]
    )
    length = data.x_train.shape[1]
    ordered_key, shuffled_key, permutation_key = jax.random.split(workdir.key, 3)
    identity = np.arange(length)
    permutation = np.asarray(jax.random.permutation(permutation_key, length))
    ordered_accuracy, ordered = _train(config, data, identity, ordered_key, workdir, "ordered")
    metrics = {
        "test_accuracy": ordered_accuracy,
        "first_train_loss": ordered[0]["train_loss"],
        "final_train_loss": ordered[-1]["train_loss"],
        "final_val_accuracy": ordered[-1]["val_accuracy"],
        "num_epochs": len(ordered),
    }
    curves = {"ordered inputs (val)": [r["val_accuracy"] for r in ordered]}
    if config["shuffled_control"]:
        shuffled_accuracy, shuffled = _train(
            config, data, permutation, shuffled_key, workdir, "shuffled"
        )
        metrics["shuffled_test_accuracy"] = shuffled_accuracy
        curves["shuffled inputs (val)"] = [r["val_accuracy"] for r in shuffled]
    line_plot(
        workdir / "accuracy.png",
        curves,
        xlabel="epoch",
        ylabel="validation accuracy",
        title="MNIST-1D CNN: ordered vs shuffled inputs",
    )
    line_plot(
        workdir / "loss.png",
        history_columns(ordered, "train_loss", "val_loss"),
        xlabel="epoch",
        ylabel="cross-entropy (nats)",
        title="MNIST-1D CNN: loss (ordered inputs)",
    )
    return metrics
