"""Train a GAN on a ring of 8 Gaussians and measure how many modes it covers.

The mode-collapse benchmark: the data are 8 Gaussians (std 0.05) on a circle of radius 2.
A sample is *high quality* within 3 std of its nearest mode, and a mode is *covered* when
at least one high-quality sample falls nearest to it
(``jaxdl.probabilistic.gan.mode_coverage``), measured on a fixed set of generator samples
at every logged epoch.
"""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.data.toy import gaussian_mixture_2d, gaussian_mixture_2d_centers
from jaxdl.experiment import Run, figure, line_plot
from jaxdl.probabilistic.gan import (
    Discriminator,
    Generator,
    generate_samples,
    make_gan,
    mode_coverage,
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


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train the GAN, measure mode coverage before and after, write the plots."""
    modes, radius, std = config["num_modes"], config["radius"], config["std"]
    centers = gaussian_mixture_2d_centers(modes, radius)
    latent = config["latent_size"]
    generator = Generator(output_size=2, hidden_features=tuple(config["hidden"]))
    discriminator = Discriminator(hidden_features=tuple(config["hidden"]))
    optimizer = OPTIMIZERS[config["optimizer"]]
    gan = make_gan(
        generator,
        discriminator,
        lambda k, n: gaussian_mixture_2d(k, n, modes, radius, std)[0],
        latent_size=latent,
        batch_size=config["batch_size"],
        generator_optimizer=optimizer(config["generator_learning_rate"]),
        discriminator_optimizer=optimizer(config["discriminator_learning_rate"]),
        num_discriminator_steps=config["num_discriminator_steps"],
        generator_loss=config["generator_loss"],
    )
    init_key, train_key, eval_key = jax.random.split(workdir.key, 3)
    state = gan_train_state(gan, init_key)
    num_eval = config["num_eval_samples"]

    def samples_of(generator_params):  # the same latent draws at every evaluation
        return generate_samples(
            jax.random.fold_in(eval_key, 0), generator, generator_params, num_eval, latent
        )

    def coverage_metrics(params, model_state, batch):  # fit's per-epoch evaluation
        result = mode_coverage(samples_of(params["generator"]), batch[0], std)
        return {
            "modes_covered": result.num_modes_covered,
            "high_quality_fraction": result.high_quality_fraction,
        }

    initial_samples = samples_of(as_gan_state(state).generator_params)
    initial = mode_coverage(initial_samples, centers, std)
    steps_per_epoch = max(1, config["num_steps"] // config["num_chunks"])
    result = train_gan(
        train_key,
        gan,
        state,
        steps_per_epoch * -(-config["num_steps"] // steps_per_epoch),
        steps_per_epoch=steps_per_epoch,
        val_data=(centers,),
        eval_fn=coverage_metrics,
        **workdir.fit_kwargs(),
    )
    history = result.history
    samples = samples_of(as_gan_state(result.state).generator_params)
    final = mode_coverage(samples, centers, std)
    real, _ = gaussian_mixture_2d(jax.random.fold_in(eval_key, 1), num_eval, modes, radius, std)

    with figure(workdir / "samples.png", 1, 3, figsize=(13, 4.4)) as axes:
        for ax, points, name in (
            (axes[0], real, "data"),
            (
                axes[1],
                initial_samples,
                f"generator at init: {int(initial.num_modes_covered)} modes",
            ),
            (
                axes[2],
                samples,
                f"after {history[-1]['step']} steps: {int(final.num_modes_covered)}/{modes} modes",
            ),
        ):
            points = np.asarray(points)
            ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.5, label="samples")
            ax.scatter(*np.asarray(centers).T, marker="x", c="red", label="mode centres")
            ax.set_xlim(-radius * 1.6, radius * 1.6)
            ax.set_ylim(-radius * 1.6, radius * 1.6)
            ax.set_aspect("equal")
            ax.set_title(name)
            ax.set(xlabel="x1", ylabel="x2")
    steps = [0] + [r["step"] for r in history]
    line_plot(
        workdir / "modes.png",
        {
            "modes covered": [int(initial.num_modes_covered)]
            + [r["val_modes_covered"] for r in history]
        },
        x=steps,
        xlabel="generator step",
        ylabel="modes covered (within 3 std)",
        title="GAN on a ring of Gaussians",
    )
    line_plot(
        workdir / "losses.png",
        {
            "discriminator": [r["train_discriminator_loss"] for r in history],
            "generator": [r["train_generator_loss"] for r in history],
        },
        x=steps[1:],
        ylabel="loss (binary cross-entropy, nats)",
        xlabel="generator step",
        title="GAN on a ring of Gaussians: losses",
    )
    return {
        "initial_modes_covered": int(initial.num_modes_covered),
        "initial_high_quality_fraction": float(initial.high_quality_fraction),
        "modes_covered": int(final.num_modes_covered),
        "high_quality_fraction": float(final.high_quality_fraction),
        "first_discriminator_loss": history[0]["train_discriminator_loss"],
        "final_discriminator_loss": history[-1]["train_discriminator_loss"],
        "final_generator_loss": history[-1]["train_generator_loss"],
        "num_steps": int(history[-1]["step"]),
    }
