"""sin(4x)cos(x) on [-pi, pi] by tanh nets: sup-error vs width 1..64; depth 1/2/3 at ~250 params.

Command: ``jaxdl run universal-approximation`` (a few minutes on 2 CPU cores).
Expected: the sup-error falls by more than 10x from 1 to 64 hidden units (median over 3
seeds); see the README for the measured table and the depth comparison.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "num_train": 256,
        "num_eval": 2001,
        "widths": [1, 2, 4, 8, 16, 32, 64],
        "depths": [1, 2, 3],
        "param_budget": 250,
        "num_seeds": 3,
        "num_steps": 10000,
        "learning_rate": 5e-3,
        "progress": True,
    }
