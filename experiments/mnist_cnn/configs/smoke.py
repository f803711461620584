"""Seconds-long smoke run of mnist-cnn: the slides' CNN only, 512 digits, 4 epochs.

Command: ``jaxdl run mnist-cnn --config smoke``; expected: the training loss falls.
"""

from experiments.mnist_cnn.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        train_subset=256,
        models=["slides_cnn"],
        learning_rate=1e-2,
        num_epochs=4,
        epochs_per_chunk=4,
        progress=False,
    )
    return config
