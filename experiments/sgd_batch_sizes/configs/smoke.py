"""Smoke run: ``jaxdl run sgd-batch-sizes --config smoke``; every variant's loss falls."""

from experiments.sgd_batch_sizes.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_hidden=32, batch_sizes=[0, 4, 64], num_epochs=4, progress=False)
    return config
