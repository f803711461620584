"""Full gan-digits run: a GAN on scikit-learn digits (pixels in [0, 1]), 3000 steps.

Command: ``jaxdl run gan-digits``.

Expected (2-core CPU, about 30 s of CPU time): the samples are digit-like strokes after
3000 steps, with a mean pixel of about 0.30 (data 0.305) and a mean distance to their
nearest training image of about 1.25 (3.1 at initialization), above that of real test
images (1.02): not copies.
Non-saturating generator loss, Adam (b1 = 0.5), k = 1 discriminator step per generator
step, 16 latents, generator 16-128-256-64.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "data_seed": 0,
        "test_fraction": 0.2,
        "optimizer": "adam",  # or "momentum" (the paper's choice)
        "generator_learning_rate": 1e-3,
        "discriminator_learning_rate": 1e-3,
        "generator_loss": "non_saturating",  # or "minimax"
        "num_discriminator_steps": 1,
        "batch_size": 128,
        "num_steps": 3000,
        "num_chunks": 10,
        "num_eval_samples": 48,
        "latent_size": 16,
        "hidden": [128, 256],
        "progress": True,
    }
