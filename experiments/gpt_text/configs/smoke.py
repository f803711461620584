"""Seconds-long smoke run of gpt-text (tests and CI): 20,000 characters, 40 steps.

Command: ``jaxdl run gpt-text --config smoke``; expected: the training loss falls.
"""

from experiments.gpt_text.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        max_chars=20_000,
        block_length=32,
        max_length=64,
        num_layers=1,
        features=32,
        num_heads=2,
        batch_size=16,
        num_steps=40,
        warmup_steps=5,
        chunk_size=128,
        sample_length=16,
        progress=False,
    )
    return config
