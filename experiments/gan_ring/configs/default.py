"""Full gan-ring run: a GAN on a ring of 8 Gaussians (std 0.05, radius 2), 3000 steps.

Command: ``jaxdl run gan-ring``.

Expected (2-core CPU, about 25 s of CPU time): the generator starts near the origin
(1 of 8 modes touched, 0.05% of samples within 3 std of a mode) and covers all 8 modes
after 3000 steps with about 75% of samples within 3 std (between 0.67 and 0.84 over the
last 1500 steps). Non-saturating generator loss, Adam
(b1 = 0.5), k = 1 discriminator step per generator step.
"""


def get_config() -> dict:
    return {
        "seed": 0,
        "optimizer": "adam",  # or "momentum" (the paper's choice)
        "generator_learning_rate": 1e-3,
        "discriminator_learning_rate": 1e-3,
        "generator_loss": "non_saturating",  # or "minimax"
        "num_discriminator_steps": 1,
        "batch_size": 128,
        "num_steps": 3000,
        "num_chunks": 10,
        "num_eval_samples": 2000,
        "num_modes": 8,
        "radius": 2.0,
        "std": 0.05,
        "latent_size": 2,
        "hidden": [128, 128],
        "progress": True,
    }
