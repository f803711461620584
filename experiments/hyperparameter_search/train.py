"""Hyperparameter search on MNIST-1D: grid vs random vs model-based search, several seeds.

The same budget of candidates for SGD's learning rate and momentum, chosen three ways:
on a ``grid_side x grid_side`` grid, drawn at random (learning rate log-uniform, momentum
uniform), or proposed by a Gaussian-process surrogate with expected improvement
(``jaxdl.selection.model_based_search``: a random first batch, then batches of the
highest expected improvement). Every candidate is scored by stratified k-fold
cross-validation; all candidates x folds of a batch train in one compiled ``fit_many``.
The comparison is repeated over ``num_seeds`` seeds (folds, initializations, draws), and
reports the mean and spread of the best validation accuracy.
"""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.data import load_mnist1d
from jaxdl.experiment import Run, figure, line_plot
from jaxdl.nn import MLP
from jaxdl.selection import (
    continuous,
    cv_evaluator,
    gp_predict,
    grid_search,
    log_scaled,
    log_uniform,
    model_based_search,
    random_search,
    stratified_kfold,
    to_unit,
    uniform,
)

METHODS = ("grid", "random", "model_based")


def validate(config: dict) -> None:
    budget = config["grid_side"] ** 2
    model_based = config["num_initial"] + config["num_rounds"] * config["round_size"]
    if model_based != budget:
        raise ValueError(
            f"num_initial + num_rounds * round_size must equal grid_side ** 2 ({budget}) for "
            f"equal budgets, got {model_based}"
        )


def _sgd():
    return optax.inject_hyperparams(optax.sgd)(learning_rate=0.1, momentum=0.9)


