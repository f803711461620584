"""Seconds-long smoke run of the initialization-symmetry experiment (tests and CI).

Command: ``jaxdl run initialization-symmetry --config smoke``; expected: the random-init
loss falls, the symmetric hidden units start and stay identical.
"""

from experiments.initialization_symmetry.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_train=64, num_test=64, num_epochs=60, epochs_per_chunk=60, progress=False)
    return config
