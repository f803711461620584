"""Monte Carlo dropout on a 1-D regression: predictive mean and uncertainty.

Command: ``jaxdl run mc-dropout``.
Expected: a 1-128-128-1 ReLU DropoutMLP (hidden keep 0.9, inputs kept) trained 300
epochs on 256 noisy points of sin(2x) + x/2 on [-3, 3]; the MC mean of 200 passes and
the weight-scaling prediction both reach a test RMSE of about 0.1 and the MC spread is
several times larger outside the training range (|x| > 4.5) than inside it.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "progress": True,
        "data_range": 3.0,
        "outside_range": 6.0,
        "noise": 0.1,
        "num_train": 256,
        "num_test": 256,
        "num_grid": 241,
        "features": [128, 128, 1],
        # a single input is never dropped; the hidden units keep with probability 0.9
        "input_keep_probability": 1.0,
        "hidden_keep_probability": 0.9,
        "rule": "inverted",
        "learning_rate": 3e-3,
        "num_epochs": 300,
        "batch_size": 32,
        "num_passes": 200,
    }
