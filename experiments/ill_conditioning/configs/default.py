"""Gradient descent vs momentum (and CG, Newton) on a quadratic valley of condition number 25.

Command: ``jaxdl run ill-conditioning`` (a few seconds of CPU time).
Expected: from (-9, 1.5) with learning rate 0.075, gradient descent zig-zags across the
narrow axis and needs 113 steps to bring the loss below 1e-6, momentum 0.6 needs 31;
conjugate gradients needs 2 steps and Newton 1.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        # the valley J = (x^2 + kappa y^2) / 2
        "condition_number": 25.0,
        "start": [-9.0, 1.5],
        "learning_rate": 0.075,
        "momentum": 0.6,
        "num_steps": 300,
        "tolerance": 1e-6,
    }
