"""MLP 784-200-200-10 on the MNIST digits, SGD 0.05 + momentum 0.9, batch 64, 20 epochs; four
variants: plain, batch norm, dropout (keep 0.5), both; batch-norm variants tested with the
running averages and with the course's final-phase statistics.

Command: ``jaxdl run batchnorm-dropout``.
Expected: batch norm 0.948 (running average) / 0.949 (final phase), plain 0.947, dropout
0.938, both 0.946 / 0.943; batch norm's first-epoch training loss 0.555 vs 0.949 plain.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "train_subset": 0,
        "variants": ["plain", "batchnorm", "dropout", "batchnorm_dropout"],
        "hidden": [200, 200],
        "keep_probability": 0.5,
        "learning_rate": 0.05,
        "momentum": 0.9,
        "batch_size": 64,
        "num_epochs": 20,
        "epochs_per_chunk": 5,
        "progress": True,
    }
