"""Regularization against overfitting: weight decay, dropout and early stopping on noisy moons.

A wide two-hidden-layer MLP on 60 noisy two-moons points (10 % of the training labels
flipped), trained without regularization, with weight decay, with dropout, and with early
stopping (best validation step; then retrained on all data for that many steps,
``jaxdl.training.transfer.retrain_on_all_data``). We compare test loss and accuracy and
draw the decision boundaries.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data.toy import moons
from jaxdl.experiment import Run, decision_boundary, figure
from jaxdl.losses.regularizers import weight_decay
from jaxdl.nn.dropout import DropoutMLP
from jaxdl.sampling.noise import flip_labels
from jaxdl.training import EarlyStopping, create_train_state, fit, make_supervised_loss
from jaxdl.training.transfer import retrain_on_all_data

RUNS = ("none", "weight_decay", "dropout", "early_stopping")


def validate(config: dict) -> None:
    """Run names must be known (checked before the run directory is created)."""
    unknown = sorted(set(config["runs"]) - set(RUNS))
    if unknown:
        raise ValueError(f"runs must be among {sorted(RUNS)}, got {unknown}")


def _logging_callback(logger, run: str):
    def callback(record: dict) -> None:
        logger.log(record["step"], run=run, **{k: v for k, v in record.items() if k != "step"})

    return callback


def _moons_problem(key, config):
    train_key, test_key, flip_key = jax.random.split(key, 3)
    x, y = moons(train_key, config["num_train"], config["noise"])
    y = flip_labels(flip_key, y, 2, config["label_noise"])
    x_test, y_test = moons(test_key, config["num_test"], config["noise"])
    # A separate validation draw for the curves: the test split is used once, at the end.
    val_key = jax.random.fold_in(key, 3)
    x_val, y_val = moons(val_key, config["num_test"], config["noise"])
    return (x, y), (x_val, y_val), (x_test, y_test)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """None vs weight decay vs dropout vs early stopping on a small noisy problem."""
    logger = workdir.logger
    data_key, init_key, split_key, fit_key = jax.random.split(workdir.key, 4)
    train, val, test = jax.jit(lambda k: _moons_problem(k, config))(data_key)
    features = (*config["hidden"], 2)
    plain = DropoutMLP(
        features=features,
        input_keep_probability=1.0,
        hidden_keep_probability=1.0,
        activation=nn.relu,
    )
    dropped = DropoutMLP(
        features=features,
        input_keep_probability=1.0,
        hidden_keep_probability=config["dropout_keep_probability"],
        activation=nn.relu,
    )
    sgd = optax.sgd(config["learning_rate"], momentum=config["momentum"])
    runs = {
        "none": (plain, sgd),
        "weight_decay": (plain, optax.chain(weight_decay(config["weight_decay"]), sgd)),
        "dropout": (dropped, sgd),
    }
    common = dict(
        num_epochs=config["num_epochs"],
        eval_every=config["eval_every"],
        epochs_per_chunk=config["epochs_per_chunk"],
        progress=workdir.progress,
    )
    summary: dict = {}
    histories = {}
    final_params = {}
    for i, (name, (model, tx)) in enumerate(runs.items()):
        if name not in config["runs"]:
            continue
        state = create_train_state(jax.random.clone(init_key), model, train[0][:1], tx)
        result = fit(
            jax.random.fold_in(fit_key, i),
            state,
            make_supervised_loss(model),
            train,
            val_data=val,  # for the curves only: nothing is selected on it
            callback=_logging_callback(logger, name),
            **common,
        )
        histories[name] = result.history
        final_params[name] = (model, result.state.params)

    if "early_stopping" in config["runs"]:
        summary.update(
            _early_stopping_run(
                jax.random.fold_in(fit_key, len(runs)),
                split_key,
                init_key,
                train,
                plain,
                sgd,
                config,
                common,
                logger,
                final_params,
                histories,
            )
        )
    return _report_overfitting(config, workdir, train, test, final_params, histories, summary)


def _early_stopping_run(
    fit_key, split_key, init_key, train, plain, sgd, config, common, logger, final_params, histories
) -> dict:
    """Early stopping on a validation split, then retraining on all data for the best steps."""
    n = train[0].shape[0]
    order = jax.random.permutation(split_key, n)
    num_valid = max(1, int(round(config["validation_fraction"] * n)))
    valid_idx, fit_idx = order[:num_valid], order[num_valid:]
    fit_part = (train[0][fit_idx], train[1][fit_idx])
    valid_part = (train[0][valid_idx], train[1][valid_idx])
    state = create_train_state(jax.random.clone(init_key), plain, train[0][:1], sgd)
    retrained = retrain_on_all_data(
        fit_key,
        state,
        make_supervised_loss(plain),
        fit_part,
        valid_part,
        early_stopping=EarlyStopping("val_loss", "min", patience=config["patience"]),
        callback=_logging_callback(logger, "early_stopping"),
        **common,
    )
    final_params["early_stopping"] = (plain, retrained.first_run.best_state.params)
    final_params["early_stopping_retrain"] = (plain, retrained.state.params)
    histories["early_stopping"] = retrained.first_run.history
    return {
        "early_stopping_best_step": retrained.best_step,
        "early_stopping_retrain_steps": retrained.num_steps,
    }


@functools.partial(jax.jit, static_argnums=0)
def _predicted_class(model, params, points):
    return jnp.argmax(model.apply({"params": params}, points, train=False), axis=-1)


def _report_overfitting(config, workdir, train, test, final_params, histories, summary) -> dict:
    """Test metrics of every run, the loss curves and the decision boundaries."""
    evaluators = {}  # one compiled evaluation per model, shared by the runs that use it
    for name, (model, params) in final_params.items():
        if model not in evaluators:
            evaluators[model] = jax.jit(make_supervised_loss(model).evaluate)
        evaluate = evaluators[model]
        metrics = evaluate(params, {}, test)
        train_metrics = evaluate(params, {}, train)
        summary[f"test_loss_{name}"] = float(metrics["loss"])
        summary[f"test_accuracy_{name}"] = float(metrics["accuracy"])
        summary[f"train_accuracy_{name}"] = float(train_metrics["accuracy"])
    for name, history in histories.items():
        summary[f"first_train_loss_{name}"] = history[0]["train_loss"]
        summary[f"final_train_loss_{name}"] = history[-1]["train_loss"]

    with figure(workdir / "loss.png", figsize=(7, 4.5)) as ax:
        for (name, history), color in zip(
            histories.items(), [f"C{i}" for i in range(10)], strict=False
        ):
            epochs = [r["epoch"] for r in history]
            ax.plot(epochs, [r["train_loss"] for r in history], "--", color=color, alpha=0.7)
            evaluated = [r for r in history if "val_loss" in r]
            label = "early-stopping val split" if name == "early_stopping" else "val"
            ax.plot(
                [r["epoch"] for r in evaluated],
                [r["val_loss"] for r in evaluated],
                color=color,
                label=f"{name} ({label}; dashed: train)",
            )
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_ylabel("cross-entropy (nats)")
        ax.set_title(f"noisy two moons, {config['num_train']} points")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)

    with figure(
        workdir / "decision_boundaries.png",
        1,
        len(final_params),
        figsize=(4 * len(final_params), 4),
        squeeze=False,
    ) as axes:
        for ax, (name, (model, params)) in zip(axes[0], final_params.items(), strict=True):
            predict = functools.partial(_predicted_class, model, params)
            accuracy = summary[f"test_accuracy_{name}"]
            decision_boundary(
                ax,
                predict,
                np.asarray(train[0]),
                np.asarray(train[1]),
                title=f"{name}: test acc {accuracy:.2f}",
                resolution=100,
            )
    return summary
