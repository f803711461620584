"""Seconds-long smoke run of bert-mlm (tests and CI): 30,000 characters, 40 steps.

Command: ``jaxdl run bert-mlm --config smoke``; expected: the training loss falls.
"""

from experiments.bert_mlm.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        max_chars=30_000,
        bpe_vocab_size=300,
        block_length=32,
        num_layers=1,
        features=32,
        num_heads=2,
        dropout_rate=0.0,
        learning_rate=3e-3,
        warmup_steps=5,
        batch_size=16,
        num_steps=40,
        plot_tokens=16,
        checkpoint=False,
        progress=False,
    )
    return config
