"""Train GANs on a ring of 8 Gaussians (mode coverage) and on scikit-learn digits."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_digits
from jaxdl.data.toy import gaussian_mixture_2d, gaussian_mixture_2d_centers
from jaxdl.experiment import Run, figure, image_grid, line_plot
from jaxdl.probabilistic.gan import (
    Discriminator,
    Generator,
    array_sampler,
    generate_samples,
    make_gan,
    mode_coverage,
)
from jaxdl.training.gan import as_gan_state, gan_train_state, train_gan


def validate(config: dict) -> None:
    """Names checked before the run directory is created."""
    if config["optimizer"] not in ("adam", "momentum"):
        raise ValueError(f"optimizer must be 'adam' or 'momentum', got {config['optimizer']!r}")
    if config["generator_loss"] not in ("non_saturating", "minimax"):
        raise ValueError(
            "generator_loss must be 'non_saturating' or 'minimax', "
            f"got {config['generator_loss']!r}"
        )


def _optimizer(config: dict, prefix: str) -> optax.GradientTransformation:
    rate = config[f"{prefix}_learning_rate"]
    if config["optimizer"] == "adam":
        return optax.adam(rate, b1=0.5)
    if config["optimizer"] == "momentum":
        return optax.sgd(rate, momentum=0.9)
    raise ValueError(f"optimizer must be 'adam' or 'momentum', got {config['optimizer']!r}")


def _train(key, gan, state, config, steps, on_epoch, progress, **fit_kwargs):
    """``steps`` generator steps through ``fit``: ``num_chunks`` logged epochs."""
    per_epoch = max(1, steps // config["num_chunks"])
    result = train_gan(
        key,
        gan,
        state,
        per_epoch * -(-steps // per_epoch),
        steps_per_epoch=per_epoch,
        progress=progress,
        callback=on_epoch,
        **fit_kwargs,
    )
    return result.state


def _ring(config: dict, key, logger, workdir: Run) -> dict:
    std, radius, modes = config["ring_std"], config["ring_radius"], config["ring_modes"]
    centers = gaussian_mixture_2d_centers(modes, radius)
    latent = config["ring_latent_size"]
    generator = Generator(output_size=2, hidden_features=tuple(config["ring_hidden"]))
    discriminator = Discriminator(hidden_features=tuple(config["ring_hidden"]))
    gan = make_gan(
        generator,
        discriminator,
        lambda k, n: gaussian_mixture_2d(k, n, modes, radius, std)[0],
        latent_size=latent,
        batch_size=config["batch_size"],
        generator_optimizer=_optimizer(config, "generator"),
        discriminator_optimizer=_optimizer(config, "discriminator"),
        num_discriminator_steps=config["num_discriminator_steps"],
        generator_loss=config["generator_loss"],
    )
    init_key, train_key, eval_key = jax.random.split(key, 3)
    state = gan_train_state(gan, init_key)
    num_eval = config["num_eval_samples"]

    def coverage(state):
        params = as_gan_state(state).generator_params
        samples = generate_samples(
            jax.random.fold_in(eval_key, 0), generator, params, num_eval, latent
        )
        return samples, mode_coverage(samples, centers, std)

    def coverage_metrics(params, model_state, batch):  # fit's per-epoch evaluation
        samples = generate_samples(
            jax.random.fold_in(eval_key, 0), generator, params["generator"], num_eval, latent
        )
        result = mode_coverage(samples, batch[0], std)
        return {
            "modes_covered": result.num_modes_covered,
            "high_quality_fraction": result.high_quality_fraction,
        }

    initial_samples, initial = coverage(state)
    curve = {
        "steps": [0],
        "modes": [int(initial.num_modes_covered)],
        "quality": [float(initial.high_quality_fraction)],
        "d_loss": [],
        "g_loss": [],
    }

    def on_epoch(record):
        done = record["step"]
        logged = {
            "ring_modes_covered": int(record["val_modes_covered"]),
            "ring_high_quality_fraction": record["val_high_quality_fraction"],
            "ring_discriminator_loss": record["train_discriminator_loss"],
            "ring_generator_loss": record["train_generator_loss"],
            "ring_real_probability": record["train_real_probability"],
            "ring_fake_probability": record["train_fake_probability"],
        }
        logger.log(done, **logged)
        curve["steps"].append(done)
        curve["modes"].append(logged["ring_modes_covered"])
        curve["quality"].append(logged["ring_high_quality_fraction"])
        curve["d_loss"].append(logged["ring_discriminator_loss"])
        curve["g_loss"].append(logged["ring_generator_loss"])

    state = _train(
        train_key,
        gan,
        state,
        config,
        config["ring_steps"],
        on_epoch,
        workdir.progress,
        val_data=(centers,),
        eval_fn=coverage_metrics,
    )
    samples, final = coverage(state)
    real, _ = gaussian_mixture_2d(jax.random.fold_in(eval_key, 1), num_eval, modes, radius, std)

    with figure(workdir / "ring_samples.png", 1, 3, figsize=(13, 4.4)) as axes:
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
                f"after {config['ring_steps']} steps: {int(final.num_modes_covered)}/{modes} modes",
            ),
        ):
            points = np.asarray(points)
            ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.5, label="samples")
            ax.scatter(
                np.asarray(centers)[:, 0],
                np.asarray(centers)[:, 1],
                marker="x",
                c="red",
                label="mode centres",
            )
            ax.set_xlim(-radius * 1.6, radius * 1.6)
            ax.set_ylim(-radius * 1.6, radius * 1.6)
            ax.set_aspect("equal")
            ax.set_title(name)
            ax.set(xlabel="x1", ylabel="x2")
    line_plot(
        workdir / "ring_modes.png",
        {"modes covered": curve["modes"]},
        x=curve["steps"],
        xlabel="generator step",
        ylabel="modes covered (within 3 std)",
        title="GAN on a ring of Gaussians",
    )
    line_plot(
        workdir / "ring_losses.png",
        {"discriminator": curve["d_loss"], "generator": curve["g_loss"]},
        x=curve["steps"][1:],
        ylabel="loss (binary cross-entropy, nats)",
        xlabel="generator step",
        title="GAN on a ring of Gaussians: losses",
    )
    return {
        "ring_initial_modes_covered": int(initial.num_modes_covered),
        "ring_initial_high_quality_fraction": float(initial.high_quality_fraction),
        "ring_modes_covered": int(final.num_modes_covered),
        "ring_high_quality_fraction": float(final.high_quality_fraction),
        "ring_first_discriminator_loss": curve["d_loss"][0],
        "ring_final_discriminator_loss": curve["d_loss"][-1],
    }


def _digits(config: dict, key, logger, workdir: Run) -> dict:
    data = load_digits(test_fraction=config["test_fraction"], seed=config["data_seed"])
    x_train = jnp.asarray(data.x_train) / 16.0
    latent = config["digits_latent_size"]
    generator = Generator(
        output_size=64, hidden_features=tuple(config["digits_hidden"]), output_activation="sigmoid"
    )
    discriminator = Discriminator(hidden_features=tuple(reversed(config["digits_hidden"])))
    gan = make_gan(
        generator,
        discriminator,
        array_sampler(x_train),
        latent_size=latent,
        batch_size=config["batch_size"],
        generator_optimizer=_optimizer(config, "generator"),
        discriminator_optimizer=_optimizer(config, "discriminator"),
        num_discriminator_steps=config["num_discriminator_steps"],
        generator_loss=config["generator_loss"],
    )
    init_key, train_key, sample_key = jax.random.split(key, 3)
    state = gan_train_state(gan, init_key)
    losses = {"d_loss": [], "g_loss": [], "steps": []}

    def on_epoch(record):
        done = record["step"]
        logged = {
            f"digits_{name}": record[f"train_{name}"]
            for name in ("discriminator_loss", "generator_loss")
            + ("real_probability", "fake_probability")
        }
        logger.log(done, **logged)
        losses["d_loss"].append(logged["digits_discriminator_loss"])
        losses["g_loss"].append(logged["digits_generator_loss"])
        losses["steps"].append(done)

    state = _train(
        train_key, gan, state, config, config["digits_steps"], on_epoch, workdir.progress
    )
    samples = np.asarray(
        generate_samples(sample_key, generator, as_gan_state(state).generator_params, 48, latent)
    )
    image_grid(
        [samples[i * 12 : (i + 1) * 12] for i in range(4)],
        workdir / "digits_samples.png",
        title=f"GAN samples after {config['digits_steps']} steps",
    )
    line_plot(
        workdir / "digits_losses.png",
        {"discriminator": losses["d_loss"], "generator": losses["g_loss"]},
        x=losses["steps"],
        ylabel="loss (binary cross-entropy, nats)",
        xlabel="generator step",
        title="GAN on digits: losses",
    )
    # Sample quality proxy: mean distance to the nearest training image vs. test images.
    x_test = np.asarray(data.x_test) / 16.0
    train_np = np.asarray(x_train)

    def nearest(points):
        d = ((points[:, None, :] - train_np[None, :, :]) ** 2).sum(-1)
        return float(np.sqrt(d.min(1)).mean())

    return {
        "digits_final_discriminator_loss": losses["d_loss"][-1],
        "digits_final_generator_loss": losses["g_loss"][-1],
        "digits_sample_nearest_train_distance": nearest(samples),
        "digits_test_nearest_train_distance": nearest(x_test[:48]),
        "digits_pixel_mean_samples": float(samples.mean()),
        "digits_pixel_mean_data": float(train_np.mean()),
    }


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train both GANs, write the plots; return the metrics."""
    logger = workdir.logger
    ring_key, digits_key = jax.random.split(workdir.key)
    summary = _ring(config, ring_key, logger, workdir)
    if config["digits_steps"] > 0:
        summary.update(_digits(config, digits_key, logger, workdir))
    return summary
