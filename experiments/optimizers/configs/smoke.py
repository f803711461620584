"""Seconds-long smoke run of the optimizers experiment (tests and CI).

Command: ``jaxdl run optimizers --config smoke``; expected: the training loss of
momentum and Adam falls within 10 epochs on a digits subset and both are well above
chance (0.1) on the test split (every optimizer's
convergence is tested in ``tests/optim/test_suite.py``).
"""

from experiments.optimizers.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(hidden=16, num_epochs=10, batch_size=64, num_train=512, progress=False)
    config["optimizers"] = {name: config["optimizers"][name] for name in ("momentum", "adam")}
    return config
