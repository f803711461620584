"""Train a (conditional) VAE on scikit-learn digits with the compiled ``fit`` loop."""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

from experiments._common import history_columns, plot_curves  # noqa: E402
from experiments.vae.plots import image_grid  # noqa: E402
from jaxdl.data import load_digits  # noqa: E402
from jaxdl.probabilistic.vae import VAE, make_vae_loss  # noqa: E402
from jaxdl.training import RunLogger, create_train_state, fit  # noqa: E402


def _batch(config: dict, x, y):
    return (x, y) if config["conditional"] else (x,)


def train_and_evaluate(config: dict, workdir: str) -> dict:
    """Train the VAE, evaluate the test ELBO, write plots and the run directory."""
    workdir_path = pathlib.Path(workdir)
    logger = RunLogger(workdir_path)
    logger.write_config(config)
    data = load_digits(test_fraction=config["test_fraction"], seed=config["data_seed"])
    # Grey levels 0..16 scaled to [0, 1]: fractional Bernoulli targets.
    x_train = jnp.asarray(data.x_train) / 16.0
    x_test = jnp.asarray(data.x_test) / 16.0
    y_train, y_test = jnp.asarray(data.y_train), jnp.asarray(data.y_test)

    model = VAE(
        latent_size=config["latent_size"],
        output_size=x_train.shape[1],
        encoder_hidden=tuple(config["hidden"]),
        decoder_hidden=tuple(config["hidden"]),
        likelihood=config["likelihood"],
        num_classes=data.num_classes if config["conditional"] else None,
        activation=config["activation"],
    )
    root = jax.random.key(config["seed"])
    init_key, train_key, eval_key, sample_key = jax.random.split(root, 4)
    example = _batch(config, x_train[:2], y_train[:2])
    state = create_train_state(
        init_key,
        model,
        example[0],
        optax.adam(config["learning_rate"]),
        init_kwargs={"labels": example[1]} if config["conditional"] else None,
    )
    loss_fn = make_vae_loss(model, beta=config["beta"])

    def eval_fn(params, model_state, batch):
        # The same latent draws at every evaluation (a fresh copy of one fixed key).
        loss, (_, metrics) = loss_fn(params, model_state, batch, jax.random.fold_in(eval_key, 0))
        return {"loss": loss, **metrics}

    initial = eval_fn(state.params, state.model_state, _batch(config, x_test, y_test))
    result = fit(
        train_key,
        state,
        loss_fn,
        _batch(config, x_train, y_train),
        num_epochs=config["num_epochs"],
        batch_size=config["batch_size"],
        eval_data=_batch(config, x_test, y_test),
        eval_fn=eval_fn,
        epochs_per_chunk=config["epochs_per_chunk"],
        progress=config["progress"],
        logger=logger,
    )
    params = result.state.params
    variables = {"params": params}
    history = result.history

    # ELBO curve.
    plot_curves(
        history_columns(history, "train_elbo", "eval_elbo"),
        workdir_path / "elbo.png",
        ylabel="ELBO (nats / image)",
        title="VAE on digits: evidence lower bound",
    )
    # Reconstructions (posterior means decoded) of the first test images.
    labels_shown = y_test[:12] if config["conditional"] else None
    out = model.apply(variables, x_test[:12], labels_shown)
    reconstruction = (
        jax.nn.sigmoid(out.decoder_output)
        if config["likelihood"] == "bernoulli"
        else out.decoder_output
    )
    image_grid(
        [np.asarray(x_test[:12]), np.asarray(reconstruction)],
        workdir_path / "reconstructions.png",
        row_titles=["test", "VAE"],
        title="Reconstructions (decoder mean at the posterior mean)",
    )
    # Samples from the prior, one row per digit for a CVAE.
    num_samples = config["num_prior_samples"]
    if config["conditional"]:
        rows = []
        for digit in range(data.num_classes):
            labels = jnp.full((num_samples,), digit, dtype=jnp.int32)
            rows.append(
                np.asarray(
                    model.apply(
                        variables,
                        jax.random.fold_in(sample_key, digit),
                        num_samples,
                        labels,
                        method=VAE.sample_prior,
                    )
                )
            )
        titles = [str(d) for d in range(data.num_classes)]
    else:
        samples = np.asarray(
            model.apply(variables, sample_key, num_samples * 4, method=VAE.sample_prior)
        )
        rows = [samples[i * num_samples : (i + 1) * num_samples] for i in range(4)]
        titles = None
    image_grid(
        rows,
        workdir_path / "prior_samples.png",
        row_titles=titles,
        title="Samples: z ~ N(0, I), decoder mean",
    )
    # The test set in latent space (posterior means), coloured by digit.
    mean, _ = model.apply(
        variables, x_test, y_test if config["conditional"] else None, method=VAE.encode
    )
    mean = np.asarray(mean)
    fig, ax = plt.subplots(figsize=(5.5, 5), dpi=100)
    scatter = ax.scatter(mean[:, 0], mean[:, 1], c=np.asarray(y_test), cmap="tab10", s=8)
    fig.colorbar(scatter, ax=ax, label="digit")
    ax.set_xlabel("latent 1 (posterior mean)")
    ax.set_ylabel("latent 2 (posterior mean)")
    ax.set_title("VAE latent space of the test digits")
    fig.tight_layout()
    fig.savefig(workdir_path / "latent.png")
    plt.close(fig)

    summary = {
        "initial_test_elbo": float(initial["elbo"]),
        "final_test_elbo": history[-1]["eval_elbo"],
        "final_test_kl": history[-1]["eval_kl"],
        "final_test_reconstruction_log_likelihood": history[-1][
            "eval_reconstruction_log_likelihood"
        ],
        "first_train_loss": history[0]["train_loss"],
        "final_train_loss": history[-1]["train_loss"],
        "final_train_elbo": history[-1]["train_elbo"],
        "num_epochs": len(history),
        "num_steps": int(result.state.step),
    }
    logger.write_summary(summary)
    return summary


if __name__ == "__main__":
    import sys

    from experiments.vae.configs import default, smoke

    chosen = smoke if "--smoke" in sys.argv else default
    print(
        train_and_evaluate(
            chosen.get_config(),
            sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "runs/vae",
        )
    )
