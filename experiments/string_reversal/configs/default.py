"""Reverse random 10-letter strings (26 letters): Transformer N = 2, d = 64, 4 heads, 2,000 steps.

Command: ``jaxdl run string-reversal`` (a few minutes on a busy 2-core CPU).
Expected: greedy (KV-cached) test exact match close to 1.0 (see the README for the measured
value); the last decoder layer's cross-attention concentrates on the mirror position
(anti-diagonal in ``attention.png``).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "length": 10,
        "alphabet": 26,
        "num_train": 20_000,
        "num_val": 500,
        "num_test": 1000,
        "num_layers": 2,
        "features": 64,
        "num_heads": 4,
        "learning_rate": 1e-3,
        "warmup_steps": 100,
        "batch_size": 64,
        "num_steps": 2000,
        "epochs_per_chunk": 1,
        "checkpoint": True,
        "progress": True,
    }
