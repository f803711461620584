"""Smoke run of iris-mlp (seconds): ``jaxdl run iris-mlp --config smoke``; the loss falls."""

from experiments.iris_mlp.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_epochs=10, progress=False)
    return config
