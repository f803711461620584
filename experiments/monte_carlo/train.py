"""Monte Carlo vs importance sampling, and the convergence of a Markov chain.

Part 1 (rare event): ``s = P(x > threshold)`` for ``x ~ N(0, 1)``. Plain Monte Carlo
averages the indicator over draws from ``p``; importance sampling draws from
``q = N(threshold, 1)`` and averages ``p f / q``. Both estimators are repeated
``num_repeats`` times (vmapped over keys) for several sample sizes; the summary records
the empirical standard deviation of each estimator and the variance ratio.

Part 2 (optimal proposal): on a discrete distribution, importance sampling with
``q* = p |f| / Z`` has zero variance for ``f >= 0``, lower than plain Monte Carlo and
than a uniform proposal.

Part 3 (Markov chain): a column-stochastic matrix ``A`` is iterated ``v_t = A v_{t-1}``
from a point mass; the total-variation distance to the stationary distribution
(power iteration and eigenvector agree) falls geometrically at the rate of the
second-largest eigenvalue modulus, and a simulated chain's visit frequencies approach
the stationary law (tolerance from the effective sample size).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.stats import norm
from tqdm import tqdm

from jaxdl.experiment import Run, line_plot
from jaxdl.sampling import diagnostics, markov, sample_chain
from jaxdl.sampling import monte_carlo as mc


def rare_event(key, config: dict, logger) -> tuple[dict, dict]:
    """Repeated plain-MC and IS estimates of P(x > threshold) for each sample size."""
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

    summary: dict = {"rare_event_exact": exact}
    curves: dict[str, list[float]] = {"plain MC": [], "importance sampling": []}
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

    estimates = all_estimates(key)
    for index, n in enumerate(sizes):
        plain_estimates, is_estimates = estimates[n]
        plain_sd = float(jnp.std(plain_estimates))
        is_sd = float(jnp.std(is_estimates))
        curves["plain MC"].append(plain_sd)
        curves["importance sampling"].append(is_sd)
        record = {
            "num_samples": n,
            "plain_mean": float(jnp.mean(plain_estimates)),
            "plain_sd": plain_sd,
            "plain_sd_theory": math.sqrt(exact * (1 - exact) / n),
            "is_mean": float(jnp.mean(is_estimates)),
            "is_sd": is_sd,
        }
        logger.log(index, part="rare_event", **record)
        summary.update({f"rare_event_{k}_n{n}": v for k, v in record.items() if k != "num_samples"})
    largest = sizes[-1]
    summary["rare_event_variance_ratio"] = (
        summary[f"rare_event_plain_sd_n{largest}"] / summary[f"rare_event_is_sd_n{largest}"]
    ) ** 2
    return summary, {"sizes": sizes, **curves}


def optimal_proposal(key, config: dict, logger) -> dict:
    """Plain MC, uniform IS and q* IS on a discrete distribution with f >= 0."""
    p = jnp.asarray(config["discrete_p"], jnp.float32)
    f = jnp.asarray(config["discrete_f"], jnp.float32)
    exact = float(jnp.sum(p * f))
    q_star = mc.optimal_proposal(p, f)
    uniform = jnp.full(p.shape, 1.0 / p.shape[0])
    n = config["discrete_num_samples"]

    def sampler(q):
        return lambda k, m: jax.random.categorical(k, jnp.log(q), shape=(m,))

    def run(k, q):
        return mc.importance_sampling(
            k, lambda i: f[i], lambda i: jnp.log(p[i]), sampler(q), lambda i: jnp.log(q[i]), n
        )

    k_plain, k_uniform, k_star = jax.random.split(key, 3)
    plain = mc.monte_carlo(k_plain, lambda i: f[i], sampler(p), n)
    summary = {"discrete_exact": exact}
    for name, estimate in (
        ("plain", plain),
        ("uniform", run(k_uniform, uniform)),
        ("optimal", run(k_star, q_star)),
    ):
        summary[f"discrete_{name}_mean"] = float(estimate.mean)
        summary[f"discrete_{name}_standard_error"] = float(estimate.standard_error)
        logger.log(
            0,
            part="optimal_proposal",
            proposal=name,
            mean=estimate.mean,
            standard_error=estimate.standard_error,
        )
    return summary


def markov_chain(key, config: dict, logger) -> tuple[dict, np.ndarray]:
    """Distribution propagation, stationary distribution and a simulated chain."""
    a = jnp.asarray(config["transition_matrix"], jnp.float32)
    pi_power = markov.stationary_distribution_power(a)
    pi_eigen = markov.stationary_distribution_eigen(a)
    start = jnp.zeros(a.shape[0]).at[0].set(1.0)
    v = markov.propagate(a, start, config["num_propagation_steps"])
    tv = 0.5 * jnp.sum(jnp.abs(v - pi_eigen[None, :]), axis=-1)
    for t in range(tv.shape[0]):
        logger.log(t, part="markov", total_variation=tv[t])
    eigenvalues = np.sort(np.abs(np.linalg.eigvals(np.asarray(a, dtype=np.float64))))[::-1]
    kernel = functools.partial(markov.kernel, transition_matrix=a)
    _, (chain, _) = sample_chain(key, kernel, markov.init(0), config["num_chain_steps"])
    states = chain.position
    freq = markov.empirical_distribution(states, a.shape[0])
    ess = diagnostics.effective_sample_size(jax.nn.one_hot(states, a.shape[0])[None])
    below = np.nonzero(np.asarray(tv) < 1e-6)[0]
    summary = {
        "markov_power_vs_eigen_max_diff": float(jnp.max(jnp.abs(pi_power - pi_eigen))),
        "markov_stationary": np.asarray(pi_eigen).tolist(),
        "markov_empirical": np.asarray(freq).tolist(),
        "markov_max_frequency_error_in_se": float(
            jnp.max(jnp.abs(freq - pi_eigen) / jnp.sqrt(pi_eigen * (1 - pi_eigen) / ess))
        ),
        "markov_second_eigenvalue_modulus": float(eigenvalues[1]),
        "markov_tv_first": float(tv[1]),
        "markov_tv_last": float(tv[-1]),
        "markov_steps_to_tv_1e-6": int(below[0]) if below.size else -1,
    }
    return summary, np.asarray(tv)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run the three parts; write the plots into ``workdir``; return the metrics."""
    logger = workdir.logger
    k_rare, k_discrete, k_chain = jax.random.split(workdir.key, 3)
    with tqdm(total=3, desc="monte-carlo", disable=not workdir.progress) as bar:
        bar.set_postfix_str("rare event: plain MC vs importance sampling")
        summary, curves = rare_event(k_rare, config, logger)
        bar.update()
        bar.set_postfix_str("optimal proposal")
        summary.update(optimal_proposal(k_discrete, config, logger))
        bar.update()
        bar.set_postfix_str("Markov chain")
        chain_summary, tv = markov_chain(k_chain, config, logger)
        summary.update(chain_summary)
        bar.update()
    sizes = curves.pop("sizes")
    line_plot(
        workdir / "rare_event_sd.png",
        curves,
        x=sizes,
        xlabel="samples n",
        log_x=True,
        log_y=True,
        ylabel="sd of the estimate over repeats",
        title=f"P(x > {config['threshold']}), x ~ N(0, 1)",
    )
    rate = summary["markov_second_eigenvalue_modulus"]
    line_plot(
        workdir / "markov_convergence.png",
        {"TV(v_t, pi)": np.maximum(tv, 1e-12), "|lambda_2|^t": rate ** np.arange(tv.shape[0])},
        x=np.arange(tv.shape[0]),
        xlabel="step t",
        ylabel="total variation",
        log_y=True,
        title="Markov chain convergence",
    )
    return summary
