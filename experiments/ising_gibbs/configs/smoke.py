"""Seconds-long smoke run of the Ising experiment (tests and CI).

Command: ``jaxdl run ising-gibbs --config smoke``; expected: <|m|> near 1 at T = 1.5 and
small at T = 4 on an 8x8 grid; the 3x3 check agrees with enumeration.
"""

from experiments.ising_gibbs.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        size=8,
        temperatures=[1.5, 2.3, 4.0],
        num_chains=4,
        num_sweeps=300,
        burn_in=100,
        exact_temperatures=[2.5],
        progress=False,
    )
    return config
