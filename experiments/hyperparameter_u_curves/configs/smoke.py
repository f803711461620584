"""Seconds-long smoke run of hyperparameter-u-curves (tests and CI).

Command: ``jaxdl run hyperparameter-u-curves --config smoke``; expected: the loss falls and
the tables are filled.
"""

from experiments.hyperparameter_u_curves.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_samples=250,
        num_folds=2,
        hidden=8,
        num_epochs=3,
        num_learning_rates=3,
        capacity_num_train=60,
        capacity_num_epochs=20,
        widths=[8],
        progress=False,
    )
    return config
