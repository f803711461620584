"""Regularization sparsity: proximal L1 sets weights exactly to 0, L2 weight decay does not.

A ReLU MLP on 20 Gaussian features of which only 3 decide the label (10 % of the training
labels flipped), trained without penalty, with L2 weight decay
(``jaxdl.losses.regularizers.weight_decay``, biases excluded by parameter path) and with
proximal L1 (``jaxdl.optim.constraints.l1_proximal_sgd``: a gradient step, then
soft-thresholding, so weights land exactly on 0). We count the weights that are exactly
zero, the share of the first layer's weight mass on the relevant inputs, and plot the
first-layer weight histograms.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, figure, line_plot
from jaxdl.losses.regularizers import weight_decay
from jaxdl.nn.mlp import MLP
from jaxdl.optim.constraints import l1_proximal_sgd
from jaxdl.sampling.noise import flip_labels
from jaxdl.training import create_train_state, fit, make_supervised_loss

RUNS = ("none", "l2", "l1")


def validate(config: dict) -> None:
    """Run names must be known (checked before the run directory is created)."""
    unknown = sorted(set(config["runs"]) - set(RUNS))
    if unknown:
        raise ValueError(f"runs must be among {sorted(RUNS)}, got {unknown}")


def _logging_callback(logger, run: str):
    def callback(record: dict) -> None:
        logger.log(record["step"], run=run, **{k: v for k, v in record.items() if k != "step"})

    return callback


def _sparse_problem(key, config):
    """Labels from the sign of a linear function of the first few features."""
    x_key, test_key, flip_key = jax.random.split(key, 3)
    d, relevant = config["num_features"], config["num_relevant"]
    signs = jnp.where(jnp.arange(relevant) % 2 == 0, 1.0, -1.0)
    w_true = jnp.zeros(d).at[:relevant].set(signs)
    x = jax.random.normal(x_key, (config["num_train"], d))
    x_test = jax.random.normal(test_key, (config["num_test"], d))
    y = (x @ w_true > 0).astype(jnp.int32)
    y = flip_labels(flip_key, y, 2, config["label_noise"])
    y_test = (x_test @ w_true > 0).astype(jnp.int32)
    return (x, y), (x_test, y_test)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train the same MLP with no penalty, L2 and proximal L1; count exact zeros."""
    logger = workdir.logger
    data_key, init_key, fit_key = jax.random.split(workdir.key, 3)
    train, test = jax.jit(lambda k: _sparse_problem(k, config))(data_key)
    model = MLP(features=(config["num_hidden"], 2), activation="relu", output=None)
    lr = config["learning_rate"]
    optimizers = {
        "none": optax.sgd(lr),
        "l2": optax.chain(weight_decay(config["l2_strength"]), optax.sgd(lr)),
        "l1": l1_proximal_sgd(lr, config["l1_strength"]),
    }
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    relevant = config["num_relevant"]
    summary: dict = {}
    first_layers = {}
    curves = {}
    optimizers = {name: tx for name, tx in optimizers.items() if name in config["runs"]}
    for name, tx in optimizers.items():
        state = create_train_state(jax.random.clone(init_key), model, train[0][:1], tx)
        result = fit(
            jax.random.fold_in(fit_key, len(first_layers)),
            state,
            loss_fn,
            train,
            num_epochs=config["num_epochs"],
            epochs_per_chunk=config["epochs_per_chunk"],
            progress=workdir.progress,
            callback=_logging_callback(logger, name),
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
        summary[f"test_accuracy_{name}"] = float(metrics["accuracy"])
        summary[f"first_train_loss_{name}"] = result.history[0]["train_loss"]
        summary[f"final_train_loss_{name}"] = result.history[-1]["train_loss"]

    line_plot(
        workdir / "loss.png",
        curves,
        xlabel="epoch",
        ylabel="training loss (cross-entropy, nats)",
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
