"""MNIST-1D CNN as in the paper (3 conv layers of 25 channels, kernels 5/3/3, stride 2), Adam 1e-2.

Command: ``jaxdl run mnist1d-cnn``.
Expected: test accuracy 0.927 (>= 0.90; the MNIST-1D paper's CNN: 94 %); the same CNN on inputs
whose 40 positions are shuffled by one fixed permutation collapses to 0.591 (the paper's
~56 %).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 42,
        "num_samples": 5000,
        "val_fraction": 0.1,
        "features": [25, 25, 25],
        "kernel_size": [5, 3, 3],
        "strides": 2,
        "learning_rate": 1e-2,
        "weight_decay": 0.0,
        "batch_size": 100,
        "num_steps": 6000,
        "epochs_per_chunk": 10,
        "shuffled_control": True,
        "progress": True,
    }
