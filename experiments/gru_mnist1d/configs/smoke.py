"""Seconds-long smoke run of gru-mnist1d (tests and CI): tiny data, a small GRU, few steps.

Command: ``jaxdl run gru-mnist1d --config smoke``; expected: the training loss falls.
"""

from experiments.gru_mnist1d.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_samples=500,
        num_hidden=16,
        learning_rate=2e-2,
        batch_size=50,
        num_steps=90,
        epochs_per_chunk=1,
        progress=False,
    )
    return config
