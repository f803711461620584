"""Regularization in practice: L1 vs L2 sparsity, and four cures for overfitting.

Part 1 (sparsity): a ReLU MLP on 20 Gaussian features of which only 3 decide the label,
trained without penalty, with L2 weight decay and with proximal L1. We count the
first-layer weights that are exactly zero and plot their histograms.

Part 2 (overfitting): a wide two-hidden-layer MLP on 60 noisy two-moons points (10 % of
the training labels flipped), trained without regularization, with weight decay, with
dropout, and with early stopping (best validation step; then retrained on all data
for that many steps). We compare test loss and accuracy and draw the decision
boundaries.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data.toy import moons
from jaxdl.experiment import Run, decision_boundary, figure, line_plot
from jaxdl.losses.regularizers import weight_decay
from jaxdl.nn.dropout import DropoutMLP
from jaxdl.nn.mlp import MLP
from jaxdl.optim.constraints import l1_proximal_sgd
from jaxdl.sampling.noise import flip_labels
from jaxdl.training import (
    EarlyStopping,
    create_train_state,
    fit,
    make_supervised_loss,
)
from jaxdl.training.transfer import retrain_on_all_data


def compiled_train_state(key, model, example_input, tx):
    """``create_train_state`` run as one compiled program (faster than op-by-op init)."""
    return jax.jit(lambda k, x: create_train_state(k, model, x, tx))(key, example_input)


def _logging_callback(logger, run: str):
    def callback(record: dict) -> None:
        logger.log(record["step"], run=run, **{k: v for k, v in record.items() if k != "step"})

    return callback


def _sparse_problem(key, config):
    """Labels from the sign of a linear function of the first few features."""
    x_key, test_key, flip_key = jax.random.split(key, 3)
    d, relevant = config["sparsity_num_features"], config["sparsity_num_relevant"]
    signs = jnp.where(jnp.arange(relevant) % 2 == 0, 1.0, -1.0)
    w_true = jnp.zeros(d).at[:relevant].set(signs)
    x = jax.random.normal(x_key, (config["sparsity_num_train"], d))
    x_test = jax.random.normal(test_key, (config["sparsity_num_test"], d))
    y = (x @ w_true > 0).astype(jnp.int32)
    y = flip_labels(flip_key, y, 2, config["label_noise"])
    y_test = (x_test @ w_true > 0).astype(jnp.int32)
    return (x, y), (x_test, y_test)


def sparsity_study(key, config: dict, workdir: Run, logger) -> dict:
    """Train the same MLP with no penalty, L2 and proximal L1; count exact zeros."""
    data_key, init_key, fit_key = jax.random.split(key, 3)
    train, test = jax.jit(lambda k: _sparse_problem(k, config))(data_key)
    model = MLP(features=(config["sparsity_hidden"], 2), activation="relu", output=None)
    lr = config["sparsity_learning_rate"]
    optimizers = {
        "none": optax.sgd(lr),
        "l2": optax.chain(weight_decay(config["l2_strength"]), optax.sgd(lr)),
        "l1": l1_proximal_sgd(lr, config["l1_strength"]),
    }
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    relevant = config["sparsity_num_relevant"]
    summary: dict = {}
    first_layers = {}
    curves = {}
    unknown = set(config["sparsity_runs"]) - set(optimizers)
    if unknown:
        raise ValueError(f"sparsity_runs must be among {sorted(optimizers)}, got {sorted(unknown)}")
    optimizers = {name: tx for name, tx in optimizers.items() if name in config["sparsity_runs"]}
    for name, tx in optimizers.items():
        state = compiled_train_state(jax.random.clone(init_key), model, train[0][:1], tx)
        result = fit(
            jax.random.fold_in(fit_key, len(first_layers)),
            state,
            loss_fn,
            train,
            num_epochs=config["sparsity_num_epochs"],
            epochs_per_chunk=config["epochs_per_chunk"],
            progress=workdir.progress,
            callback=_logging_callback(logger, f"sparsity_{name}"),
        )
        params = result.state.params
        kernel = np.asarray(params["Dense_0"]["kernel"])
        all_kernels = np.concatenate(
            [np.asarray(params[layer]["kernel"]).ravel() for layer in params]
        )
        metrics = jax.jit(loss_fn.evaluate)(params, {}, test)
        first_layers[name] = kernel
        curves[name] = [r["train_loss"] for r in result.history]
        summary[f"zero_fraction_{name}"] = float(np.mean(all_kernels == 0.0))
        summary[f"irrelevant_input_zero_fraction_{name}"] = float(np.mean(kernel[relevant:] == 0))
        summary[f"relevant_input_zero_fraction_{name}"] = float(np.mean(kernel[:relevant] == 0))
        # feature selection: inputs with at least one non-zero outgoing weight
        summary[f"num_inputs_used_{name}"] = int(np.sum(np.any(kernel != 0, axis=1)))
        # share of the first-layer weight mass on the inputs that matter
        summary[f"relevant_weight_share_{name}"] = float(
            np.abs(kernel[:relevant]).sum() / max(np.abs(kernel).sum(), 1e-12)
        )
        summary[f"sparsity_test_accuracy_{name}"] = float(metrics["accuracy"])
        summary[f"sparsity_first_train_loss_{name}"] = result.history[0]["train_loss"]
        summary[f"sparsity_final_train_loss_{name}"] = result.history[-1]["train_loss"]

    line_plot(
        workdir / "sparsity_loss.png",
        curves,
        xlabel="epoch",
        ylabel="training loss (MSE + penalty)",
        title="training loss",
        log_y=True,
    )
    num_runs = len(first_layers)
    with figure(
        workdir / "weights_histogram.png",
        1,
        num_runs,
        figsize=(4 * num_runs, 3.5),
        sharey=True,
        squeeze=False,
    ) as axes:
        axes = axes[0]
        limit = max(float(np.abs(k).max()) for k in first_layers.values())
        bins = np.linspace(-limit, limit, 61)
        for ax, (name, kernel) in zip(axes, first_layers.items(), strict=True):
            ax.hist(kernel.ravel(), bins=bins, color="tab:blue")
            zeros = summary[f"zero_fraction_{name}"]
            ax.set_title(f"{name}: {100 * zeros:.0f}% of weights exactly 0")
            ax.set_yscale("log")
            ax.set_xlabel("first-layer weight")
            ax.set_ylabel("number of weights")
    return summary


def _moons_problem(key, config):
    train_key, test_key, flip_key = jax.random.split(key, 3)
    x, y = moons(train_key, config["moons_num_train"], config["moons_noise"])
    y = flip_labels(flip_key, y, 2, config["label_noise"])
    x_test, y_test = moons(test_key, config["moons_num_test"], config["moons_noise"])
    # A separate validation draw for the curves: the test split is used once, at the end.
    val_key = jax.random.fold_in(key, 3)
    x_val, y_val = moons(val_key, config["moons_num_test"], config["moons_noise"])
    return (x, y), (x_val, y_val), (x_test, y_test)


def overfitting_study(key, config: dict, workdir: Run, logger) -> dict:
    """None vs weight decay vs dropout vs early stopping on a small noisy problem."""
    data_key, init_key, split_key, fit_key = jax.random.split(key, 4)
    train, val, test = jax.jit(lambda k: _moons_problem(k, config))(data_key)
    features = (*config["overfit_hidden"], 2)
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
    sgd = optax.sgd(config["overfit_learning_rate"], momentum=config["overfit_momentum"])
    runs = {
        "none": (plain, sgd),
        "weight_decay": (plain, optax.chain(weight_decay(config["weight_decay"]), sgd)),
        "dropout": (dropped, sgd),
    }
    common = dict(
        num_epochs=config["overfit_num_epochs"],
        eval_every=config["eval_every"],
        epochs_per_chunk=config["epochs_per_chunk"],
        progress=workdir.progress,
    )
    known = [*runs, "early_stopping"]
    unknown = set(config["overfit_runs"]) - set(known)
    if unknown:
        raise ValueError(f"overfit_runs must be among {known}, got {sorted(unknown)}")
    summary: dict = {}
    histories = {}
    final_params = {}
    for i, (name, (model, tx)) in enumerate(runs.items()):
        if name not in config["overfit_runs"]:
            continue
        state = compiled_train_state(jax.random.clone(init_key), model, train[0][:1], tx)
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

    if "early_stopping" in config["overfit_runs"]:
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
    state = compiled_train_state(jax.random.clone(init_key), plain, train[0][:1], sgd)
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


def _report_overfitting(config, workdir, train, test, final_params, histories, summary) -> dict:
    """Test metrics of every run, the loss curves and the decision boundaries."""
    for name, (model, params) in final_params.items():
        evaluate = jax.jit(make_supervised_loss(model).evaluate)
        metrics = evaluate(params, {}, test)
        train_metrics = evaluate(params, {}, train)
        summary[f"test_loss_{name}"] = float(metrics["loss"])
        summary[f"test_accuracy_{name}"] = float(metrics["accuracy"])
        summary[f"train_accuracy_{name}"] = float(train_metrics["accuracy"])
    for name, history in histories.items():
        summary[f"first_train_loss_{name}"] = history[0]["train_loss"]
        summary[f"final_train_loss_{name}"] = history[-1]["train_loss"]

    with figure(workdir / "overfitting_loss.png", figsize=(7, 4.5)) as ax:
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
        ax.set_title(f"noisy two moons, {config['moons_num_train']} points")
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
            predict = jax.jit(
                lambda points, model=model, params=params: jnp.argmax(
                    model.apply({"params": params}, points, train=False), axis=-1
                )
            )
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


SPARSITY_RUNS = ("none", "l2", "l1")
OVERFIT_RUNS = ("none", "weight_decay", "dropout", "early_stopping")


def validate(config: dict) -> None:
    """Run names must be known (checked before the run directory is created)."""
    for key, known in (("sparsity_runs", SPARSITY_RUNS), ("overfit_runs", OVERFIT_RUNS)):
        unknown = sorted(set(config[key]) - set(known))
        if unknown:
            raise ValueError(f"{key} must be among {sorted(known)}, got {unknown}")


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run both studies; write the plots and return the metrics."""
    logger = workdir.logger
    sparsity_key, overfit_key = jax.random.split(workdir.key)
    summary = {
        **sparsity_study(sparsity_key, config, workdir, logger),
        **overfitting_study(overfit_key, config, workdir, logger),
    }
    return summary
