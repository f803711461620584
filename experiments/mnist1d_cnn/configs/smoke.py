"""Seconds-long smoke run of mnist1d-cnn: tiny data, few steps, no shuffled control.

Command: ``jaxdl run mnist1d-cnn --config smoke``; expected: the training loss falls.
"""

from experiments.mnist1d_cnn.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_samples=400,
        features=[8, 8],
        kernel_size=[5, 3],
        batch_size=50,
        num_steps=60,
        epochs_per_chunk=4,
        shuffled_control=False,
        progress=False,
    )
    return config
