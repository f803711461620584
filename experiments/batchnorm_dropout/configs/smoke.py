"""Seconds-long smoke run of batchnorm-dropout: batch norm only, 256 digits, 2 epochs.

Command: ``jaxdl run batchnorm-dropout --config smoke``; expected: the training loss falls.
"""

from experiments.batchnorm_dropout.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        train_subset=256,
        variants=["batchnorm"],
        hidden=[32],
        num_epochs=2,
        epochs_per_chunk=2,
        progress=False,
    )
    return config
