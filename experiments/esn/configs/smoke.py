"""Seconds-long smoke run of esn (tests and CI): small reservoirs, short series.

Command: ``jaxdl run esn --config smoke``; expected: MC <= N and finite NRMSEs.
"""

from experiments.esn.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        sizes=[5, 10],
        num_radii=3,
        num_seeds=2,
        density=0.2,
        mc_length=1500,
        task_size=30,
        task_length=700,
        washout=100,
        num_train=400,
        progress=False,
    )
    return config
