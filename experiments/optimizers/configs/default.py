"""SGD, momentum, Nesterov, AdaGrad, RMSProp and Adam on digits, from the same initial weights.

Command: ``jaxdl run optimizers`` (about 20 s of CPU time).
Expected: on scikit-learn digits (64-64-10 ReLU MLP, minibatches of 32, 30 epochs, same
initial weights) the final training loss is about 0.14 for SGD (rate 0.05), 0.08 for
Adam and RMSProp (rate 0.001), 0.03 for AdaGrad and 0.014 for momentum and Nesterov
(0.9); test accuracy 95-97.5% for all.
"""


def get_config() -> dict:
    return {
        "seed": 0,
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
    }
