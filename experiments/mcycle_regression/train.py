"""Regression on the motorcycle-crash data with one sigmoid hidden layer (full-batch Adam)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_mcycle, standardize
from jaxdl.data.preprocessing import unstandardize
from jaxdl.experiment import Run, figure, history_columns, line_plot
from jaxdl.metrics import root_mean_squared_error
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, fit, make_supervised_loss


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    data = load_mcycle()
    x_stats, (x,) = standardize(data.x_train)
    t_stats, (t,) = standardize(data.y_train)

    model = MLP(features=(config["num_hidden"], 1), activation="sigmoid", output="linear")
    init_key, train_key = jax.random.split(workdir.key)
    state = create_train_state(init_key, model, x[:1], optax.adam(config["learning_rate"]))
    result = fit(
        train_key,
        state,
        make_supervised_loss(model, "mse", ()),
        (x, t),
        num_epochs=config["num_epochs"],
        epochs_per_chunk=config["epochs_per_chunk"],
        **workdir.fit_kwargs(),
    )
    params = result.state.params

    prediction = unstandardize(t_stats, model.apply({"params": params}, x))
    rmse = float(root_mean_squared_error(data.y_train, prediction))
    grid = jnp.linspace(x.min(), x.max(), 300)[:, None]
    curve = unstandardize(t_stats, model.apply({"params": params}, grid))
    grid_time = unstandardize(x_stats, grid)

    with figure(workdir / "fit.png", 2, 1, figsize=(6, 7), sharex=True) as (top, bottom):
        top.scatter(np.asarray(data.x_train), np.asarray(data.y_train), s=8, c="k", label="data")
        top.plot(np.asarray(grid_time), np.asarray(curve), c="C3", label="network")
        top.set_xlabel("time after impact (ms)")
        top.set_ylabel("acceleration (g)")
        top.set_title(f"MCycle, 1-10-1 sigmoid network, RMSE {rmse:.1f} g")
        top.legend()
        hidden = jax.nn.sigmoid(
            grid @ params["Dense_0"]["kernel"] + params["Dense_0"]["bias"][None, :]
        )
        bottom.plot(np.asarray(grid_time), np.asarray(hidden))
        bottom.set_xlabel("time after impact (ms)")
        bottom.set_ylabel("hidden unit response")
    line_plot(
        workdir / "loss.png",
        history_columns(result.history, "train_loss"),
        log_y=True,
        xlabel="epoch (full batch: one step)",
        ylabel="MSE (standardized units)",
        title="MCycle training loss",
    )
    return {
        "train_rmse_g": rmse,
        "target_std_g": float(np.std(np.asarray(data.y_train))),
        "first_train_loss": result.history[0]["train_loss"],
        "final_train_loss": result.history[-1]["train_loss"],
    }
