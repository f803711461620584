"""Seconds-long smoke run of the MC dropout experiment (tests and CI).

Command: ``jaxdl run mc-dropout --config smoke``; expected: the training loss falls and
the MC spread is positive everywhere.
"""

from experiments.mc_dropout.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_train=64,
        num_test=32,
        num_grid=41,
        features=[16, 16, 1],
        num_epochs=20,
        batch_size=16,
        num_passes=16,
        progress=False,
    )
    return config
