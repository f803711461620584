"""Zachary's karate club: semi-supervised node classification by a 2-layer GCN (Kipf 2017).

Command: ``jaxdl run karate-club`` (seconds).
Expected: with 4 labelled members per club, about 0.9 test accuracy on the held-out
members (measured numbers in the README); the 2-d output embeddings separate the clubs.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "labelled_per_class": 4,
        "num_val": 6,
        "hidden": 16,
        "num_epochs": 200,
        "learning_rate": 1e-2,
        "weight_decay": 5e-4,
        "progress": True,
    }
