"""Same network, same initial weights, same constant step size: only the batch size changes.

Batch size 0 stands for full-batch gradient descent (one step per epoch). Each variant is
one ``fit`` call whose epochs are single compiled programs; the per-step losses within an
epoch are averaged in the history, and the per-step noise shows in the final spread.
"""

from __future__ import annotations

import jax
import optax

from jaxdl.data import load_digits, load_mnist
from jaxdl.experiment import Run, line_plot
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, fit, make_supervised_loss


def validate(config: dict) -> None:
    if any(b < 0 for b in config["batch_sizes"]):
        raise ValueError("batch_sizes must be >= 0 (0: full batch)")
    if config["dataset"] not in ("digits", "mnist"):
        raise ValueError(f"dataset must be 'digits' or 'mnist', got {config['dataset']!r}")


def _data(name: str):
    """Inputs scaled to [0, 1]: 8x8 digits (intensities 0..16) or the 5,000 real MNIST
    digits (28x28, 4,000 train / 1,000 test)."""
    if name == "mnist":
        data = load_mnist(val_fraction=0.0)
        return data, data.x_train, data.x_test
    data = load_digits()
    return data, data.x_train / 16.0, data.x_test / 16.0


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    logger = workdir.logger
    data, x_train, x_test = _data(config["dataset"])  # pixel intensities in [0, 1]
    model = MLP(features=(config["num_hidden"], data.num_classes), activation="relu", output=None)
    init_key, train_key = jax.random.split(workdir.key)
    state = create_train_state(init_key, model, x_train[:1], optax.sgd(config["learning_rate"]))
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    curves, summary = {}, {}
    for batch_size in config["batch_sizes"]:
        label = "GD (full batch)" if batch_size == 0 else f"SGD b={batch_size}"
        result = fit(
            jax.random.fold_in(train_key, batch_size),
            state,
            loss_fn,
            (x_train, data.y_train),
            num_epochs=config["num_epochs"],
            batch_size=None if batch_size == 0 else batch_size,
            progress=workdir.progress,
        )
        for record in result.history:
            logger.log(record["step"], batch_size=batch_size, **record)
        curves[label] = [r["train_loss"] for r in result.history]
        key = "gd" if batch_size == 0 else f"b{batch_size}"
        summary[f"{key}_first_train_loss"] = result.history[0]["train_loss"]
        summary[f"{key}_final_train_loss"] = result.history[-1]["train_loss"]
        summary[f"{key}_test_accuracy"] = float(
            jax.jit(loss_fn.evaluate)(result.state.params, {}, (x_test, data.y_test))["accuracy"]
        )
        summary[f"{key}_steps"] = int(result.state.step)
    line_plot(
        workdir / "loss.png",
        curves,
        xlabel="epoch",
        ylabel="cross-entropy (nats, epoch mean)",
        log_y=True,
        title=(
            f"{config['dataset']} {x_train.shape[1]}-{config['num_hidden']}-{data.num_classes}: "
            "GD vs SGD batch sizes"
        ),
    )
    return summary
