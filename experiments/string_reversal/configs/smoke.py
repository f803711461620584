"""Seconds-long smoke run of string-reversal (tests and CI): 5-letter strings, 60 steps.

Command: ``jaxdl run string-reversal --config smoke``; expected: the training loss falls.
"""

from experiments.string_reversal.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        length=5,
        alphabet=6,
        num_train=640,
        num_val=64,
        num_test=64,
        num_layers=1,
        features=32,
        num_heads=2,
        learning_rate=3e-3,
        warmup_steps=5,
        num_steps=60,
        progress=False,
    )
    return config
