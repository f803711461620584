"""Smoke run: ``jaxdl run activation-boundaries --config smoke``; the loss falls."""

from experiments.activation_boundaries.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_samples=100, num_epochs=15, progress=False)
    return config
