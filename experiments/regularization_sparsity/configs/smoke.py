"""Seconds-long smoke run of the regularization-sparsity experiment (tests and CI).

Command: ``jaxdl run regularization-sparsity --config smoke``; expected: both training
losses fall, the L1 run already has exact zeros and the L2 run none.
"""

from experiments.regularization_sparsity.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_train=64,
        num_test=64,
        num_epochs=60,
        epochs_per_chunk=60,
        runs=["l2", "l1"],
        l1_strength=0.05,
        progress=False,
    )
    return config
