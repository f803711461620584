"""Seconds-long smoke run of the Monte Carlo experiment (tests and CI).

Command: ``jaxdl run monte-carlo --config smoke``; expected: importance sampling has a
lower spread than plain Monte Carlo, q* has zero standard error, the chain converges.
"""

from experiments.monte_carlo.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(sample_sizes=[100, 1000], num_repeats=50, num_chain_steps=2000, progress=False)
    return config
