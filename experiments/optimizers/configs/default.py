"""SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam on digits; GD vs momentum in a valley.

Command: ``jaxdl run optimizers`` (about 20 s of CPU time).
Expected: on scikit-learn digits (64-64-10 ReLU MLP, minibatches of 32, 30 epochs, same
initial weights) the final training loss is about 0.14 for SGD (rate 0.05), 0.08 for
Adam and RMSProp (rate 0.001), 0.03 for AdaGrad and 0.014 for momentum and Nesterov
(0.9); test accuracy 95-97.5% for all.
On the quadratic valley with condition number 25 (learning rate 0.075), gradient
descent zig-zags across the narrow axis and needs 113 steps to bring the loss below
1e-6, momentum 0.6 needs 31; conjugate gradients needs 2 steps and Newton 1.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        # part 1: loss curves on digits
        "hidden": 64,
        "num_epochs": 30,
        "batch_size": 32,
        "optimizers": {
            "sgd": {"learning_rate": 0.05},
            "momentum": {"learning_rate": 0.05, "momentum": 0.9},
            "nesterov": {"learning_rate": 0.05, "momentum": 0.9},
            "adagrad": {"learning_rate": 0.05},
            "rmsprop": {"learning_rate": 0.001, "decay_rate": 0.9},
            "adam": {"learning_rate": 0.001},
        },
        "progress": True,
        # part 2: an ill-conditioned 2-D quadratic J = (x^2 + kappa y^2) / 2
        "condition_number": 25.0,
        "start": [-9.0, 1.5],
        "valley_learning_rate": 0.075,
        "valley_momentum": 0.6,
        "valley_steps": 300,
        "valley_tolerance": 1e-6,
    }
