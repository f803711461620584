"""MNIST-1D MLP 40-100-100-10 (ReLU), Adam 1e-2, L2 1e-3, batch 100, 3,000 steps: 0.65 test acc.

Command: ``jaxdl run mnist1d-mlp`` (under a minute on 2 CPU cores).
Expected: test accuracy 0.659 (seeds 1, 2: 0.663, 0.650), the MLP band of the MNIST-1D paper
(68 %); the acceptance threshold is 0.63.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 42,
        "num_samples": 5000,
        "val_fraction": 0.1,
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
