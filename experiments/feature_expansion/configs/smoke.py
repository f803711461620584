"""Smoke run of feature-expansion: ``jaxdl run feature-expansion --config smoke``."""

from experiments.feature_expansion.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(max_degree=4)
    return config
