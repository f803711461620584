"""Full gan run: a ring of 8 Gaussians (std 0.05, radius 2) and scikit-learn digits.

Command: ``jaxdl run gan``.

Expected (2-core CPU, a few minutes): on the ring the generator starts near the origin
(1 of 8 modes touched, 0.2% of samples within 3 std of a mode) and covers 7 of the 8 modes
after 3000 steps with about 91% of samples within 3 std; on digits the samples are
digit-like strokes after 3000 steps. Non-saturating generator loss, Adam (b1 = 0.5),
k = 1 discriminator step per generator step.
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
        "num_chunks": 10,
        "num_eval_samples": 2000,
        "ring_modes": 8,
        "ring_radius": 2.0,
        "ring_std": 0.05,
        "ring_latent_size": 2,
        "ring_hidden": [128, 128],
        "ring_steps": 3000,
        "digits_latent_size": 16,
        "digits_hidden": [128, 256],
        "digits_steps": 3000,
        "progress": True,
    }
