"""Batch norm (the course's final phase vs the running average) and dropout, on and off."""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import optax

from jaxdl.data import load_mnist
from jaxdl.experiment import Run, line_plot
from jaxdl.nn import BatchNorm, Dropout, final_phase_statistics
from jaxdl.training import create_train_state, fit, make_supervised_loss

VARIANTS = ("plain", "batchnorm", "dropout", "batchnorm_dropout")


def validate(config: dict) -> None:
    if config["train_subset"] < 0:
        raise ValueError(f"train_subset must be >= 0 (0: all), got {config['train_subset']}")
    unknown = [v for v in config["variants"] if v not in VARIANTS]
    if unknown or not config["variants"]:
        raise ValueError(f"variants must be a non-empty subset of {list(VARIANTS)}, got {unknown}")


class Net(nn.Module):
    """784 -> (Dense -> [BatchNorm] -> ReLU -> [Dropout]) x L -> 10 logits."""

    features: Sequence[int]
    num_classes: int
    batch_norm: bool
    keep_probability: float

    @nn.compact
    def __call__(self, x, train: bool = False):
        for features in self.features:
            x = nn.Dense(features, use_bias=not self.batch_norm)(x)  # BN's shift is the bias
            if self.batch_norm:
                x = BatchNorm(momentum=0.9)(x, train=train)
            x = nn.relu(x)
            if self.keep_probability < 1.0:
                x = Dropout(keep_probability=self.keep_probability)(x, train=train)
        return nn.Dense(self.num_classes)(x)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train each variant on the same split; BN variants evaluated with both statistics."""
    data = load_mnist(seed=config["data_seed"])
    if config["train_subset"]:
        data = data._replace(
            x_train=data.x_train[: config["train_subset"]],
            y_train=data.y_train[: config["train_subset"]],
        )
    metrics: dict = {}
    val_curves: dict = {}
    loss_curves: dict = {}
    for index, variant in enumerate(config["variants"]):
        model = Net(
            features=tuple(config["hidden"]),
            num_classes=data.num_classes,
            batch_norm="batchnorm" in variant,
            keep_probability=config["keep_probability"] if "dropout" in variant else 1.0,
        )
        init_key, train_key = jax.random.split(jax.random.fold_in(workdir.key, index))
        tx = optax.sgd(config["learning_rate"], momentum=config["momentum"])
        state = create_train_state(init_key, model, data.x_train[:2], tx)
        loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
        result = fit(
            train_key,
            state,
            loss_fn,
            (data.x_train, data.y_train),
            num_epochs=config["num_epochs"],
            batch_size=config["batch_size"],
            val_data=(data.x_val, data.y_val),
            epochs_per_chunk=config["epochs_per_chunk"],
        )
        params, model_state = result.state.params, result.state.model_state
        evaluate = jax.jit(loss_fn.evaluate)
        test = evaluate(params, model_state, (data.x_test, data.y_test))
        history = result.history
        metrics[f"{variant}_test_accuracy"] = float(test["accuracy"])
        metrics[f"{variant}_first_train_loss"] = history[0]["train_loss"]
        metrics[f"{variant}_final_train_loss"] = history[-1]["train_loss"]
        if model.batch_norm:
            final = final_phase_statistics(
                model, {"params": params, **model_state}, data.x_train, batch_size=1000
            )
            final_state = {k: v for k, v in final.items() if k != "params"}
            test_final = evaluate(params, final_state, (data.x_test, data.y_test))
            metrics[f"{variant}_test_accuracy_running_average"] = float(test["accuracy"])
            metrics[f"{variant}_test_accuracy_final_phase"] = float(test_final["accuracy"])
        val_curves[variant] = [r["val_accuracy"] for r in history]
        loss_curves[variant] = [r["train_loss"] for r in history]
    line_plot(
        workdir / "val_accuracy.png",
        val_curves,
        xlabel="epoch",
        ylabel="validation accuracy (running-average statistics)",
        title="Batch norm and dropout: validation accuracy",
    )
    line_plot(
        workdir / "train_loss.png",
        loss_curves,
        xlabel="epoch",
        ylabel="training cross-entropy (nats)",
        title="Batch norm and dropout: training loss",
        log_y=True,
    )
    return metrics
