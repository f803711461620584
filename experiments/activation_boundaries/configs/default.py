"""A 2-4-2-2 network with tanh vs ReLU hidden units on two interleaved moons.

Command: ``jaxdl run activation-boundaries``. Expected: both reach about 0.97-1.0 training accuracy;
the tanh boundary is smooth, the ReLU boundary piecewise linear (decision_boundaries.png).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "num_samples": 400,
        "noise": 0.1,
        "hidden": [4, 2],
        "activations": ["tanh", "relu"],
        "learning_rate": 0.03,
        "bias_init": 0.1,
        "batch_size": 20,
        "num_epochs": 300,
        "progress": True,
    }
