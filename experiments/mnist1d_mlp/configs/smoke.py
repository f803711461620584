"""Seconds-long smoke run of mnist1d-mlp (tests and CI): tiny data, few steps.

Command: ``jaxdl run mnist1d-mlp --config smoke``; expected: the training loss falls.
"""

from experiments.mnist1d_mlp.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_samples=500,
        hidden=[32],
        batch_size=50,
        num_steps=120,
        epochs_per_chunk=1,
        progress=False,
    )
    return config
