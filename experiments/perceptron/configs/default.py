"""Perceptron rule on separable 2-D data (margin 0.1), 20 runs with different visiting orders.

Command: ``jaxdl run perceptron``. Expected: every run converges; the largest number of updates
stays below the bound R^2/gamma^2 (15 updates at most against a bound of 180).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "num_samples": 200,
        "dim": 2,
        "margin": 0.1,
        "num_runs": 20,
        "learning_rate": 1.0,
        "max_steps": 100_000,
    }
