"""Seconds-long smoke run of the importance-sampling experiment (tests and CI).

Command: ``jaxdl run importance-sampling --config smoke``; expected: both spreads fall
from n = 100 to n = 1000 and importance sampling's variance is more than 10x smaller.
"""

from experiments.importance_sampling.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(sample_sizes=[100, 1000], num_repeats=50)
    return config
