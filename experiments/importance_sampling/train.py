"""Plain Monte Carlo against importance sampling on a rare event P(x > 3), x ~ N(0, 1).

Plain Monte Carlo averages the indicator over draws from ``p = N(0, 1)``; importance
sampling draws from ``q = N(threshold, 1)`` and averages ``p f / q``
(``jaxdl.sampling.monte_carlo``). Both estimators are repeated ``num_repeats`` times
(vmapped over keys) for several sample sizes, all in one compiled program; the summary
records the empirical standard deviation of each estimator, the theoretical one of plain
Monte Carlo and the variance ratio at the largest size.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

from jaxdl.experiment import Run, line_plot
from jaxdl.sampling import monte_carlo as mc


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Repeated plain-MC and IS estimates for each sample size; plot their spread."""
    threshold = float(config["threshold"])
    exact = float(norm.sf(threshold))

    def indicator(x):
        return (x > threshold).astype(jnp.float32)

    def plain(k, n):
        return mc.monte_carlo(k, indicator, lambda kk, m: jax.random.normal(kk, (m,)), n).mean

    def importance(k, n):
        return mc.importance_sampling(
            k,
            indicator,
            norm.logpdf,
            lambda kk, m: threshold + jax.random.normal(kk, (m,)),
            lambda x: norm.logpdf(x, loc=threshold),
            n,
        ).mean

    sizes = [int(n) for n in config["sample_sizes"]]
    repeats = config["num_repeats"]

    @jax.jit
    def all_estimates(k):
        """[repeats] estimates of both estimators for every sample size, in one program."""
        out = {}
        for index, n in enumerate(sizes):
            k_plain, k_is = jax.random.split(jax.random.fold_in(k, index))
            out[n] = (
                jax.vmap(lambda kk, n=n: plain(kk, n))(jax.random.split(k_plain, repeats)),
                jax.vmap(lambda kk, n=n: importance(kk, n))(jax.random.split(k_is, repeats)),
            )
        return out

    estimates = all_estimates(workdir.key)
    summary: dict = {"exact": exact}
    curves: dict[str, list[float]] = {"plain MC": [], "importance sampling": []}
    for index, n in enumerate(sizes):
        plain_estimates, is_estimates = estimates[n]
        record = {
            "num_samples": n,
            "plain_mean": float(jnp.mean(plain_estimates)),
            "plain_sd": float(jnp.std(plain_estimates)),
            "plain_sd_theory": math.sqrt(exact * (1 - exact) / n),
            "is_mean": float(jnp.mean(is_estimates)),
            "is_sd": float(jnp.std(is_estimates)),
        }
        curves["plain MC"].append(record["plain_sd"])
        curves["importance sampling"].append(record["is_sd"])
        workdir.logger.log(index, **record)
        summary.update({f"{k}_n{n}": v for k, v in record.items() if k != "num_samples"})
    largest = sizes[-1]
    summary["variance_ratio"] = (
        summary[f"plain_sd_n{largest}"] / summary[f"is_sd_n{largest}"]
    ) ** 2
    line_plot(
        workdir / "estimator_sd.png",
        curves,
        x=sizes,
        xlabel="samples n",
        log_x=True,
        log_y=True,
        ylabel="sd of the estimate over repeats",
        title=f"P(x > {config['threshold']}), x ~ N(0, 1)",
    )
    return summary
