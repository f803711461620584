"""Seconds-long smoke run of the ill-conditioning experiment (tests and CI).

Command: ``jaxdl run ill-conditioning --config smoke``; expected: momentum crosses the
valley in fewer steps than gradient descent (31 against 113); CG and Newton reach the
minimum in 2 and 1 steps.
"""

from experiments.ill_conditioning.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_steps=150)
    return config
