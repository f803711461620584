"""Symmetric (constant) vs random initial weights for a 2-8-2 tanh MLP on XOR.

Command: ``jaxdl run initialization-symmetry`` (about 10 s on 2 CPU cores).
Expected: the MLP whose weights all start at 0.5 keeps identical hidden units
(``symmetric_unit_spread`` = 0 exactly) and gets about 0.76 test accuracy on XOR (what one
hidden unit can do), while random initialization reaches 1.0.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "num_train": 200,
        "num_test": 400,
        "noise": 0.1,
        "num_hidden": 8,
        "symmetric_value": 0.5,
        "learning_rate": 0.5,
        "num_epochs": 1000,  # full batch: one step per epoch
        "epochs_per_chunk": 100,
        "progress": True,
    }
