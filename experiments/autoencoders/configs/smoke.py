"""Seconds-long smoke run of autoencoders (tests and CI): three variants, a few epochs.

Command: ``jaxdl run autoencoders --config smoke``; expected: every variant's training
loss falls; the L1 penalty already zeroes more code units than no penalty.
"""

from experiments.autoencoders.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        hidden=16,
        overcomplete_size=32,
        l1_weight=0.05,
        learning_rate=1e-2,
        num_epochs=3,
        batch_size=128,
        epochs_per_chunk=3,
        progress=False,
        variants=["linear", "overcomplete", "sparse"],
    )
    return config
