"""GD vs SGD with batch 1, 4 and 64 on scikit-learn digits (64-256-10 MLP, log-loss per epoch).

The course compares b = 4 and b = 64 on MNIST with a 784-256-10 network; digits is the 8x8
stand-in that ships with scikit-learn (``--config mnist`` runs the real MNIST digits).
Command: ``jaxdl run sgd-batch-sizes``. Expected: per
epoch, small batches descend fastest but noisily, full-batch GD slowest (loss.png).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "dataset": "digits",
        "num_hidden": 256,
        "learning_rate": 0.05,
        "batch_sizes": [0, 1, 4, 64],
        "num_epochs": 30,
        "progress": True,
    }
