"""Seconds-long smoke run of the initialization experiment (tests and CI).

Command: ``jaxdl run initialization --config smoke``; expected: the random-init loss
falls, the symmetric hidden units stay identical.
"""

from experiments.initialization.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        depth=6,
        width=32,
        num_examples=64,
        xor_num_train=64,
        xor_num_test=64,
        num_epochs=60,
        epochs_per_chunk=30,
        progress=False,
    )
    return config
