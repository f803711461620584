"""Seconds-long smoke run of mnist-cnn: the slides' CNN only, 512 digits, 2 epochs.

Command: ``jaxdl run mnist-cnn --config smoke``; expected: the training loss falls.
"""

from experiments.mnist_cnn.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_train=256,
        models=["slides_cnn"],
        learning_rate=3e-3,
        num_epochs=2,
        epochs_per_chunk=2,
        progress=False,
    )
    return config
