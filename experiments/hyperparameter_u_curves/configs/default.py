"""MNIST-1D, MLP 40-64-10: learning-rate and width U-curves (3-fold CV).

Command: ``jaxdl run hyperparameter-u-curves`` (a few minutes on 2 CPU cores).
Expected (seed 0): validation error falls with the learning rate up to 1.0 (0.549) and the
runs diverge from 3.2 on; in the width, training error reaches 0 from 16 units while
validation error stays at 0.69-0.77 (see the README table).
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
        "u_curve_learning_rates": [1e-4, 10.0],
        "num_learning_rates": 11,
        "capacity_num_train": 300,
        "capacity_learning_rate": 0.05,
        "capacity_num_epochs": 1000,
        "widths": [1, 2, 4, 8, 16, 32, 64, 128, 256],
        "progress": True,
    }
