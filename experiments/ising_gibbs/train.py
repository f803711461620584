"""Gibbs sampling of the 2-D Ising model: magnetization against temperature.

For each temperature ``T`` a batch of chains on an ``L x L`` periodic grid
(``J = 1``, ``h = 0``) runs checkerboard (block) Gibbs sweeps from the all-up state,
vmapped over chains, one compiled program per run. After burn-in the mean absolute
magnetization ``<|m|>`` and energy per site are averaged; the standard error comes
from the effective sample size of the ``|m|`` traces. The curve is compared with
Onsager's exact infinite-lattice result ``m = (1 - sinh(2 / T)^-4)^(1/8)`` below
``T_c = 2 / ln(1 + sqrt(2)) ~ 2.269`` (Onsager 1944; Yang 1952).

A second check runs single-site Gibbs on a 3x3 grid and compares ``<|m|>`` with
exact enumeration of its 512 states.
"""

from __future__ import annotations

import functools
import math
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from jaxdl.experiment import Run, figure, line_plot
from jaxdl.probabilistic import ising
from jaxdl.probabilistic.ising import IsingModel, ising_exact, magnetization
from jaxdl.sampling import diagnostics, sample_chains

CRITICAL_TEMPERATURE = 2.0 / math.log(1.0 + math.sqrt(2.0))


def onsager_magnetization(temperature: float) -> float:
    """Spontaneous magnetization of the infinite 2-D Ising model (J = 1)."""
    if temperature >= CRITICAL_TEMPERATURE:
        return 0.0
    return (1.0 - math.sinh(2.0 / temperature) ** -4) ** 0.125


def validate(config: dict) -> None:
    """Checked before the run directory is created."""
    if config["kernel"] not in ("checkerboard", "single_site"):
        raise ValueError(
            f"kernel must be 'checkerboard' or 'single_site', got {config['kernel']!r}"
        )
    if config["burn_in"] >= config["num_sweeps"]:
        raise ValueError(
            f"burn_in ({config['burn_in']}) must be below num_sweeps ({config['num_sweeps']})"
        )


@functools.partial(jax.jit, static_argnames=("size", "num_chains", "num_sweeps", "kernel_name"))
def run_temperature(key, temperature, *, size, num_chains, num_sweeps, kernel_name):
    """Chains at one temperature; returns |m| and energy-per-site traces [chains, sweeps]."""
    model = IsingModel(coupling=1.0, field=0.0, inverse_temperature=1.0 / temperature)
    if kernel_name == "checkerboard":
        kernel = functools.partial(ising.ising_checkerboard_kernel, model=model)
    else:
        kernel = functools.partial(ising.ising_single_site_kernel, model=model)
    starts = ising.init(jnp.ones((num_chains, size, size)))
    _, (states, infos) = sample_chains(key, kernel, starts, num_sweeps)
    return jnp.abs(magnetization(states.position)), infos.energy / size**2


def exact_check(key, config: dict, logger) -> dict:
    """Single-site Gibbs on 3x3 (free boundaries) against enumeration."""
    summary = {}
    worst = 0.0
    for index, temperature in enumerate(config["exact_temperatures"]):
        model = IsingModel(coupling=1.0, field=0.0, inverse_temperature=1.0 / temperature)
        spins, probs = ising_exact((3, 3), model, periodic=False)
        exact = float(jnp.sum(probs * jnp.abs(magnetization(spins))))
        kernel = functools.partial(
            ising.ising_single_site_kernel, model=model, periodic=False, scan="systematic"
        )
        starts = ising.init(jnp.ones((config["num_chains"], 3, 3)))
        _, (states, _) = jax.jit(
            lambda k, s, kernel=kernel: sample_chains(k, kernel, s, config["num_sweeps"])
        )(jax.random.fold_in(key, index), starts)
        trace = jnp.abs(magnetization(states.position[:, config["burn_in"] :]))
        ess = float(diagnostics.effective_sample_size(trace))
        estimate = float(jnp.mean(trace))
        standard_error = float(jnp.std(trace)) / math.sqrt(ess)
        z = abs(estimate - exact) / standard_error
        worst = max(worst, z)
        logger.log(
            index,
            part="exact_3x3",
            temperature=temperature,
            exact=exact,
            gibbs=estimate,
            standard_error=standard_error,
            ess=ess,
        )
        summary[f"exact3x3_T{temperature:g}_exact"] = exact
        summary[f"exact3x3_T{temperature:g}_gibbs"] = estimate
    summary["exact3x3_max_abs_z"] = worst
    return summary


