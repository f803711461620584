"""Seconds-long smoke run of rbm-digits (tests and CI): small RBM, few epochs.

Command: ``jaxdl run rbm-digits --config smoke``; expected: the reconstruction error falls
and the pseudo-likelihood rises; the AIS estimate of log Z matches exact enumeration (12
hidden units) within a few standard errors.
"""

from experiments.rbm_digits.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        nudge=False,
        num_hidden=12,
        num_epochs=3,
        learning_rate=0.1,
        logistic_max_iter=100,
        ais_runs=32,
        ais_betas=200,
        num_samples=16,
        sample_sweeps=10,
        progress=False,
    )
    return config
