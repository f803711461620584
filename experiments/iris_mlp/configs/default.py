"""Iris, 2 features (petal length/width), 10 sigmoid hidden units, sigmoid outputs, MSE, SGD.

Command: ``jaxdl run iris-mlp``. Expected: test accuracy about 0.93-0.97 (30 held-out flowers).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "features": [2, 3],
        "num_hidden": 10,
        "learning_rate": 0.5,
        "batch_size": 1,
        "num_epochs": 200,
        "progress": True,
    }
