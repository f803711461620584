"""Seconds-long smoke run of seq2seq (tests and CI): short strings, a small model, few steps.

Command: ``jaxdl run seq2seq --config smoke``; expected: the teacher-forced loss falls.
"""

from experiments.seq2seq.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        length=3,
        num_symbols=4,
        num_train=256,
        num_val=64,
        num_hidden=16,
        learning_rate=1e-2,
        batch_size=32,
        num_steps=40,
        progress=False,
    )
    return config
