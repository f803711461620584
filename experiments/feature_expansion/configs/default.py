"""Least squares on fixed features of the standardized time (MCycle, 133 points).

Polynomial features ``[1, x, x^2, x^3]`` and the slides' sigmoid features
``sigma(5x + 5), sigma(5x - 5), sigma(5x - 10)`` (plus a bias), each fitted in closed form,
and polynomial degrees 1..``max_degree``.

Command: ``jaxdl run feature-expansion``. Expected: training RMSE 39.4 g (cubic) and 43.1 g
(three sigmoids) against a target std of 48.1 g; 22.7 g at degree 12 (plots).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "degree": 3,
        "max_degree": 12,
        "sigmoid_slopes": [5.0, 5.0, 5.0],
        "sigmoid_offsets": [5.0, -5.0, -10.0],
    }
