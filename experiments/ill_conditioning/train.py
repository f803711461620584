"""Gradient descent vs momentum, conjugate gradients and Newton on an ill-conditioned valley.

On ``J(x, y) = (x^2 + kappa y^2) / 2`` gradient descent zig-zags across the steep axis of
the valley while momentum builds speed along the flat one. The trajectories are drawn over
the contour lines, together with the two steps of conjugate gradients and the single step
of Newton's method (``jaxdl.optim``); the summary records how many steps each first-order
method needs to bring the loss below a tolerance.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxdl import optim
from jaxdl.experiment import Run, figure, line_plot


def first_order_path(tx: optax.GradientTransformation, loss_fn, start: jax.Array, num_steps: int):
    """Points visited by ``tx`` on ``loss_fn`` (``[num_steps + 1, 2]``) and their losses.

    A course algorithm that is itself a loop over a 2-D point (no data, no minibatches):
    one ``lax.scan``, not a training run.
    """

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


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run the four methods from the same start; write the plots; return the metrics."""
    logger = workdir.logger
    kappa = config["condition_number"]

    def loss_fn(p):
        return 0.5 * (p[0] ** 2 + kappa * p[1] ** 2)

    start = jnp.asarray(config["start"], jnp.float32)
    rate, steps = config["learning_rate"], config["num_steps"]
    paths = {
        "gradient descent": first_order_path(optax.sgd(rate), loss_fn, start, steps),
        f"momentum {config['momentum']}": first_order_path(
            optim.momentum(rate, config["momentum"]), loss_fn, start, steps
        ),
    }
    cg = optim.conjugate_gradient(loss_fn, start, num_steps=2)
    newton = optim.newton_method(loss_fn, start, num_steps=1)
    summary = {
        "condition_number": float(optim.condition_number(loss_fn, start)),
        "cg_final_loss": float(cg.losses[-1]),
        "newton_final_loss": float(newton.losses[-1]),
    }
    tolerance = config["tolerance"]
    for label, (_, losses) in paths.items():
        tag = "gd" if label == "gradient descent" else "momentum"
        summary[f"{tag}_steps_to_tolerance"] = steps_to_tolerance(losses, tolerance)
        summary[f"{tag}_final_loss"] = float(losses[-1])
        for k, value in enumerate(np.asarray(losses)):
            logger.log(k, method=tag, loss=float(value))

    with figure(workdir / "trajectories.png", figsize=(8, 4)) as ax:
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
        shown = min(60, steps)  # the first steps carry the picture
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
        workdir / "loss.png",
        {label: np.asarray(losses) + 1e-30 for label, (_, losses) in paths.items()},
        xlabel="step",
        ylabel="loss f(w) - f(w*)",
        log_y=True,
        x=np.arange(steps + 1),
        title="loss on the valley",
    )
    return summary
