"""Seconds-long smoke run of hyperparameter-search (tests and CI).

Command: ``jaxdl run hyperparameter-search --config smoke``; expected: the loss falls and
every method reports a best score per seed.
"""

from experiments.hyperparameter_search.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_samples=250,
        num_folds=2,
        hidden=8,
        num_epochs=3,
        grid_side=2,
        num_initial=2,
        num_rounds=1,
        round_size=2,
        num_seeds=1,
        progress=False,
    )
    return config
