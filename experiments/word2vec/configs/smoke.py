"""Seconds-long smoke run of word2vec (tests and CI): 60,000 characters, about 30 steps per kind.

Command: ``jaxdl run word2vec --config smoke``; expected: the training loss falls.
"""

from experiments.word2vec.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        max_chars=60_000,
        min_count=3,
        features=16,
        learning_rate=3e-2,
        num_steps=30,
        batch_size=256,
        progress=False,
    )
    return config
