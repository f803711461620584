"""Weight decay, dropout and early stopping against overfitting 60 noisy two-moons points.

Command: ``jaxdl run regularization-overfitting`` (about 30 s of CPU time).
Expected: on noisy two-moons with 60 training points (10 % of the labels flipped) every
regularizer (weight decay, dropout, early stopping) gets a far lower test loss (0.34 to
0.64) than the unregularized network (1.8), which fits the flipped labels (train accuracy
1.0); test accuracies all lie between 0.83 and 0.85 on this draw.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "num_train": 60,
        "num_test": 2000,
        "noise": 0.25,
        "label_noise": 0.1,
        "hidden": [128, 128],
        "learning_rate": 0.05,
        "momentum": 0.9,
        "num_epochs": 2000,  # full batch: one step per epoch
        "runs": ["none", "weight_decay", "dropout", "early_stopping"],
        "weight_decay": 3e-3,
        "dropout_keep_probability": 0.5,
        "validation_fraction": 0.25,
        "patience": 100,
        "eval_every": 5,
        "epochs_per_chunk": 100,
        "progress": True,
    }
