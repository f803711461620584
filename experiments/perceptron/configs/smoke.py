"""Smoke run: ``jaxdl run perceptron --config smoke``; converges within the bound."""

from experiments.perceptron.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_samples=40, num_runs=3, margin=0.2)
    return config
