"""Seconds-long smoke run of long-term-rnn (tests and CI): short sequences, two models.

Command: ``jaxdl run long-term-rnn --config smoke``; expected: the LSTM's training loss falls.
"""

from experiments.long_term_rnn.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        length=20,
        num_train=256,
        num_val=64,
        models=["lstm"],
        num_hidden=8,
        learning_rate=1e-2,
        batch_size=32,
        num_steps=40,
        num_gradient_sequences=4,
        progress=False,
    )
    return config
