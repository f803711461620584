"""Fixed feature maps fitted by least squares: polynomial vs sigmoid features on MCycle."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxdl.data import load_mcycle, standardize
from jaxdl.data.preprocessing import unstandardize
from jaxdl.experiment import Run, figure, line_plot
from jaxdl.metrics import root_mean_squared_error
from jaxdl.nn import least_squares, linear_predict, polynomial_features, sigmoid_features


def validate(config: dict) -> None:
    if len(config["sigmoid_slopes"]) != len(config["sigmoid_offsets"]):
        raise ValueError(
            "sigmoid_slopes and sigmoid_offsets must have the same length, got "
            f"{len(config['sigmoid_slopes'])} and {len(config['sigmoid_offsets'])}"
        )
    if config["max_degree"] < config["degree"]:
        raise ValueError(
            f"max_degree must be >= degree ({config['degree']}), got {config['max_degree']}"
        )


def _features(config: dict):
    slopes = jnp.asarray(config["sigmoid_slopes"], jnp.float32)
    offsets = jnp.asarray(config["sigmoid_offsets"], jnp.float32)
    return {
        "polynomial": lambda x: polynomial_features(x, config["degree"]),
        "sigmoid": lambda x: sigmoid_features(x, slopes, offsets),
    }


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    data = load_mcycle()
    x_stats, (x,) = standardize(data.x_train)
    t_stats, (t,) = standardize(data.y_train)
    x, t = x[:, 0], t[:, 0]
    grid = jnp.linspace(x.min(), x.max(), 300)
    grid_time = np.asarray(unstandardize(x_stats, grid[:, None]))[:, 0]

    metrics, curves, responses = {}, {}, {}
    for name, feature_map in _features(config).items():
        phi = feature_map(x)
        # The polynomial map holds the constant feature; the sigmoid map gets an intercept.
        model = least_squares(phi, t, fit_intercept=name == "sigmoid")
        fitted = unstandardize(t_stats, linear_predict(model, phi)[:, None])[:, 0]
        metrics[f"{name}_train_rmse_g"] = float(root_mean_squared_error(data.y_train[:, 0], fitted))
        curve = unstandardize(t_stats, linear_predict(model, feature_map(grid))[:, None])
        curves[name] = np.asarray(curve)[:, 0]
        responses[name] = np.asarray(feature_map(grid))

    # How the polynomial fit improves with the degree (closed form, one solve each).
    degrees = list(range(1, config["max_degree"] + 1))
    rmse_by_degree = []
    for degree in degrees:
        phi = polynomial_features(x, degree)
        model = least_squares(phi, t, fit_intercept=False)
        fitted = unstandardize(t_stats, linear_predict(model, phi)[:, None])[:, 0]
        rmse_by_degree.append(float(root_mean_squared_error(data.y_train[:, 0], fitted)))

    with figure(workdir / "fits.png", 2, 1, figsize=(6, 7), sharex=True) as (top, bottom):
        top.scatter(np.asarray(data.x_train), np.asarray(data.y_train), s=8, c="k", label="data")
        for name, color in (("polynomial", "C0"), ("sigmoid", "C3")):
            rmse = metrics[f"{name}_train_rmse_g"]
            top.plot(grid_time, curves[name], c=color, label=f"{name} features ({rmse:.1f} g)")
        top.set_xlabel("time after impact (ms)")
        top.set_ylabel("acceleration (g)")
        top.set_title("least squares on fixed features")
        top.legend()
        for j in range(responses["sigmoid"].shape[1]):
            a, c = config["sigmoid_slopes"][j], config["sigmoid_offsets"][j]
            label = f"sigma({a:g} x {'+' if c >= 0 else '-'} {abs(c):g})"
            bottom.plot(grid_time, responses["sigmoid"][:, j], label=label)
        bottom.set_xlabel("time after impact (ms)")
        bottom.set_ylabel("feature value")
        bottom.set_title("sigmoid features (x = standardized time)")
        bottom.legend()
    line_plot(
        workdir / "rmse_by_degree.png",
        {"polynomial features": rmse_by_degree},
        x=degrees,
        xlabel="polynomial degree",
        ylabel="training RMSE (g)",
        title="MCycle: least squares on [1, x, ..., x^p]",
    )
    metrics["rmse_by_degree_g"] = rmse_by_degree
    metrics["target_std_g"] = float(np.std(np.asarray(data.y_train)))
    return metrics
