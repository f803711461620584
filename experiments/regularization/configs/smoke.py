"""Seconds-long smoke run of the regularization experiment (tests and CI).

Command: ``jaxdl run regularization --config smoke``; expected: the training losses fall
and the L1 run already has exact zeros. Runs only L2 / L1 and early stopping
(with the retrain on all data).
"""

from experiments.regularization.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        sparsity_num_train=64,
        sparsity_num_test=64,
        sparsity_num_epochs=60,
        sparsity_runs=["l2", "l1"],
        l1_strength=0.05,
        moons_num_train=32,
        moons_num_test=64,
        overfit_hidden=[16, 16],
        overfit_num_epochs=40,
        overfit_runs=["early_stopping"],
        patience=5,
        eval_every=2,
        epochs_per_chunk=20,
        progress=False,
    )
    return config
