"""Seconds-long smoke run of the ensembles experiment (tests and CI).

Command: ``jaxdl run ensembles --config smoke``; expected: the members' loss falls and
boosted stumps beat a single stump.
"""

from experiments.ensembles.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_train=64,
        num_test=200,
        hidden=[8],
        num_epochs=30,
        num_members=3,
        boost_rounds=6,
        network_rounds=2,
        network_epochs=10,
        progress=False,
    )
    return config
