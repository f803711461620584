"""L1 vs L2 sparsity and dropout / weight decay / early stopping against overfitting.

Command: ``jaxdl run regularization`` (about a minute on 2 CPU cores).
Expected: proximal L1 sets most weights to exactly 0 (``zero_fraction_l1`` about 0.9) and
generalizes best (test accuracy about 0.92 against 0.76 without penalty), while L2 and no
penalty leave no weight at exactly 0; on noisy two-moons with 60 training points every
regularizer (weight decay, dropout, early stopping) gets a lower test loss than the
unregularized network (about 0.6), which fits the flipped labels.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        # part 1: sparsity of L1 (proximal) vs L2 (weight decay) on a 20-feature problem
        "sparsity_num_train": 200,
        "sparsity_num_test": 1000,
        "sparsity_num_features": 20,
        "sparsity_num_relevant": 3,
        "sparsity_hidden": 16,
        "sparsity_learning_rate": 0.1,
        "sparsity_num_epochs": 1500,
        "l1_strength": 1e-2,
        "l2_strength": 1e-2,
        "sparsity_runs": ["none", "l2", "l1"],
        # part 2: overfitting on noisy two moons
        "moons_num_train": 60,
        "moons_num_test": 2000,
        "moons_noise": 0.25,
        "label_noise": 0.1,
        "overfit_hidden": [128, 128],
        "overfit_learning_rate": 0.05,
        "overfit_momentum": 0.9,
        "overfit_num_epochs": 2000,
        "overfit_runs": ["none", "weight_decay", "dropout", "early_stopping"],
        "weight_decay": 3e-3,
        "dropout_keep_probability": 0.5,
        "validation_fraction": 0.25,
        "patience": 100,
        "eval_every": 5,
        "epochs_per_chunk": 100,
        "progress": True,
    }
