"""Reverse strings of 8 symbols over an alphabet of 8 with a GRU encoder-decoder (128 units),
Adam 3e-3, 3,000 steps of batch 64; once trained with teacher forcing, once free running.

Command: ``jaxdl run seq2seq`` (sorting: ``--set task=sort``).
Expected: free-running exact-match accuracy on the test strings, one number per training
mode; see the README for the measured table.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "task": "reverse",
        "length": 8,
        "num_symbols": 8,
        "num_train": 12800,
        "num_val": 1000,
        "trainings": ["teacher_forcing", "free_running"],
        "cell": "gru_library",
        "num_hidden": 128,
        "learning_rate": 3e-3,
        "clip_norm": 1.0,
        "batch_size": 64,
        "num_steps": 3000,
        "progress": True,
    }
