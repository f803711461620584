"""SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam side by side on digits.

The same 64-H-10 ReLU MLP, from the same initial weights, trained on
scikit-learn's digits by minibatch SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam
(``jaxdl.optim`` aliases, ``jaxdl.training.fit``). One plot holds every training-loss
curve; the summary records the final training loss and the test accuracy of each.

The ill-conditioned valley (gradient descent against momentum, conjugate gradients and
Newton) is the ``ill-conditioning`` experiment.
"""

from __future__ import annotations

import jax
import optax

from jaxdl import optim
from jaxdl.data import load_digits
from jaxdl.experiment import Run, line_plot
from jaxdl.nn.mlp import MLP
from jaxdl.training import create_train_state, fit, make_supervised_loss

OPTIMIZERS = {
    "sgd": optax.sgd,
    "momentum": optim.momentum,
    "nesterov": optim.nesterov,
    "adagrad": optim.adagrad,
    "rmsprop": optim.rmsprop,
    "adam": optim.adam,
}


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train one MLP per optimizer from the same initial weights; plot the loss curves."""
    logger = workdir.logger
    data = load_digits()
    x_train, y_train = data.x_train / 16.0, data.y_train
    if "num_train" in config:
        x_train, y_train = x_train[: config["num_train"]], y_train[: config["num_train"]]
    x_test, y_test = data.x_test / 16.0, data.y_test
    model = MLP(features=(config["hidden"], data.num_classes), activation="relu", output=None)
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    init_key, fit_key = jax.random.split(workdir.key)
    summary: dict = {}
    curves: dict[str, list[float]] = {}
    for name, hyperparameters in config["optimizers"].items():
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizers must be among {sorted(OPTIMIZERS)}, got {name!r}")
        tx = OPTIMIZERS[name](**hyperparameters)
        # same initial weights and the same minibatch order for every optimizer
        state = create_train_state(jax.random.clone(init_key), model, x_train[:1], tx)
        result = fit(
            jax.random.clone(fit_key),
            state,
            loss_fn,
            (x_train, y_train),
            num_epochs=config["num_epochs"],
            batch_size=config["batch_size"],
            progress=workdir.progress,
            callback=lambda record, name=name: logger.log(
                record["step"],
                optimizer=name,
                **{k: v for k, v in record.items() if k != "step"},
            ),
        )
        test = loss_fn.evaluate(result.state.params, {}, (x_test, y_test))
        curves[name] = [record["train_loss"] for record in result.history]
        summary[f"{name}_first_train_loss"] = curves[name][0]
        summary[f"{name}_final_train_loss"] = curves[name][-1]
        summary[f"{name}_test_accuracy"] = float(test["accuracy"])
    line_plot(
        workdir / "loss_curves.png",
        curves,
        xlabel="epoch",
        log_y=True,
        title=f"digits, MLP 64-{config['hidden']}-10, batch {config['batch_size']}",
        ylabel="training loss (epoch mean)",
    )
    return summary


def validate(config: dict) -> None:
    """Optimizer names must be known (checked before the run directory is created)."""
    unknown = sorted(set(config["optimizers"]) - set(OPTIMIZERS))
    if unknown:
        raise ValueError(f"optimizers must be among {sorted(OPTIMIZERS)}, got {unknown}")
