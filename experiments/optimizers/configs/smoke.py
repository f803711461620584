"""Seconds-long smoke run of the optimizers experiment (tests and CI).

Command: ``jaxdl run optimizers --config smoke``; expected: the training loss of SGD,
momentum and Adam falls within 3 epochs on a digits subset (every optimizer's
convergence is tested in ``tests/optim/test_suite.py``); momentum crosses the valley in
fewer steps than gradient descent.
"""

from experiments.optimizers.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        hidden=16, num_epochs=3, batch_size=64, num_train=512, progress=False, valley_steps=200
    )
    config["optimizers"] = {
        name: config["optimizers"][name] for name in ("sgd", "momentum", "adam")
    }
    return config
