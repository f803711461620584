"""MLP 40-100-100-10 (ReLU) on MNIST-1D, Adam 1e-2, batch 100, 3,000 steps; about 0.70 test accuracy.

Command: ``jaxdl run mnist1d-mlp`` (under a minute on 2 CPU cores).
Expected: test accuracy in the MLP band of the MNIST-1D paper (68 %); at least 0.63.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 42,
        "num_samples": 5000,
        "hidden": [100, 100],
        "activation": "relu",
        "optimizer": "adam",
        "learning_rate": 1e-2,
        "batch_size": 100,
        "num_steps": 3000,
        "weight_decay": 1e-3,
        "epochs_per_chunk": 5,
        "checkpoint": True,
        "progress": True,
    }
