"""Seconds-long smoke run of esn (tests and CI): small reservoirs, short series.

Command: ``jaxdl run esn --config smoke``; expected: MC <= N and finite NRMSEs.
"""

from experiments.esn.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        sizes=[10, 20],
        num_radii=4,
        num_seeds=3,
        density=0.2,
        mc_length=600,
        task_size=40,
        task_length=900,
        washout=100,
        num_train=500,
        progress=False,
    )
    return config
