"""Seconds-long smoke run of karate-club (tests and CI).

Command: ``jaxdl run karate-club --config smoke``; expected: the loss falls.
"""

from experiments.karate_club.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(num_epochs=30, progress=False)
    return config
