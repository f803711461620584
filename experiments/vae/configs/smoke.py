"""Seconds-long smoke run of vae (tests and CI): a conditional VAE, small net, few epochs.

Command: ``jaxdl run vae --config smoke``; expected: the training loss (negative ELBO)
falls and the test ELBO rises above its value at initialization.
"""

from experiments.vae.configs import default


def get_config() -> dict:
    config = default.get_config()
    config.update(
        hidden=[32],
        conditional=True,
        learning_rate=3e-3,
        num_epochs=4,
        batch_size=64,
        epochs_per_chunk=4,
        num_prior_samples=4,
        progress=False,
    )
    return config
