"""Regression on the motorcycle-crash data with one sigmoid hidden layer (full-batch Adam)."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optax

from experiments._common import history_columns, plot_curves
from jaxdl.data import load_mcycle, standardize
from jaxdl.data.preprocessing import unstandardize
from jaxdl.metrics import root_mean_squared_error
from jaxdl.nn import MLP
from jaxdl.training import RunLogger, create_train_state, fit, supervised_loss


def train_and_evaluate(config: dict, workdir: str) -> dict:
    path = pathlib.Path(workdir)
    logger = RunLogger(path)
    logger.write_config(config)
    data = load_mcycle()
    x_stats, (x,) = standardize(data.x_train)
    t_stats, (t,) = standardize(data.y_train)

    model = MLP(features=(config["num_hidden"], 1), activation="sigmoid", output="linear")
    init_key, train_key = jax.random.split(jax.random.key(config["seed"]))
    state = create_train_state(init_key, model, x[:1], optax.adam(config["learning_rate"]))
    result = fit(
        train_key,
        state,
        supervised_loss(model, "mse", ()),
        (x, t),
        num_epochs=config["num_epochs"],
        epochs_per_chunk=config["epochs_per_chunk"],
        progress=config["progress"],
        logger=logger,
    )
    params = result.state.params

    prediction = unstandardize(t_stats, model.apply({"params": params}, x))
    rmse = float(root_mean_squared_error(data.y_train, prediction))
    grid = jnp.linspace(x.min(), x.max(), 300)[:, None]
    curve = unstandardize(t_stats, model.apply({"params": params}, grid))
    grid_time = unstandardize(x_stats, grid)

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(6, 7), dpi=100, sharex=True)
    top.scatter(np.asarray(data.x_train), np.asarray(data.y_train), s=8, c="k", label="data")
    top.plot(np.asarray(grid_time), np.asarray(curve), c="C3", label="network")
    top.set_ylabel("acceleration (g)")
    top.set_title(f"MCycle, 1-10-1 sigmoid network, RMSE {rmse:.1f} g")
    top.legend()
    hidden = jax.nn.sigmoid(grid @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"][None, :])
    bottom.plot(np.asarray(grid_time), np.asarray(hidden))
    bottom.set_xlabel("time after impact (ms)")
    bottom.set_ylabel("hidden unit response")
    fig.tight_layout()
    fig.savefig(path / "fit.png")
    plt.close(fig)
    plot_curves(
        history_columns(result.history, "train_loss"),
        path / "loss.png",
        log_y=True,
        ylabel="MSE (standardized)",
        title="MCycle training loss",
    )
    summary = {
        "train_rmse_g": rmse,
        "target_std_g": float(np.std(np.asarray(data.y_train))),
        "first_train_loss": result.history[0]["train_loss"],
        "final_train_loss": result.history[-1]["train_loss"],
    }
    logger.write_summary(summary)
    return summary
