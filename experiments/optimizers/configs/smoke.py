"""Seconds-long smoke run of the optimizers experiment (tests and CI).

Command: ``jaxdl run optimizers --config smoke``; expected: every optimizer's training
loss falls within 3 epochs on a digits subset; momentum crosses the valley in fewer steps
than gradient descent.
"""

from experiments.optimizers.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(hidden=16, num_epochs=3, batch_size=64, num_train=512, progress=False,
                  valley_steps=200)
    return config
