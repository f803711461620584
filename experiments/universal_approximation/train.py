"""Universal approximation on a 1-D function: sup-error vs width, depth vs width.

Part 1: one-hidden-layer tanh networks ``x -> sum_j v_j tanh(w_j x + b_j) + c`` of growing
width ``H`` are fitted by least squares to ``f(x) = sin(4x) cos(x)`` on ``[-pi, pi]``; the
sup-error ``max_x |f(x) - f_hat(x)|`` on a fine grid falls as ``H`` grows (Cybenko 1989:
finitely many sigmoidal units approximate any continuous function on a compact set).

Part 2: at (about) equal parameter count, networks with 1, 2 and 3 hidden layers are
compared by the same sup-error.

Every width / depth trains ``num_seeds`` initializations at once with ``fit_many``; the
reported error is the median over seeds (the best is logged too).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, line_plot
from jaxdl.nn import MLP, mlp_num_params
from jaxdl.training import create_train_state, fit_many, make_supervised_loss


def target(x):
    """The function to approximate, ``sin(4x) cos(x)``."""
    return jnp.sin(4.0 * x) * jnp.cos(x)


def _width_for_budget(depth: int, budget: int) -> int:
    """The hidden width whose ``depth``-layer 1-H-...-H-1 net is closest to ``budget``."""
    best = min(
        range(1, 4 * budget), key=lambda w: abs(mlp_num_params([1] + [w] * depth + [1]) - budget)
    )
    return best


def _train_population(key, hidden, x, y, x_fine, y_fine, config):
    model = MLP(features=(*hidden, 1), activation="tanh", output=None)
    tx = optax.adam(config["learning_rate"])
    init_key, run_key = jax.random.split(key)
    states = jax.vmap(lambda k: create_train_state(k, model, x[:1], tx))(
        jax.random.split(init_key, config["num_seeds"])
    )
    result = fit_many(
        run_key,
        states,
        make_supervised_loss(model, "mse", metrics=()),
        (x, y),
        num_epochs=config["num_steps"],
    )
    predictions = jax.vmap(lambda p: model.apply({"params": p}, x_fine))(result.state.params)
    sup_errors = np.asarray(jnp.max(jnp.abs(predictions - y_fine[None]), axis=(1, 2)))
    losses = np.asarray(result.history["train_loss"])  # [seeds, steps]
    return {
        "num_params": mlp_num_params([1, *hidden, 1]),
        "sup_error_median": float(np.median(sup_errors)),
        "sup_error_best": float(np.min(sup_errors)),
        "first_train_loss": float(np.median(losses[:, 0])),
        "final_train_loss": float(np.median(losses[:, -1])),
        "loss_curve": np.median(losses, axis=0),
        "predictions": np.asarray(predictions[int(np.argmin(sup_errors))])[:, 0],
    }


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run both parts, write the plots; return the metrics."""
    logger = workdir.logger
    x = jnp.linspace(-math.pi, math.pi, config["num_train"])[:, None]
    y = target(x)
    x_fine = jnp.linspace(-math.pi, math.pi, config["num_eval"])[:, None]
    y_fine = target(x_fine)
    key = workdir.key
    width_key, depth_key = jax.random.split(key)

    summary: dict = {"widths": list(config["widths"])}
    width_rows, fits = [], {}
    for i, width in enumerate(config["widths"]):
        row = _train_population(
            jax.random.fold_in(width_key, i), (width,), x, y, x_fine, y_fine, config
        )
        fits[width] = row.pop("predictions")
        curve = row.pop("loss_curve")
        width_rows.append(row)
        logger.log(i, part="width", width=width, **row)
        if workdir.progress:
            print(f"width {width:4d}: sup-error {row['sup_error_median']:.4f}")
        if i == len(config["widths"]) - 1:
            summary["widest_loss_curve_first"] = float(curve[0])
    summary["sup_error_by_width"] = [r["sup_error_median"] for r in width_rows]
    summary["best_sup_error_by_width"] = [r["sup_error_best"] for r in width_rows]
    summary["first_train_loss"] = width_rows[-1]["first_train_loss"]
    summary["final_train_loss"] = width_rows[-1]["final_train_loss"]

    depth_rows = []
    for depth in config["depths"]:
        width = _width_for_budget(depth, config["param_budget"])
        row = _train_population(
            jax.random.fold_in(depth_key, depth), (width,) * depth, x, y, x_fine, y_fine, config
        )
        row.pop("predictions")
        curve = row.pop("loss_curve")
        row.update(depth=depth, width=width)
        depth_rows.append((row, curve))
        logger.log(len(config["widths"]) + depth, part="depth", **row)
        if workdir.progress:
            print(
                f"depth {depth} x width {width} ({row['num_params']} params): "
                f"sup-error {row['sup_error_median']:.4f}"
            )
    summary["depth_comparison"] = [r for r, _ in depth_rows]

    line_plot(
        workdir / "sup_error_vs_width.png",
        {
            "median over seeds": summary["sup_error_by_width"],
            "best seed": summary["best_sup_error_by_width"],
        },
        x=config["widths"],
        xlabel="hidden units",
        ylabel="max |f - f_hat|",
        title="One hidden layer (tanh)",
        log_y=True,
    )
    line_plot(
        workdir / "depth_vs_width_loss.png",
        {f"{r['depth']} x {r['width']} ({r['num_params']} params)": c for r, c in depth_rows},
        xlabel="step",
        ylabel="train MSE",
        title="Equal parameter count",
        log_y=True,
    )
    line_plot(
        workdir / "fits.png",
        {"target": np.asarray(y_fine[:, 0]), **{f"H={w}": fits[w] for w in config["widths"]}},
        x=np.asarray(x_fine[:, 0]),
        xlabel="x",
        ylabel="f(x)",
        title="Best fit per width",
    )
    return summary