def plot_magnetization(rows: list[dict], size: int, filename: pathlib.Path) -> None:
    """<|m|> with error bars against T, over Onsager's curve."""
    temperatures = np.array([r["temperature"] for r in rows])
    fine = np.linspace(temperatures.min(), temperatures.max(), 300)
    with figure(filename) as ax:
        ax.plot(
            fine, [onsager_magnetization(t) for t in fine], "k-", label="Onsager (L = infinity)"
        )
        ax.errorbar(
            temperatures,
            [r["abs_magnetization"] for r in rows],
            yerr=[2 * r["standard_error"] for r in rows],
            fmt="o",
            label=f"checkerboard Gibbs, L = {size}",
        )
        ax.axvline(CRITICAL_TEMPERATURE, color="gray", linestyle=":", label="T_c")
        ax.set_xlabel("temperature T")
        ax.set_ylabel("<|m|> (magnetization per spin)")
        ax.grid(alpha=0.3)
        ax.legend()


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Sweep temperatures; write the plots into ``workdir``; return the metrics."""
    logger = workdir.logger
    key_grid, key_exact = jax.random.split(workdir.key)
    temperatures = [float(t) for t in config["temperatures"]]
    burn_in = config["burn_in"]
    rows = []
    for index, temperature in enumerate(
        tqdm(temperatures, desc="temperatures", disable=not workdir.progress)
    ):
        abs_m, energy = run_temperature(
            jax.random.fold_in(key_grid, index),
            jnp.asarray(temperature),
            size=config["size"],
            num_chains=config["num_chains"],
            num_sweeps=config["num_sweeps"],
            kernel_name=config["kernel"],
        )
        abs_m, energy = abs_m[:, burn_in:], energy[:, burn_in:]
        ess = float(diagnostics.effective_sample_size(abs_m))
        row = {
            "temperature": temperature,
            "abs_magnetization": float(jnp.mean(abs_m)),
            "standard_error": float(jnp.std(abs_m)) / math.sqrt(max(ess, 1.0)),
            "energy_per_site": float(jnp.mean(energy)),
            "ess": ess,
            "rhat": float(diagnostics.split_rhat(abs_m)),
            "onsager": onsager_magnetization(temperature),
        }
        logger.log(index, part="temperature_sweep", **row)
        rows.append(row)
    low = [r for r in rows if r["temperature"] <= config["onsager_check_below"]]
    summary = {
        "critical_temperature": CRITICAL_TEMPERATURE,
        "abs_magnetization": {f"{r['temperature']:g}": r["abs_magnetization"] for r in rows},
        "energy_per_site": {f"{r['temperature']:g}": r["energy_per_site"] for r in rows},
        "max_onsager_error_low_temperature": max(
            (abs(r["abs_magnetization"] - r["onsager"]) for r in low), default=float("nan")
        ),
        "abs_magnetization_lowest_temperature": rows[0]["abs_magnetization"],
        "abs_magnetization_highest_temperature": rows[-1]["abs_magnetization"],
        "max_rhat": max(r["rhat"] for r in rows),
    }
    crossing = [
        (a, b)
        for a, b in zip(rows[:-1], rows[1:], strict=True)
        if a["abs_magnetization"] >= 0.5 > b["abs_magnetization"]
    ]
    if crossing:
        a, b = crossing[0]
        fraction = (a["abs_magnetization"] - 0.5) / (
            a["abs_magnetization"] - b["abs_magnetization"]
        )
        summary["temperature_at_half_magnetization"] = a["temperature"] + fraction * (
            b["temperature"] - a["temperature"]
        )
    summary.update(exact_check(key_exact, config, logger))
    plot_magnetization(rows, config["size"], workdir / "magnetization.png")
    line_plot(
        workdir / "energy.png",
        {"energy per site": [r["energy_per_site"] for r in rows]},
        x=temperatures,
        xlabel="temperature T",
        ylabel="<E> / N",
        title="2-D Ising model",
    )
    return summary
