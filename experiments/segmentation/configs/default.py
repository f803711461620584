"""Fully convolutional net (3 dilated 3x3 layers of 16, 1x1 to 3 classes) on 24x24 noisy
images with a disk and a square (same brightness); 600 training images, Adam 3e-3, batch 32,
8 epochs.

Command: ``jaxdl run segmentation``.
Expected: per-pixel test accuracy 0.955 (always answering "background": ~0.8), mean IoU
0.654 over the three classes, and ``predicted_masks.png``.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "image_size": 24,
        "noise_std": 0.3,
        "num_train": 600,
        "num_test": 200,
        "features": [16, 16, 16],
        "dilate": True,
        "learning_rate": 3e-3,
        "batch_size": 32,
        "num_epochs": 8,
        "epochs_per_chunk": 4,
        "progress": True,
    }
