"""Smoke run of mcycle-regression: ``jaxdl run mcycle-regression --config smoke``; loss falls."""

from experiments.mcycle_regression.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_epochs=200, epochs_per_chunk=100, progress=False)
    return config
