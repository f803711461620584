"""The slides' CNN, LeNet-5 and the slides' 784-200-200-10 MLP on the 5,000 MNIST digits."""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.data import load_mnist
from jaxdl.experiment import Run, image_grid, line_plot
from jaxdl.nn import MLP, LeNet5, SlidesCNN, count_params
from jaxdl.training import create_train_state, fit, make_supervised_loss

MODELS = ("slides_cnn", "lenet5", "mlp")


def validate(config: dict) -> None:
    if config["train_subset"] < 0:
        raise ValueError(f"train_subset must be >= 0 (0: all), got {config['train_subset']}")
    unknown = [m for m in config["models"] if m not in MODELS]
    if unknown or not config["models"]:
        raise ValueError(f"models must be a non-empty subset of {list(MODELS)}, got {unknown}")


def _model(name: str, num_classes: int):
    if name == "slides_cnn":
        return SlidesCNN(num_classes=num_classes)
    if name == "lenet5":
        return LeNet5(num_classes=num_classes)
    return MLP(features=(200, 200, num_classes), activation="relu", output=None)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train each model on the same split and batches; plot curves, filters and maps."""
    data = load_mnist(seed=config["data_seed"], image_shape=True)
    if config["train_subset"]:
        data = data._replace(
            x_train=data.x_train[: config["train_subset"]],
            y_train=data.y_train[: config["train_subset"]],
        )
    metrics: dict = {}
    curves: dict = {}
    trained: dict = {}
    for index, name in enumerate(config["models"]):
        model = _model(name, data.num_classes)
        flat = name == "mlp"
        x_train, x_val, x_test = (
            x.reshape(len(x), -1) if flat else x for x in (data.x_train, data.x_val, data.x_test)
        )
        init_key, train_key = jax.random.split(jax.random.fold_in(workdir.key, index))
        state = create_train_state(
            init_key, model, x_train[:1], optax.adam(config["learning_rate"])
        )
        loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
        result = fit(
            jax.random.fold_in(train_key, 0),  # the same batches for every model: same data key
            state,
            loss_fn,
            (x_train, data.y_train),
            num_epochs=config["num_epochs"],
            batch_size=config["batch_size"],
            val_data=(x_val, data.y_val),
            epochs_per_chunk=config["epochs_per_chunk"],
        )
        test = jax.jit(loss_fn.evaluate)(result.state.params, {}, (x_test, data.y_test))
        history = result.history
        metrics[f"{name}_test_accuracy"] = float(test["accuracy"])
        metrics[f"{name}_num_params"] = count_params(result.state.params)
        metrics[f"{name}_first_train_loss"] = history[0]["train_loss"]
        metrics[f"{name}_final_train_loss"] = history[-1]["train_loss"]
        curves[f"{name} (val)"] = [r["val_accuracy"] for r in history]
        trained[name] = (model, result.state.params)
    line_plot(
        workdir / "accuracy.png",
        curves,
        xlabel="epoch",
        ylabel="validation accuracy",
        title="MNIST digits: slides' CNN vs LeNet-5 vs MLP",
    )
    _plot_filters_and_maps(trained, data.x_test[:1], workdir)
    return metrics


def _plot_filters_and_maps(trained: dict, digit: np.ndarray, workdir: Run) -> None:
    if "slides_cnn" in trained:
        model, params = trained["slides_cnn"]
        kernel = np.asarray(params["conv"]["conv"]["kernel"])  # [5, 5, 1, 16]
        image_grid(
            [list(np.moveaxis(kernel[:, :, 0, :], -1, 0))],
            workdir / "slides_cnn_filters.png",
            title="slides' CNN: the 16 learned 5x5 filters",
            side=5,
            cmap="RdBu_r",
            value_range=None,
        )
        maps = model.apply({"params": params}, digit, method=SlidesCNN.feature_maps)
        image_grid(
            [[np.asarray(digit[0, :, :, 0])]],
            workdir / "test_digit.png",
            title="the test digit of the feature maps",
            side=28,
        )
        image_grid(
            [list(np.moveaxis(np.asarray(maps["conv"][0]), -1, 0))],
            workdir / "slides_cnn_feature_maps.png",
            title="slides' CNN: the 16 12x12 feature maps of a test digit (after ReLU)",
            side=12,
            value_range=None,
        )
    if "lenet5" in trained:
        model, params = trained["lenet5"]
        kernel = np.asarray(params["c1"]["conv"]["kernel"])  # [5, 5, 1, 6]
        image_grid(
            [list(np.moveaxis(kernel[:, :, 0, :], -1, 0))],
            workdir / "lenet5_c1_filters.png",
            title="LeNet-5: the 6 learned C1 filters",
            side=5,
            cmap="RdBu_r",
            value_range=None,
        )
