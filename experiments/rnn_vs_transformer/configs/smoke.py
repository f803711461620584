"""Seconds-long smoke run of rnn-vs-transformer (tests and CI): GRU vs Transformer, 2 seeds.

Command: ``jaxdl run rnn-vs-transformer --config smoke``; expected: every loss falls.
"""

from experiments.rnn_vs_transformer.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        models=["gru", "transformer"],
        length=5,
        num_symbols=4,
        num_train=320,
        num_val=32,
        num_test=64,
        num_seeds=2,
        rnn_hidden=16,
        transformer_layers=1,
        transformer_features=16,
        transformer_heads=2,
        learning_rate=1e-2,
        warmup_steps=3,
        batch_size=32,
        num_steps=30,
        progress=False,
    )
    return config
