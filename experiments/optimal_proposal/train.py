"""Importance sampling with the optimal proposal q* = p f / Z has zero variance for f >= 0.

On a discrete distribution ``p`` and a function ``f >= 0``, ``E_p[f]`` is estimated by
plain Monte Carlo (``q = p``), by importance sampling from a uniform ``q`` and from
``q* = p f / Z`` (``jaxdl.sampling.monte_carlo.optimal_proposal``). Under ``q*`` every
importance term ``p(x) f(x) / q*(x)`` equals ``Z = E_p[f]``: the estimate is exact and its
standard error is zero (up to float32 rounding).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.experiment import Run, figure
from jaxdl.sampling import monte_carlo as mc


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Plain MC, uniform IS and q* IS on one discrete expectation; plot the estimates."""
    p = jnp.asarray(config["p"], jnp.float32)
    f = jnp.asarray(config["f"], jnp.float32)
    exact = float(jnp.sum(p * f))
    q_star = mc.optimal_proposal(p, f)
    uniform = jnp.full(p.shape, 1.0 / p.shape[0])
    n = config["num_samples"]

    def sampler(q):
        return lambda k, m: jax.random.categorical(k, jnp.log(q), shape=(m,))

    def importance(k, q):
        return mc.importance_sampling(
            k, lambda i: f[i], lambda i: jnp.log(p[i]), sampler(q), lambda i: jnp.log(q[i]), n
        )

    k_plain, k_uniform, k_star = jax.random.split(workdir.key, 3)
    estimates = {
        "plain": mc.monte_carlo(k_plain, lambda i: f[i], sampler(p), n),
        "uniform": importance(k_uniform, uniform),
        "optimal": importance(k_star, q_star),
    }
    summary = {"exact": exact, "optimal_proposal": np.asarray(q_star).tolist()}
    for index, (name, estimate) in enumerate(estimates.items()):
        summary[f"{name}_mean"] = float(estimate.mean)
        summary[f"{name}_standard_error"] = float(estimate.standard_error)
        workdir.logger.log(
            index, proposal=name, mean=estimate.mean, standard_error=estimate.standard_error
        )

    with figure(workdir / "estimates.png", figsize=(6, 4)) as ax:
        labels = ["plain MC (q = p)", "IS, uniform q", "IS, optimal q*"]
        means = [summary[f"{name}_mean"] for name in estimates]
        errors = [2 * summary[f"{name}_standard_error"] for name in estimates]
        ax.errorbar(range(3), means, yerr=errors, fmt="o", capsize=6, label="estimate +- 2 se")
        ax.axhline(exact, color="k", lw=0.8, ls="--", label=f"exact E_p[f] = {exact:.3f}")
        ax.set_xticks(range(3), labels)
        ax.set_xlabel("proposal")
        ax.set_ylabel("estimate of E_p[f]")
        ax.set_title(f"{n} samples each")
        ax.legend(fontsize=8)
    return summary