def _one_seed(config, key, model, x, y, num_classes):
    """Best CV accuracy of each method, its running best, and the model-based result."""
    fold_key, grid_key, random_key, model_key, search_key = jax.random.split(key, 5)
    folds = stratified_kfold(fold_key, y, config["num_folds"], num_classes)
    settings = dict(num_epochs=config["num_epochs"], batch_size=config["batch_size"])
    low, high = config["learning_rate_range"]
    side = config["grid_side"]
    grid = {
        "learning_rate": np.logspace(np.log10(low), np.log10(high), side).tolist(),
        "momentum": np.linspace(0.0, config["max_momentum"], side).tolist(),
    }
    grid_result = grid_search(grid_key, model, _sgd(), (x, y), folds, grid, **settings)
    random_result = random_search(
        random_key,
        model,
        _sgd(),
        (x, y),
        folds,
        {"learning_rate": log_uniform(low, high), "momentum": uniform(0.0, config["max_momentum"])},
        side * side,
        **settings,
    )
    space = {
        "learning_rate": log_scaled(low, high),
        "momentum": continuous(0.0, config["max_momentum"]),
    }
    evaluate = cv_evaluator(model_key, model, _sgd(), (x, y), folds, **settings)
    model_result = model_based_search(
        search_key,
        evaluate,
        space,
        num_initial=config["num_initial"],
        num_rounds=config["num_rounds"],
        batch_size=config["round_size"],
    )

    def running_best(scores):
        return np.maximum.accumulate(np.where(np.isfinite(scores), scores, -np.inf)).tolist()

    scores = {
        "grid": np.asarray(grid_result.cv_results["mean_test_score"]),
        "random": np.asarray(random_result.cv_results["mean_test_score"]),
        "model_based": model_result.scores,
    }
    best = {name: float(np.nanmax(s)) for name, s in scores.items()}
    params = {
        "grid": grid_result.best_params,
        "random": random_result.best_params,
        "model_based": model_result.best_params,
    }
    curves = {name: running_best(s) for name, s in scores.items()}
    points = {
        "grid": grid_result.cv_results["params"],
        "random": random_result.cv_results["params"],
        "model_based": model_result.params,
    }
    histories = [grid_result.fit.history["train_loss"], random_result.fit.history["train_loss"]]
    histories += [r.fit.history["train_loss"] for r in evaluate.results]
    return best, params, curves, points, model_result, space, histories


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run the three searches for every seed, write the plots; return the metrics."""
    logger = workdir.logger
    data = load_mnist1d(num_samples=config["num_samples"], seed=config["data_seed"])
    x, y = data.x_train, data.y_train
    model = MLP(features=(config["hidden"], data.num_classes), activation="relu", output=None)
    best_scores = {name: [] for name in METHODS}
    curves = {name: [] for name in METHODS}
    losses = []
    first = None
    for seed in range(config["num_seeds"]):
        best, params, seed_curves, points, model_result, space, histories = _one_seed(
            config, jax.random.fold_in(workdir.key, seed), model, x, y, data.num_classes
        )
        losses += [np.asarray(h) for h in histories]
        for name in METHODS:
            best_scores[name].append(best[name])
            curves[name].append(seed_curves[name])
            logger.log(seed, part=f"{name}_search", best_score=best[name], **params[name])
        if workdir.progress:
            print(f"seed {seed}: " + ", ".join(f"{n} {best[n]:.3f}" for n in METHODS))
        if first is None:
            first = (points, model_result, space)

    summary: dict = {"num_seeds": config["num_seeds"], "budget": config["grid_side"] ** 2}
    for name in METHODS:
        values = np.asarray(best_scores[name])
        summary[f"{name}_best_scores"] = values.tolist()
        summary[f"{name}_mean_best_score"] = float(values.mean())
        summary[f"{name}_std_best_score"] = float(values.std())
    history = np.concatenate(losses)
    finite = np.all(np.isfinite(history), axis=1)
    summary["first_train_loss"] = float(np.median(history[finite, 0]))
    summary["final_train_loss"] = float(np.median(history[finite, -1]))

    budget = summary["budget"]
    line_plot(
        workdir / "best_so_far.png",
        {name.replace("_", "-"): np.mean(curves[name], axis=0) for name in METHODS},
        x=list(range(1, budget + 1)),
        xlabel="candidates evaluated",
        ylabel=f"best mean CV accuracy (mean over {config['num_seeds']} seeds)",
        title="Grid vs random vs model-based search",
    )
    _surrogate_figure(workdir / "surrogate.png", *first)
    line_plot(
        workdir / "loss.png",
        {"median member": np.median(history[finite], axis=0)},
        xlabel="epoch",
        ylabel="training loss (cross-entropy, nats)",
        title="Search members: training loss",
    )
    return summary


def _surrogate_figure(path, points, model_result, space) -> None:
    """The GP's mean over the (log learning rate, momentum) square, with every candidate."""
    side = 60
    u = np.stack(np.meshgrid(np.linspace(0, 1, side), np.linspace(0, 1, side)), -1)
    u = u.reshape(-1, 2)  # columns in sorted name order: learning_rate, momentum
    mean, _ = gp_predict(model_result.surrogate, u.astype(np.float32))
    low, high = space["learning_rate"].low, space["learning_rate"].high
    log_rates = np.log10(low) + u[:, 0] * np.log10(high / low)
    momenta = u[:, 1] * space["momentum"].high
    with figure(path, figsize=(7, 5)) as ax:
        contour = ax.tricontourf(log_rates, momenta, np.asarray(mean), levels=20, cmap="viridis")
        ax.figure.colorbar(contour, ax=ax, label="GP mean of the CV accuracy")
        for marker, name in zip("sox", METHODS, strict=True):
            values = to_unit(space, {k: [p[k] for p in points[name]] for k in space})
            ax.scatter(
                np.log10(low) + values[:, 0] * np.log10(high / low),
                values[:, 1] * space["momentum"].high,
                marker=marker,
                c="w" if name != "model_based" else "r",
                edgecolors=None if marker == "x" else "k",  # "x" is an unfilled marker
                label=name.replace("_", "-"),
            )
        ax.set_xlabel("log10 learning rate")
        ax.set_ylabel("momentum")
        ax.set_title("Surrogate after the model-based search (seed 0)")
        ax.legend()
