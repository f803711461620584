"""MCycle (MASS::mcycle, 133 points): 1-10-1 network, sigmoid hidden units, linear output, MSE.

Command: ``jaxdl run mcycle-regression``. Expected: training RMSE about 22-24 g (data std 48 g),
the hidden units' responses select regions of time (plots).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "num_hidden": 10,
        "learning_rate": 0.01,
        "num_epochs": 5000,
        "epochs_per_chunk": 500,
        "progress": True,
    }
