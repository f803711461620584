"""Seconds-long smoke run of the regularization-overfitting experiment (tests and CI).

Command: ``jaxdl run regularization-overfitting --config smoke``; expected: the training
loss falls; early stopping picks a step and the retrain on all data runs that many steps.
Runs only early stopping (with the retrain on all data).
"""

from experiments.regularization_overfitting.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_train=32,
        num_test=64,
        hidden=[16, 16],
        num_epochs=40,
        runs=["early_stopping"],
        patience=5,
        eval_every=2,
        epochs_per_chunk=40,
        progress=False,
    )
    return config
