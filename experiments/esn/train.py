"""Echo state networks: memory capacity vs size and spectral radius, NARMA-10, Mackey-Glass."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.experiment import Run, line_plot
from jaxdl.nn import (
    esn_init_params,
    fit_readout,
    memory_capacity,
    nrmse,
    predict_readout,
    run_reservoir,
)


def narma10(key: jax.Array, length: int) -> tuple[jax.Array, jax.Array]:
    """NARMA-10: ``y_{t+1} = 0.3 y_t + 0.05 y_t sum_{i<10} y_{t-i} + 1.5 u_{t-9} u_t + 0.1``.

    Input ``u_t ~ U[0, 0.5]``; returns ``(u [T], y [T])`` (Atiya & Parlos, 2000).
    """
    u = jax.random.uniform(key, (length + 10,), maxval=0.5)

    def step(carry, t):
        ys = carry  # the last 10 outputs, newest last
        y_next = 0.3 * ys[-1] + 0.05 * ys[-1] * jnp.sum(ys) + 1.5 * u[t - 9] * u[t] + 0.1
        return jnp.concatenate([ys[1:], y_next[None]]), y_next

    _, y = jax.lax.scan(step, jnp.zeros(10), jnp.arange(10, length + 10))
    return u[10:], y  # y[t] is y_{t+1}: the target after reading u_t


def mackey_glass(length: int, *, tau: int = 17, dt: float = 0.1, subsample: int = 10) -> jax.Array:
    """Mackey-Glass series ``dx/dt = 0.2 x(t - tau) / (1 + x(t - tau)^10) - 0.1 x(t)``.

    Euler steps of ``dt`` from a constant history 1.2, one sample per time unit.
    """
    delay = int(round(tau / dt))
    total = (length + 100) * subsample  # the first 100 time units are dropped

    def step(history, _):
        x, x_tau = history[-1], history[0]
        x_next = x + dt * (0.2 * x_tau / (1.0 + x_tau**10) - 0.1 * x)
        return jnp.concatenate([history[1:], x_next[None]]), x_next

    _, xs = jax.lax.scan(step, jnp.full(delay + 1, 1.2), None, length=total)
    return xs[100 * subsample :: subsample][:length]


def _one_step_task(params, inputs, targets, washout, num_train, strength):
    _, states = run_reservoir(params, inputs, washout=washout)
    y = targets[washout:]
    readout = fit_readout(states[:num_train], y[:num_train], strength)
    predictions = predict_readout(readout, states[num_train:])
    return nrmse(y[num_train:], predictions), predictions


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Memory-capacity sweeps (one compiled call per size) and the two prediction tasks."""
    k_mc, k_input, k_narma, k_tasks = jax.random.split(workdir.key, 4)
    radii = jnp.linspace(*config["radius_range"], config["num_radii"])
    seeds = config["num_seeds"]
    inputs = jax.random.uniform(k_input, (config["mc_length"], 1), minval=-0.5, maxval=0.5)
    mc_curves, best = {}, []
    sweep_seconds = {}
    for index, n in enumerate(config["sizes"]):

        def mc_one(key, radius, n=n):
            params = esn_init_params(
                key,
                1,
                n,
                spectral_radius=radius,
                density=config["density"],
                input_scaling=config["input_scaling"],
            )
            return memory_capacity(params, inputs, 2 * n, washout=2 * n)[0]

        keys = jax.random.split(jax.random.fold_in(k_mc, index), len(radii) * seeds)
        grid = jnp.repeat(radii, seeds)
        started = time.perf_counter()
        mc = jax.jit(jax.vmap(mc_one))(keys, grid)  # all radii x seeds: one compiled call
        mc = np.asarray(jax.block_until_ready(mc)).reshape(len(radii), seeds)
        sweep_seconds[str(n)] = time.perf_counter() - started
        mc_curves[f"N = {n}"] = mc.mean(axis=1).tolist()
        best.append(float(mc.max()))
    line_plot(
        workdir / "memory_capacity_vs_radius.png",
        mc_curves,
        x=np.asarray(radii).tolist(),
        xlabel="spectral radius rho(W)",
        ylabel="memory capacity (sum of r^2, delays 0..2N)",
        title=f"ESN memory capacity (mean of {seeds} reservoirs per point)",
    )
    line_plot(
        workdir / "memory_capacity_vs_size.png",
        {"best MC over radii and seeds": best, "bound MC = N": list(config["sizes"])},
        x=list(config["sizes"]),
        xlabel="reservoir size N (units)",
        ylabel="memory capacity",
        title="ESN memory capacity never exceeds N",
    )

    n = config["task_size"]
    k_p1, k_p2 = jax.random.split(k_tasks)
    u, y = narma10(k_narma, config["task_length"])
    narma_params = esn_init_params(
        k_p1,
        1,
        n,
        spectral_radius=config["task_radius"],
        density=config["density"],
        input_scaling=config["input_scaling"],
    )
    washout, num_train = config["washout"], config["num_train"]
    narma_error, narma_pred = _one_step_task(
        narma_params, u[:, None], y, washout, num_train, config["strength"]
    )
    series = mackey_glass(config["task_length"] + 1)
    series = jnp.tanh(series - 1.0)  # the usual squashing around the attractor's mean
    mg_params = esn_init_params(
        k_p2,
        1,
        n,
        spectral_radius=config["task_radius"],
        density=config["density"],
        input_scaling=config["input_scaling"],
    )
    mg_error, mg_pred = _one_step_task(
        mg_params, series[:-1, None], series[1:], washout, num_train, config["strength"]
    )
    shown = 200
    line_plot(
        workdir / "predictions.png",
        {
            "NARMA-10 target": np.asarray(y[washout + num_train :][:shown]).tolist(),
            "NARMA-10 ESN": np.asarray(narma_pred[:shown]).tolist(),
            "Mackey-Glass target": np.asarray(series[1:][washout + num_train :][:shown]).tolist(),
            "Mackey-Glass ESN": np.asarray(mg_pred[:shown]).tolist(),
        },
        xlabel="test time step",
        ylabel="value (NARMA-10 output; tanh(x - 1) for Mackey-Glass)",
        title=f"ESN one-step prediction, N = {n}",
    )
    return {
        "memory_capacity_best": dict(zip(map(str, config["sizes"]), best, strict=True)),
        # r^2 measured on a finite held-out half carries a small positive bias (about
        # 1 / num_test per delay); the bound is checked up to that sampling error.
        "memory_capacity_at_most_n": bool(
            all(
                b <= s + (2 * s + 1) / (config["mc_length"] // 2 - s)
                for b, s in zip(best, config["sizes"], strict=True)
            )
        ),
        "reservoirs_per_call": int(len(radii) * seeds),
        "sweep_seconds": sweep_seconds,
        "narma10_nrmse": float(narma_error),
        "mackey_glass_nrmse": float(mg_error),
    }
