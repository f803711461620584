"""Run the perceptron rule from several visiting orders (vmapped) and check Novikoff's bound.

The data come with a separating direction ``w*`` through the origin, so no bias input is
needed; R is the radius of the smallest origin-centred ball holding the data and gamma
the margin of ``w*``. Every run must converge after at most R^2/gamma^2 updates.
"""

from __future__ import annotations

import jax
import numpy as np

from jaxdl.data import linearly_separable
from jaxdl.experiment import Run, figure
from jaxdl.nn import perceptron_bound, perceptron_fit


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    logger = workdir.logger
    data_key, run_key = jax.random.split(workdir.key)
    data = linearly_separable(data_key, config["num_samples"], config["dim"], config["margin"])
    bound = perceptron_bound(data.x, data.y, data.w_star)

    keys = jax.random.split(run_key, config["num_runs"])
    runs = jax.vmap(
        lambda k: perceptron_fit(
            k, data.x, data.y, learning_rate=config["learning_rate"], max_steps=config["max_steps"]
        )
    )(keys)
    updates = np.asarray(runs.num_updates)
    for i in range(config["num_runs"]):
        logger.log(
            int(runs.num_steps[i]),
            run=i,
            num_updates=int(updates[i]),
            converged=bool(runs.converged[i]),
        )

    x, y = np.asarray(data.x), np.asarray(data.y)
    with figure(workdir / "perceptron.png", 1, 2, figsize=(10, 4.5)) as (left, right):
        if x.shape[1] == 2:
            left.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=12)
            line = np.linspace(x.min(), x.max(), 10)
            separators = (
                (np.asarray(runs.weights[0]), "-", "learned (run 0)"),
                (np.asarray(data.w_star), "--", "reference w*"),
            )
            for w, style, label in separators:
                if abs(w[1]) > 1e-9:
                    left.plot(line, -w[0] / w[1] * line, "k" + style, label=label)
            left.set_title("data and separators")
            left.set_xlim(x[:, 0].min(), x[:, 0].max())
            left.set_ylim(x[:, 1].min(), x[:, 1].max())
            left.set(xlabel="x1", ylabel="x2")
        else:
            left.set_axis_off()
        right.bar(np.arange(len(updates)), updates, color="C0", label="updates")
        right.axhline(float(bound.bound), color="C3", label="bound R^2/gamma^2")
        right.set_yscale("log")
        right.set_xlabel("run (visiting order)")
        right.set_ylabel("updates until convergence")

    return {
        "radius": float(bound.radius),
        "margin": float(bound.margin),
        "bound": float(bound.bound),
        "max_updates": int(updates.max()),
        "mean_updates": float(updates.mean()),
        "all_converged": bool(np.all(np.asarray(runs.converged))),
        "within_bound": bool(updates.max() <= float(bound.bound)),
    }
