"""Seconds-long smoke run of segmentation: 64 images of 16x16, 3 epochs.

Command: ``jaxdl run segmentation --config smoke``; expected: the training loss falls.
"""

from experiments.segmentation.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        image_size=16,
        num_train=64,
        num_test=8,
        features=[8, 8],
        batch_size=16,
        num_epochs=3,
        epochs_per_chunk=3,
        learning_rate=1e-2,
        progress=False,
    )
    return config
