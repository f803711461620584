"""A Markov chain converges to its stationary distribution at the rate |lambda_2|^t.

A column-stochastic matrix ``A`` (``A[i, j] = T(x' = i | x = j)``, the course's
convention) is iterated ``v_t = A v_{t-1}`` from a point mass; the total-variation
distance to the stationary distribution (power iteration and eigenvector agree) falls
geometrically at the rate of the second-largest eigenvalue modulus. A simulated chain
(``jaxdl.sampling.markov.kernel`` driven by ``sample_chain``) visits the states with the
stationary frequencies, within standard errors from its effective sample size.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.experiment import Run, line_plot
from jaxdl.sampling import diagnostics, markov, sample_chain


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Distribution propagation, stationary distribution and a simulated chain."""
    a = jnp.asarray(config["transition_matrix"], jnp.float32)
    pi_power = markov.stationary_distribution_power(a)
    pi_eigen = markov.stationary_distribution_eigen(a)
    start = jnp.zeros(a.shape[0]).at[0].set(1.0)
    v = markov.propagate(a, start, config["num_propagation_steps"])
    tv = np.asarray(0.5 * jnp.sum(jnp.abs(v - pi_eigen[None, :]), axis=-1))
    for t in range(tv.shape[0]):
        workdir.logger.log(t, total_variation=tv[t])
    eigenvalues = np.sort(np.abs(np.linalg.eigvals(np.asarray(a, dtype=np.float64))))[::-1]
    kernel = functools.partial(markov.kernel, transition_matrix=a)
    _, (chain, _) = sample_chain(workdir.key, kernel, markov.init(0), config["num_chain_steps"])
    states = chain.position
    freq = markov.empirical_distribution(states, a.shape[0])
    ess = diagnostics.effective_sample_size(jax.nn.one_hot(states, a.shape[0])[None])
    below = np.nonzero(tv < 1e-6)[0]
    rate = float(eigenvalues[1])
    line_plot(
        workdir / "convergence.png",
        {"TV(v_t, pi)": np.maximum(tv, 1e-12), "|lambda_2|^t": rate ** np.arange(tv.shape[0])},
        x=np.arange(tv.shape[0]),
        xlabel="step t",
        ylabel="total variation",
        log_y=True,
        title="Markov chain convergence",
    )
    return {
        "power_vs_eigen_max_diff": float(jnp.max(jnp.abs(pi_power - pi_eigen))),
        "stationary": np.asarray(pi_eigen).tolist(),
        "empirical": np.asarray(freq).tolist(),
        "max_frequency_error_in_se": float(
            jnp.max(jnp.abs(freq - pi_eigen) / jnp.sqrt(pi_eigen * (1 - pi_eigen) / ess))
        ),
        "second_eigenvalue_modulus": rate,
        "tv_first": float(tv[1]),
        "tv_last": float(tv[-1]),
        "steps_to_tv_1e-6": int(below[0]) if below.size else -1,
    }
