"""rbm-digits: a 64-100 Bernoulli RBM trained by CD-1 on binarized, nudged digits.

Command: ``jaxdl run rbm-digits`` (about 20-30 s on 2 CPU cores).

Expected (seed 0): logistic regression on the RBM's hidden probabilities 0.894 test
accuracy against 0.817 on the raw binarized pixels; AIS (100 runs, 10,000 temperatures)
test log-likelihood -21.1 nats per image against -26.4 for the independent-pixel
base-rate model; exact test pseudo-log-likelihood -15.1 (from -44.5 at initialization).
With ``persistent=True`` (PCD, scikit-learn's algorithm): 0.867 accuracy and -26.1 nats.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "test_fraction": 0.2,
        "val_fraction": 0.1,  # of the training images: the per-epoch validation curve
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
