"""Seconds-long smoke run of the adversarial experiment (tests and CI).

Command: ``jaxdl run adversarial --config smoke``; expected: both training losses fall and
attacks lower the test accuracy.
"""

from experiments.adversarial.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        num_train=300, hidden=[16], num_epochs=4, epsilons=[0.0, 0.2], pgd_steps=3, progress=False
    )
    return config
