"""MNIST-1D CNN (3 conv layers of 32 channels, kernel 5, stride 2), AdamW 3e-3, 4,000 steps.

Command: ``jaxdl run mnist1d-cnn``.
Expected: test accuracy >= 0.90 (the MNIST-1D paper's CNN: 94 %); the same CNN on inputs
whose 40 positions are shuffled by one fixed permutation collapses towards the paper's
~56 % (measured numbers in the experiment's README).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 42,
        "num_samples": 5000,
        "val_fraction": 0.1,
        "features": [32, 32, 32],
        "kernel_size": 5,
        "strides": 2,
        "learning_rate": 3e-3,
        "weight_decay": 1e-4,
        "batch_size": 100,
        "num_steps": 4000,
        "epochs_per_chunk": 10,
        "shuffled_control": True,
        "progress": True,
    }
