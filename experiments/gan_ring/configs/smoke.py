"""Seconds-long smoke run of gan-ring (tests and CI): small nets, 300 steps.

Command: ``jaxdl run gan-ring --config smoke``; expected: the generator moves from the
origin onto the ring (more modes covered and more high-quality samples than at
initialization) and the discriminator loss falls below log 4.
"""

from experiments.gan_ring.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        generator_learning_rate=5e-3,
        discriminator_learning_rate=5e-3,
        num_discriminator_steps=2,
        batch_size=64,
        num_steps=300,
        num_chunks=2,
        num_eval_samples=256,
        std=0.1,
        hidden=[32, 32],
        progress=False,
    )
    return config
