"""Learning-rate and capacity U-curves on MNIST-1D (k-fold cross-validated errors).

Part 1: learning-rate U-curve: cross-validated training and validation error against
the learning rate (too small: under-fitting within the epoch budget; too large:
unstable).

Part 2: capacity U-curve: the same against the hidden width of a one-hidden-layer MLP on
a small training set (a separate compiled search per width, since shapes differ).

(Split out of ``hyperparameter-search``, which now compares search methods; the keys are
derived as before, so the numbers are the same.)
"""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.data import load_mnist1d
from jaxdl.experiment import Run, line_plot
from jaxdl.nn import MLP
from jaxdl.selection import grid_search, stratified_kfold


def _sgd():
    return optax.inject_hyperparams(optax.sgd)(learning_rate=0.1, momentum=0.9)


def _errors(result) -> tuple[list[float], list[float]]:
    table = result.cv_results
    return (list(1.0 - table["mean_train_score"]), list(1.0 - table["mean_test_score"]))


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run the two U-curves, write the plots; return the metrics."""
    logger = workdir.logger
    data = load_mnist1d(num_samples=config["num_samples"], seed=config["data_seed"])
    x, y = data.x_train, data.y_train
    keys = jax.random.split(workdir.key, 6)  # the former experiment's key layout
    folds = stratified_kfold(keys[0], y, config["num_folds"], data.num_classes)
    model = MLP(features=(config["hidden"], data.num_classes), activation="relu", output=None)
    settings = dict(num_epochs=config["num_epochs"], batch_size=config["batch_size"])
    summary: dict = {}

    # Part 1: learning-rate U-curve (plain SGD, momentum 0).
    rates = np.logspace(
        *np.log10(config["u_curve_learning_rates"]), config["num_learning_rates"]
    ).tolist()
    rate_search = grid_search(
        keys[3],
        model,
        _sgd(),
        (x, y),
        folds,
        {"learning_rate": rates, "momentum": [0.0]},
        **settings,
    )
    train_error, validation_error = _errors(rate_search)
    history = np.asarray(rate_search.fit.history["train_loss"])
    finite = np.all(np.isfinite(history), axis=1)
    summary["first_train_loss"] = float(np.median(history[finite, 0]))
    summary["final_train_loss"] = float(np.median(history[finite, -1]))
    summary["learning_rates"] = rates
    summary["learning_rate_diverged"] = [bool(np.isnan(e)) for e in validation_error]
    summary["learning_rate_train_error"] = train_error
    summary["learning_rate_validation_error"] = validation_error
    for i, rate in enumerate(rates):
        logger.log(
            i,
            part="learning_rate_curve",
            learning_rate=rate,
            train_error=train_error[i],
            validation_error=validation_error[i],
        )

    # Part 2: capacity U-curve on a small training set.
    small = config["capacity_num_train"]
    x_small, y_small = x[:small], y[:small]
    small_folds = stratified_kfold(keys[4], y_small, config["num_folds"], data.num_classes)
    capacity_train, capacity_validation = [], []
    width_key = keys[5]
    for i, width in enumerate(config["widths"]):
        wide = MLP(features=(width, data.num_classes), activation="relu", output=None)
        result = grid_search(
            jax.random.fold_in(width_key, i),
            wide,
            _sgd(),
            (x_small, y_small),
            small_folds,
            {"learning_rate": [config["capacity_learning_rate"]], "momentum": [0.9]},
            num_epochs=config["capacity_num_epochs"],
            batch_size=None,
        )
        train_error, validation_error = _errors(result)
        capacity_train.append(train_error[0])
        capacity_validation.append(validation_error[0])
        logger.log(
            i,
            part="capacity_curve",
            width=width,
            train_error=train_error[0],
            validation_error=validation_error[0],
        )
        if workdir.progress:
            print(
                f"width {width}: train error {train_error[0]:.3f}, "
                f"validation error {validation_error[0]:.3f}"
            )
    summary["widths"] = list(config["widths"])
    summary["capacity_train_error"] = capacity_train
    summary["capacity_validation_error"] = capacity_validation

    # Diverged runs (non-finite loss, no score) are drawn at chance error, 1 - 1/K.
    chance = 1.0 - 1.0 / data.num_classes
    line_plot(
        workdir / "learning_rate_u_curve.png",
        {
            "train": np.nan_to_num(summary["learning_rate_train_error"], nan=chance),
            "validation": np.nan_to_num(summary["learning_rate_validation_error"], nan=chance),
        },
        x=np.log10(rates),
        xlabel="log10 learning rate (diverged runs drawn at chance error)",
        ylabel="error",
        title="Error vs learning rate (k-fold CV)",
    )
    line_plot(
        workdir / "capacity_u_curve.png",
        {"train": capacity_train, "validation": capacity_validation},
        x=np.log2(config["widths"]),
        xlabel="log2 hidden units",
        ylabel="error",
        title="Error vs capacity (k-fold CV)",
    )
    return summary
