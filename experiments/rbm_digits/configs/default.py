"""Full rbm-digits run: a 64-100 RBM trained by CD-1 on binarized, nudged digits.

Command: ``jaxdl run rbm-digits`` (or ``python -m experiments.rbm_digits.train``).

Expected (2-core CPU, about a minute): logistic regression on the RBM's hidden
probabilities reaches about 0.93 test accuracy against about 0.87 on the raw binarized
pixels; AIS gives a test log-likelihood near -22 nats per image (64 binary pixels),
against about -25 for the independent-pixel base-rate model.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "test_fraction": 0.2,
        "nudge": True,  # add 1-pixel shifts (up/down/left/right) of the training images
        "num_hidden": 100,
        "num_epochs": 20,
        "batch_size": 10,
        "learning_rate": 0.06,
        "k": 1,
        "persistent": False,
        "logistic_c_rbm": 6000.0,
        "logistic_c_raw": 100.0,
        "logistic_max_iter": 2000,
        "ais_runs": 100,
        "ais_betas": 10000,
        "num_samples": 64,
        "sample_sweeps": 1000,
        "progress": True,
    }
