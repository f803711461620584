"""Seconds-long smoke run of universal-approximation (tests and CI).

Command: ``jaxdl run universal-approximation --config smoke``; expected: the loss falls and
the wider net has the smaller sup-error.
"""

from experiments.universal_approximation.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_train=64,
        num_eval=201,
        widths=[1, 16],
        depths=[2],
        param_budget=40,
        num_seeds=2,
        num_steps=150,
        learning_rate=3e-2,
        progress=False,
    )
    return config
