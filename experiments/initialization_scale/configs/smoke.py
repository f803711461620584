"""Seconds-long smoke run of the initialization-scale experiment (tests and CI).

Command: ``jaxdl run initialization-scale --config smoke``; expected: for ReLU, gain 1
shrinks and gain 2 grows the activations with depth; gain sqrt(2) keeps their scale.
"""

from experiments.initialization_scale.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(depth=6, width=32, num_examples=64)
    return config
