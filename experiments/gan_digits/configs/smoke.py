"""Seconds-long smoke run of gan-digits (tests and CI): small nets, 200 steps.

Command: ``jaxdl run gan-digits --config smoke``; expected: the samples move from grey
noise towards the digits (a smaller distance to the nearest training image, a mean pixel
closer to the data's) and the discriminator loss stays below log 4.
"""

from experiments.gan_digits.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        generator_learning_rate=3e-3,
        discriminator_learning_rate=3e-3,
        batch_size=64,
        num_steps=200,
        num_chunks=2,
        num_eval_samples=24,
        hidden=[32, 32],
        progress=False,
    )
    return config
