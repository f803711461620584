"""Train a GAN on scikit-learn digits and measure how close its samples come to the data.

The generator maps 16 Gaussian latents through a sigmoid MLP to 8x8 images (pixels scaled
to [0, 1]); the discriminator is an MLP on the 64 pixels. Sample quality is summarized by
the mean distance of a sample to its nearest training image, next to the same distance for
real test images (a reference: copies of training images would score 0).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_digits
from jaxdl.experiment import Run, image_grid, line_plot
from jaxdl.probabilistic.gan import (
    Discriminator,
    Generator,
    array_sampler,
    generate_samples,
    make_gan,
)
from jaxdl.training.gan import as_gan_state, gan_train_state, train_gan

OPTIMIZERS = {
    "adam": lambda rate: optax.adam(rate, b1=0.5),
    "momentum": lambda rate: optax.sgd(rate, momentum=0.9),  # the paper's choice
}


def validate(config: dict) -> None:
    """Names checked before the run directory is created."""
    if config["optimizer"] not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be among {sorted(OPTIMIZERS)}, got {config['optimizer']!r}"
        )
    if config["generator_loss"] not in ("non_saturating", "minimax"):
        raise ValueError(
            "generator_loss must be 'non_saturating' or 'minimax', "
            f"got {config['generator_loss']!r}"
        )


def nearest_distance(points: np.ndarray, reference: np.ndarray) -> float:
    """Mean Euclidean distance from each row of ``points`` to its nearest row of ``reference``."""
    squared = ((points[:, None, :] - reference[None, :, :]) ** 2).sum(-1)
    return float(np.sqrt(squared.min(1)).mean())


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train the GAN, write the sample grid and the loss curves; return the metrics."""
    data = load_digits(test_fraction=config["test_fraction"], seed=config["data_seed"])
    x_train = jnp.asarray(data.x_train) / 16.0
    latent = config["latent_size"]
    generator = Generator(
        output_size=64, hidden_features=tuple(config["hidden"]), output_activation="sigmoid"
    )
    discriminator = Discriminator(hidden_features=tuple(reversed(config["hidden"])))
    optimizer = OPTIMIZERS[config["optimizer"]]
    gan = make_gan(
        generator,
        discriminator,
        array_sampler(x_train),
        latent_size=latent,
        batch_size=config["batch_size"],
        generator_optimizer=optimizer(config["generator_learning_rate"]),
        discriminator_optimizer=optimizer(config["discriminator_learning_rate"]),
        num_discriminator_steps=config["num_discriminator_steps"],
        generator_loss=config["generator_loss"],
    )
    init_key, train_key, sample_key = jax.random.split(workdir.key, 3)
    state = gan_train_state(gan, init_key)

    def samples_of(state, num_samples):  # the same latent draws before and after training
        params = as_gan_state(state).generator_params
        key = jax.random.fold_in(sample_key, 0)
        return np.asarray(generate_samples(key, generator, params, num_samples, latent))

    num_shown = config["num_eval_samples"]
    initial_samples = samples_of(state, num_shown)
    steps_per_epoch = max(1, config["num_steps"] // config["num_chunks"])
    result = train_gan(
        train_key,
        gan,
        state,
        steps_per_epoch * -(-config["num_steps"] // steps_per_epoch),
        steps_per_epoch=steps_per_epoch,
        **workdir.fit_kwargs(),
    )
    history = result.history
    samples = samples_of(result.state, num_shown)
    rows = min(4, num_shown // 12)
    image_grid(
        [samples[i * 12 : (i + 1) * 12] for i in range(rows)],
        workdir / "samples.png",
        title=f"GAN samples after {history[-1]['step']} steps",
    )
    line_plot(
        workdir / "losses.png",
        {
            "discriminator": [r["train_discriminator_loss"] for r in history],
            "generator": [r["train_generator_loss"] for r in history],
        },
        x=[r["step"] for r in history],
        ylabel="loss (binary cross-entropy, nats)",
        xlabel="generator step",
        title="GAN on digits: losses",
    )
    train_np = np.asarray(x_train)
    x_test = np.asarray(data.x_test) / 16.0
    return {
        "final_discriminator_loss": history[-1]["train_discriminator_loss"],
        "final_generator_loss": history[-1]["train_generator_loss"],
        "initial_sample_nearest_train_distance": nearest_distance(initial_samples, train_np),
        "sample_nearest_train_distance": nearest_distance(samples, train_np),
        "test_nearest_train_distance": nearest_distance(x_test[:num_shown], train_np),
        "initial_pixel_mean_samples": float(initial_samples.mean()),
        "pixel_mean_samples": float(samples.mean()),
        "pixel_mean_data": float(train_np.mean()),
        "num_steps": int(history[-1]["step"]),
    }
