"""Activation scale through 20 plain layers of width 256 for weight gains 0.5 to 2.

Command: ``jaxdl run initialization-scale`` (a few seconds on 2 CPU cores).
Expected: with N(0, g^2/m) weights the activation std of a 20-layer ReLU net stays near its
input scale only for g = sqrt(2) (He); g = 1 shrinks it about 750-fold (0.58 -> 8e-4)
and g = 2 grows it about 700-fold (1.2 -> 810). Tanh with g = 0.5 vanishes (0.42 -> 7e-7).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "depth": 20,
        "width": 256,
        "num_examples": 512,
        "gains": [0.5, 1.0, 1.4142135623730951, 2.0],
        "activations": ["tanh", "relu"],
    }
