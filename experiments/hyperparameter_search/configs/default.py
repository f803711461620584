"""MNIST-1D, MLP 40-64-10: 3x3 grid vs 9 random (lr, momentum); lr and width U-curves (3-fold CV).

Command: ``jaxdl run hyperparameter-search`` (a few minutes on 2 CPU cores).
Expected: random search tries 9 distinct learning rates where the grid tries 3 and finds
an equal or better cross-validated accuracy; the validation error is U-shaped in the
learning rate; in the width it falls fast and then flattens while the training error
keeps falling (see the README table).
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 42,
        "num_samples": 1500,  # 1,200 for cross-validation, 300 held out (unused here)
        "num_folds": 3,
        "hidden": 64,
        "num_epochs": 40,
        "batch_size": 50,
        "grid_side": 3,
        "learning_rate_range": [1e-3, 1.0],
        "max_momentum": 0.95,
        "u_curve_learning_rates": [1e-4, 10.0],
        "num_learning_rates": 11,
        "capacity_num_train": 300,
        "capacity_learning_rate": 0.05,
        "capacity_num_epochs": 1000,
        "widths": [1, 2, 4, 8, 16, 32, 64, 128, 256],
        "progress": True,
    }
