"""Seconds-long smoke run of link-prediction (tests and CI).

Command: ``jaxdl run link-prediction --config smoke``; expected: the loss falls.
"""

from experiments.link_prediction.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        community_sizes=[15, 15], p_in=0.4, features=[8, 8], num_epochs=40, progress=False
    )
    return config
