"""Seconds-long smoke run of gan (tests and CI): small nets, a few hundred steps.

Command: ``jaxdl run gan --config smoke``; expected: the ring's generator moves from
the origin onto the ring (more modes covered and more high-quality samples than at
initialization) and the discriminator loss falls below log 4.
"""

from experiments.gan.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        generator_learning_rate=2e-3,
        discriminator_learning_rate=2e-3,
        num_discriminator_steps=2,
        batch_size=64,
        num_chunks=2,
        num_eval_samples=500,
        ring_std=0.1,
        ring_hidden=[32, 32],
        ring_steps=400,
        digits_hidden=[32, 32],
        digits_steps=20,
        progress=False,
    )
    return config
