"""L1 vs L2 sparsity: a 20-16-2 ReLU MLP on 20 features of which 3 decide the label.

Command: ``jaxdl run regularization-sparsity`` (about 15 s of CPU time).
Expected: proximal L1 sets most weights to exactly 0 (``zero_fraction_l1`` about 0.9),
puts half of the first layer's weight mass on the 3 relevant inputs and generalizes best
(test accuracy about 0.89 against 0.82 without penalty and 0.83 with L2), while L2 and no
penalty leave no weight at exactly 0.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "num_train": 200,
        "num_test": 1000,
        "num_features": 20,
        "num_relevant": 3,
        "label_noise": 0.1,
        "num_hidden": 16,
        "learning_rate": 0.1,
        "num_epochs": 1500,  # full batch: one step per epoch
        "l1_strength": 1e-2,
        "l2_strength": 1e-2,
        "runs": ["none", "l2", "l1"],
        "epochs_per_chunk": 100,
        "progress": True,
    }
