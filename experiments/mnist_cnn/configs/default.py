"""Slides' CNN, LeNet-5 and 784-200-200-10 MLP on the 5,000 MNIST digits, Adam 1e-3, batch 64.

Command: ``jaxdl run mnist-cnn`` (3,600 / 400 / 1,000 train / val / test, 8 epochs each).
Expected: test accuracy slides' CNN 0.928, LeNet-5 0.950, MLP 0.917.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "train_subset": 0,
        "models": ["slides_cnn", "lenet5", "mlp"],
        "learning_rate": 1e-3,
        "batch_size": 64,
        "num_epochs": 8,
        "epochs_per_chunk": 5,
        "progress": True,
    }
