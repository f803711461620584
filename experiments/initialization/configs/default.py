"""Why initialization matters: activation scale through 20 layers, and symmetric weights.

Command: ``jaxdl run initialization`` (about half a minute on 2 CPU cores).
Expected: with N(0, g^2/m) weights the activation std of a 20-layer ReLU net stays near its
input scale only for g = sqrt(2) (He); g = 1 shrinks it about 1000-fold (0.58 -> 5e-4)
and g = 2 grows it about 500-fold (1.2 -> 560). Tanh with g = 0.5 vanishes (0.42 -> 8e-7).
A tanh MLP whose weights all start at the same constant keeps identical hidden units
(``symmetric_unit_spread`` = 0) and gets about 0.74 test accuracy on XOR (what one hidden
unit can do), while random init reaches 1.0.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        # part 1: forward / backward signal through a deep plain network
        "depth": 20,
        "width": 256,
        "num_examples": 512,
        "gains": [0.5, 1.0, 1.4142135623730951, 2.0],
        "activations": ["tanh", "relu"],
        # part 2: symmetric vs random initialization on XOR
        "xor_num_train": 200,
        "xor_num_test": 400,
        "xor_noise": 0.1,
        "xor_hidden": 8,
        "symmetric_value": 0.5,
        "learning_rate": 0.5,
        "num_epochs": 1000,
        "epochs_per_chunk": 100,
        "progress": True,
    }
