"""Monte Carlo dropout: predictive uncertainty on a 1-D regression.

A :class:`jaxdl.nn.dropout.DropoutMLP` is trained with dropout on noisy samples of
``y = sin(2 x) + x / 2`` drawn on ``[-data_range, data_range]``. At test time the
network is run ``T`` times in training mode, each pass with a fresh dropout mask
(vmapped over ``T`` keys, :func:`jaxdl.sampling.dropout.monte_carlo_dropout`); the
mean of the passes is the prediction and their standard deviation an uncertainty
estimate (Gal & Ghahramani, 2016). The summary compares the MC mean with the
deterministic weight-scaling prediction and the spread inside the training range with
the spread outside it, where the network extrapolates.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, figure, line_plot
from jaxdl.nn.dropout import DropoutMLP
from jaxdl.sampling.dropout import monte_carlo_dropout
from jaxdl.training import create_train_state, fit, make_supervised_loss


def validate(config: dict) -> None:
    """Names checked before the run directory is created."""
    if config["rule"] not in ("inverted", "classic"):
        raise ValueError(f"rule must be 'inverted' or 'classic', got {config['rule']!r}")


def target(x):
    """The noiseless regression function."""
    return jnp.sin(2.0 * x) + 0.5 * x


def make_data(key, config: dict):
    """Noisy training pairs on [-r, r] and a test set from the same range."""
    k_x, k_noise, k_test = jax.random.split(key, 3)
    r = config["data_range"]
    x = jax.random.uniform(k_x, (config["num_train"], 1), minval=-r, maxval=r)
    y = target(x) + config["noise"] * jax.random.normal(k_noise, x.shape)
    x_test = jax.random.uniform(k_test, (config["num_test"], 1), minval=-r, maxval=r)
    return (x, y), (x_test, target(x_test))


def plot_predictive(x, y, grid, mean, std, config: dict, filename: pathlib.Path) -> None:
    """Training points, the true function and the MC mean with a 2-sd band."""
    with figure(filename, figsize=(7, 4)) as ax:
        g, m, s = np.asarray(grid[:, 0]), np.asarray(mean[:, 0]), np.asarray(std[:, 0])
        ax.fill_between(g, m - 2 * s, m + 2 * s, alpha=0.3, label="MC dropout mean +- 2 sd")
        ax.plot(g, m, label="MC dropout mean")
        ax.plot(g, np.asarray(target(grid)[:, 0]), "k--", label="true function")
        ax.scatter(
            np.asarray(x[:, 0]), np.asarray(y[:, 0]), s=6, c="k", alpha=0.5, label="training"
        )
        r = config["data_range"]
        ax.axvspan(-r, r, color="gray", alpha=0.08)
        ax.set_xlabel("x (input, no unit)")
        ax.set_ylabel("y (target, no unit)")
        ax.set_title(f"MC dropout, T = {config['num_passes']} passes")
        ax.legend(fontsize=8)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train, then evaluate MC dropout; write the plots and return the metrics."""
    k_data, k_init, k_fit, k_mc = jax.random.split(workdir.key, 4)
    (x, y), (x_test, y_test) = make_data(k_data, config)
    model = DropoutMLP(
        features=tuple(config["features"]),
        input_keep_probability=config["input_keep_probability"],
        hidden_keep_probability=config["hidden_keep_probability"],
        rule=config["rule"],
    )
    state = create_train_state(k_init, model, x[:1], optax.adam(config["learning_rate"]))
    loss_fn = make_supervised_loss(model, "mse", metrics=())
    result = fit(
        k_fit,
        state,
        loss_fn,
        (x, y),
        num_epochs=config["num_epochs"],
        batch_size=config["batch_size"],
        **workdir.fit_kwargs(),
    )
    params = result.state.params
    variables = {"params": params}

    r = config["data_range"]
    outside = config["outside_range"]
    grid = jnp.linspace(-outside, outside, config["num_grid"])[:, None]

    @jax.jit
    def mc_predict(key, inputs):
        return monte_carlo_dropout(
            key,
            lambda k: model.apply(variables, inputs, train=True, rngs={"dropout": k}),
            config["num_passes"],
        )

    # One compiled MC pass over the plotting grid and the test inputs together.
    both = mc_predict(k_mc, jnp.concatenate([grid, x_test], axis=0))
    grid_mean, test_mean = both.mean[: grid.shape[0]], both.mean[grid.shape[0] :]
    grid_std = jnp.sqrt(both.variance[: grid.shape[0]])
    deterministic = jax.jit(lambda v: model.apply(variables, v, train=False))(x_test)
    inside_mask = jnp.abs(grid[:, 0]) <= r
    outside_mask = jnp.abs(grid[:, 0]) >= r + 0.5 * (outside - r)
    std_inside = float(jnp.sum(grid_std[:, 0] * inside_mask) / jnp.sum(inside_mask))
    std_outside = float(jnp.sum(grid_std[:, 0] * outside_mask) / jnp.sum(outside_mask))
    history = result.history
    summary = {
        "first_train_loss": history[0]["train_loss"],
        "final_train_loss": history[-1]["train_loss"],
        "test_rmse_mc_mean": float(jnp.sqrt(jnp.mean((test_mean - y_test) ** 2))),
        "test_rmse_deterministic": float(jnp.sqrt(jnp.mean((deterministic - y_test) ** 2))),
        "mc_std_inside_training_range": std_inside,
        "mc_std_outside_training_range": std_outside,
        "std_ratio_outside_inside": std_outside / std_inside,
    }
    plot_predictive(x, y, grid, grid_mean, grid_std, config, workdir / "predictive.png")
    line_plot(
        workdir / "loss.png",
        {"train loss (MSE, dropout on)": [h["train_loss"] for h in history]},
        xlabel="epoch",
        ylabel="training MSE (dropout on)",
        log_y=True,
    )
    return summary
