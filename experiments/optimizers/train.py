"""The course's optimizers side by side.

Part 1 (loss curves): the same 64-H-10 ReLU MLP, from the same initial weights, trained on
scikit-learn's digits by minibatch SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam
(``jaxdl.optim`` aliases, ``jaxdl.training.fit``). One plot holds every training-loss
curve; the summary records the final training loss and the test accuracy of each.

Part 2 (ill-conditioning): on ``J(x, y) = (x^2 + kappa y^2) / 2`` gradient descent
zig-zags across the steep axis of the valley while momentum builds speed along the flat
one. The trajectories are drawn over the contour lines, together with the two steps of
conjugate gradients and the single step of Newton's method; the summary records how many
steps each first-order method needs to bring the loss below a tolerance.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxdl import optim
from jaxdl.data import load_digits
from jaxdl.experiment import Run, figure, line_plot
from jaxdl.nn.mlp import MLP
from jaxdl.training import create_train_state, fit, make_supervised_loss

OPTIMIZERS = {
    "sgd": optax.sgd,
    "momentum": optim.momentum,
    "nesterov": optim.nesterov,
    "adagrad": optim.adagrad,
    "rmsprop": optim.rmsprop,
    "adam": optim.adam,
}


def loss_curves(key, config: dict, workdir: Run, logger) -> dict:
    """Train one MLP per optimizer from the same initial weights; plot the loss curves."""
    data = load_digits()
    x_train, y_train = data.x_train / 16.0, data.y_train
    if "num_train" in config:
        x_train, y_train = x_train[: config["num_train"]], y_train[: config["num_train"]]
    x_test, y_test = data.x_test / 16.0, data.y_test
    model = MLP(features=(config["hidden"], data.num_classes), activation="relu", output=None)
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    init_key, fit_key = jax.random.split(key)
    summary: dict = {}
    curves: dict[str, list[float]] = {}
    for name, hyperparameters in config["optimizers"].items():
        if name not in OPTIMIZERS:
            raise ValueError(f"optimizers must be among {sorted(OPTIMIZERS)}, got {name!r}")
        tx = OPTIMIZERS[name](**hyperparameters)
        # same initial weights and the same minibatch order for every optimizer
        state = create_train_state(jax.random.clone(init_key), model, x_train[:1], tx)
        result = fit(
            jax.random.clone(fit_key),
            state,
            loss_fn,
            (x_train, y_train),
            num_epochs=config["num_epochs"],
            batch_size=config["batch_size"],
            progress=workdir.progress,
            callback=lambda record, name=name: logger.log(
                record["step"],
                part="loss_curves",
                optimizer=name,
                **{k: v for k, v in record.items() if k != "step"},
            ),
        )
        test = loss_fn.evaluate(result.state.params, {}, (x_test, y_test))
        curves[name] = [record["train_loss"] for record in result.history]
        summary[f"{name}_first_train_loss"] = curves[name][0]
        summary[f"{name}_final_train_loss"] = curves[name][-1]
        summary[f"{name}_test_accuracy"] = float(test["accuracy"])
    line_plot(
        workdir / "loss_curves.png",
        curves,
        xlabel="epoch",
        log_y=True,
        title=f"digits, MLP 64-{config['hidden']}-10, batch {config['batch_size']}",
        ylabel="training loss (epoch mean)",
    )
    return summary


def first_order_path(tx: optax.GradientTransformation, loss_fn, start: jax.Array, num_steps: int):
    """Points visited by ``tx`` on ``loss_fn`` (``[num_steps + 1, 2]``) and their losses."""

    def step(carry, _):
        params, state = carry
        updates, state = tx.update(jax.grad(loss_fn)(params), state, params)
        params = optax.apply_updates(params, updates)
        return (params, state), params

    @jax.jit
    def run(start):
        _, points = lax.scan(step, (start, tx.init(start)), None, length=num_steps)
        points = jnp.concatenate([start[None], points])
        return points, jax.vmap(loss_fn)(points)

    return run(start)


def steps_to_tolerance(losses: np.ndarray, tolerance: float) -> int:
    """First step index whose loss is below ``tolerance`` (-1 if never)."""
    below = np.flatnonzero(np.asarray(losses) < tolerance)
    return int(below[0]) if below.size else -1


def valley(config: dict, workdir: Run, logger) -> dict:
    """GD vs momentum (and CG, Newton) on an ill-conditioned quadratic, over its contours."""
    kappa = config["condition_number"]

    def loss_fn(p):
        return 0.5 * (p[0] ** 2 + kappa * p[1] ** 2)

    start = jnp.asarray(config["start"], jnp.float32)
    rate, steps = config["valley_learning_rate"], config["valley_steps"]
    paths = {
        "gradient descent": first_order_path(optax.sgd(rate), loss_fn, start, steps),
        f"momentum {config['valley_momentum']}": first_order_path(
            optim.momentum(rate, config["valley_momentum"]), loss_fn, start, steps
        ),
    }
    cg = optim.conjugate_gradient(loss_fn, start, num_steps=2)
    newton = optim.newton_method(loss_fn, start, num_steps=1)
    summary = {
        "valley_condition_number": float(optim.condition_number(loss_fn, start)),
        "cg_final_loss": float(cg.losses[-1]),
        "newton_final_loss": float(newton.losses[-1]),
    }
    tolerance = config["valley_tolerance"]
    for label, (_, losses) in paths.items():
        tag = "gd" if label == "gradient descent" else "momentum"
        summary[f"{tag}_steps_to_tolerance"] = steps_to_tolerance(losses, tolerance)
        summary[f"{tag}_final_loss"] = float(losses[-1])
        for k, value in enumerate(np.asarray(losses)):
            logger.log(k, part="valley", method=tag, loss=float(value))

    with figure(workdir / "valley_trajectories.png", figsize=(8, 4)) as ax:
        grid_x, grid_y = np.meshgrid(np.linspace(-10, 10, 300), np.linspace(-2.5, 2.5, 200))
        levels = np.geomspace(0.05, 200, 14)
        ax.contour(
            grid_x,
            grid_y,
            0.5 * (grid_x**2 + kappa * grid_y**2),
            levels=levels,
            colors="0.7",
            linewidths=0.7,
        )
        shown = 60  # the first steps carry the picture
        for (label, (points, _)), colour in zip(
            paths.items(), ("tab:red", "tab:blue"), strict=True
        ):
            points = np.asarray(points)[: shown + 1]
            ax.plot(points[:, 0], points[:, 1], "-o", ms=2.5, lw=1, color=colour, label=label)
        for label, result, colour in (
            ("conjugate gradients", cg, "tab:green"),
            ("Newton", newton, "k"),
        ):
            points = np.asarray(result.trajectory)
            ax.plot(points[:, 0], points[:, 1], "--s", ms=4, lw=1.2, color=colour, label=label)
        ax.set_title(f"J = (x^2 + {kappa:g} y^2) / 2: first {shown} steps, learning rate {rate:g}")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_aspect("equal")
        ax.legend(fontsize=8, loc="upper right")
    line_plot(
        workdir / "valley_loss.png",
        {label: np.asarray(losses) + 1e-30 for label, (_, losses) in paths.items()},
        xlabel="step",
        ylabel="loss f(w) - f(w*)",
        log_y=True,
        x=np.arange(steps + 1),
        title="loss on the valley",
    )
    return summary


def validate(config: dict) -> None:
    """Optimizer names must be known (checked before the run directory is created)."""
    unknown = sorted(set(config["optimizers"]) - set(OPTIMIZERS))
    if unknown:
        raise ValueError(f"optimizers must be among {sorted(OPTIMIZERS)}, got {unknown}")


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run both parts; write the plots into ``workdir``; return the metrics."""
    logger = workdir.logger
    summary = {
        **loss_curves(workdir.key, config, workdir, logger),
        **valley(config, workdir, logger),
    }
    return summary
