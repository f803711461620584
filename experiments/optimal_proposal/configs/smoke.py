"""Seconds-long smoke run of the optimal-proposal experiment (tests and CI).

Command: ``jaxdl run optimal-proposal --config smoke``; expected: q* has zero standard
error and the exact mean, plain Monte Carlo a positive one.
"""

from experiments.optimal_proposal.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_samples=200)
    return config
