"""The autoencoder family on scikit-learn digits: PCA match, depth, sparsity, denoising.

Trains, with the same optimizer and epochs, a linear autoencoder (compared with PCA), a
deep autoencoder, an overcomplete one with and without an L1 code penalty, a denoising
one (masking noise), a contractive one and one with dropout on the code; reports test
reconstruction error, code sparsity, denoising error and encoder Jacobian norms.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_digits
from jaxdl.experiment import Run, image_grid, line_plot
from jaxdl.losses.penalties import jacobian_frobenius_squared
from jaxdl.nn.autoencoders import Autoencoder, make_autoencoder_loss, pca_basis, principal_angles
from jaxdl.sampling.noise import masking_noise
from jaxdl.training import create_train_state, fit


def _variants(config: dict) -> dict[str, tuple[Autoencoder, dict]]:
    """Name -> (model, options of ``make_autoencoder_loss``)."""
    code, wide, hidden = config["code_size"], config["overcomplete_size"], config["hidden"]

    def deep(**kwargs):
        return Autoencoder(
            encoder_features=(hidden, code),
            decoder_features=(hidden, 64),
            activation="relu",
            output_activation="sigmoid",
            **kwargs,
        )

    def overcomplete():
        return Autoencoder(
            encoder_features=(wide,),
            decoder_features=(64,),
            code_activation="relu",
            output_activation="sigmoid",
        )

    table = {
        "linear": (
            Autoencoder(encoder_features=(code,), decoder_features=(64,), activation="linear"),
            {},
        ),
        "deep": (deep(), {}),
        "overcomplete": (overcomplete(), {}),
        "sparse": (overcomplete(), {"l1_strength": config["l1_weight"]}),
        "denoising": (
            deep(),
            {"corruption": "masking", "corruption_level": config["masking_rate"]},
        ),
        "contractive": (deep(), {"contractive_strength": config["contractive_weight"]}),
        "code_dropout": (deep(code_dropout_rate=config["code_dropout_rate"]), {}),
    }
    return {name: table[name] for name in config["variants"]}


VARIANTS = ("linear", "deep", "overcomplete", "sparse", "denoising", "contractive", "code_dropout")


def validate(config: dict) -> None:
    """Variant names must be known (checked before the run directory is created)."""
    unknown = sorted(set(config["variants"]) - set(VARIANTS))
    if unknown:
        raise ValueError(f"variants must be among {list(VARIANTS)}, got {unknown}")


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train every variant, evaluate on the test split, write the plots; return the metrics."""
    logger = workdir.logger
    data = load_digits(test_fraction=config["test_fraction"], seed=config["data_seed"])
    x_train = jnp.asarray(data.x_train) / 16.0
    x_test = jnp.asarray(data.x_test) / 16.0
    root = workdir.key
    init_key, fit_key, noise_key = jax.random.split(root, 3)
    corrupted_test = masking_noise(noise_key, x_test, config["masking_rate"])

    # PCA reference: project the test set on the top principal directions of the train set.
    k = config["code_size"]
    basis = pca_basis(x_train, k)
    mean = jnp.mean(x_train, axis=0, keepdims=True)
    pca_reconstruction = (x_test - mean) @ basis @ basis.T + mean
    summary: dict[str, float] = {
        "pca_test_mse": float(jnp.mean(jnp.square(pca_reconstruction - x_test)))
    }
    shown = {"test": np.asarray(x_test[:12]), "PCA": np.asarray(pca_reconstruction[:12])}
    denoised = {"clean": np.asarray(x_test[:12]), "masked": np.asarray(corrupted_test[:12])}
    curves = {}

    for index, (name, (model, options)) in enumerate(_variants(config).items()):
        state = create_train_state(
            jax.random.fold_in(init_key, index),
            model,
            x_train[:2],
            optax.adam(config["learning_rate"]),
        )

        def log_epoch(record, name=name):
            logger.log(
                record["step"],
                **{f"{name}_{key}": value for key, value in record.items() if key != "step"},
            )

        result = fit(
            jax.random.fold_in(fit_key, index),
            state,
            make_autoencoder_loss(model, **options),
            (x_train,),
            num_epochs=config["num_epochs"],
            batch_size=config["batch_size"],
            epochs_per_chunk=config["epochs_per_chunk"],
            progress=workdir.progress,
            callback=log_epoch,
        )
        variables = {"params": result.state.params}
        history = result.history
        curves[name] = [r["train_loss"] for r in history]
        reconstruction = model.apply(variables, x_test)
        code = model.apply(variables, x_test, method=Autoencoder.encode)
        from_masked = model.apply(variables, corrupted_test)
        jacobian = jacobian_frobenius_squared(
            lambda v, variables=variables, model=model: model.apply(
                variables, v, method=Autoencoder.encode
            ),
            x_test[:100],
        )
        summary.update(
            {
                f"{name}_first_train_loss": history[0]["train_loss"],
                f"{name}_final_train_loss": history[-1]["train_loss"],
                f"{name}_test_mse": float(jnp.mean(jnp.square(reconstruction - x_test))),
                f"{name}_masked_input_test_mse": float(jnp.mean(jnp.square(from_masked - x_test))),
                f"{name}_code_zero_fraction": float(jnp.mean(jnp.abs(code) <= 1e-6)),
                f"{name}_code_mean_abs": float(jnp.mean(jnp.abs(code))),
                f"{name}_encoder_jacobian_frobenius_squared": float(jnp.mean(jacobian)),
            }
        )
        if name == "linear":
            decoder_span = result.state.params["decoder_0"]["kernel"].T  # [64, k]
            angles = principal_angles(decoder_span, basis)
            summary["linear_pca_max_angle_degrees"] = float(jnp.degrees(jnp.max(angles)))
            summary["linear_pca_mean_angle_degrees"] = float(jnp.degrees(jnp.mean(angles)))
        if name in ("linear", "deep", "sparse"):
            shown[name] = np.asarray(jnp.clip(reconstruction[:12], 0.0, 1.0))
        if name in ("deep", "denoising"):
            denoised[f"{name} AE"] = np.asarray(from_masked[:12])

    summary["masked_input_mse"] = float(jnp.mean(jnp.square(corrupted_test - x_test)))
    line_plot(
        workdir / "losses.png",
        curves,
        xlabel="epoch",
        ylabel="training loss (MSE + penalty)",
        title="Autoencoders on digits",
        log_y=True,
    )
    image_grid(
        list(shown.values()),
        workdir / "reconstructions.png",
        row_titles=list(shown),
        title=f"Test reconstructions, code size {k}",
    )
    image_grid(
        list(denoised.values()),
        workdir / "denoising.png",
        row_titles=list(denoised),
        title=f"Masking noise (rate {config['masking_rate']}): reconstructions",
    )
    return summary
