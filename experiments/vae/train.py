"""Train a (conditional) VAE on scikit-learn digits with the compiled ``fit`` loop."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_digits
from jaxdl.experiment import Run, figure, history_columns, image_grid, line_plot
from jaxdl.probabilistic.vae import VAE, make_vae_loss
from jaxdl.training import create_train_state, fit


def validate(config: dict) -> None:
    """Names checked before the run directory is created."""
    if config["likelihood"] not in ("bernoulli", "gaussian"):
        raise ValueError(
            f"likelihood must be 'bernoulli' or 'gaussian', got {config['likelihood']!r}"
        )


def _batch(config: dict, x, y):
    return (x, y) if config["conditional"] else (x,)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train the VAE, evaluate the test ELBO, write the plots; return the metrics."""
    data = load_digits(test_fraction=config["test_fraction"], seed=config["data_seed"]).split_val(
        config["val_fraction"], seed=config["data_seed"]
    )
    # Grey levels 0..16 scaled to [0, 1]: fractional Bernoulli targets.
    x_train = jnp.asarray(data.x_train) / 16.0
    x_val = jnp.asarray(data.x_val) / 16.0
    x_test = jnp.asarray(data.x_test) / 16.0
    y_train, y_val, y_test = (jnp.asarray(y) for y in (data.y_train, data.y_val, data.y_test))

    model = VAE(
        latent_size=config["latent_size"],
        output_size=x_train.shape[1],
        encoder_hidden=tuple(config["hidden"]),
        decoder_hidden=tuple(config["hidden"]),
        likelihood=config["likelihood"],
        num_classes=data.num_classes if config["conditional"] else None,
        activation=config["activation"],
    )
    root = workdir.key
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
        val_data=_batch(config, x_val, y_val),
        eval_fn=eval_fn,
        epochs_per_chunk=config["epochs_per_chunk"],
        **workdir.fit_kwargs(),
    )
    params = result.state.params
    variables = {"params": params}
    history = result.history

    # ELBO curve.
    line_plot(
        workdir / "elbo.png",
        history_columns(history, "train_elbo", "val_elbo"),
        xlabel="epoch",
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
        workdir / "reconstructions.png",
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
        workdir / "prior_samples.png",
        row_titles=titles,
        title="Samples: z ~ N(0, I), decoder mean",
    )
    # The test set in latent space (posterior means), coloured by digit.
    mean, _ = model.apply(
        variables, x_test, y_test if config["conditional"] else None, method=VAE.encode
    )
    mean = np.asarray(mean)
    with figure(workdir / "latent.png", figsize=(5.5, 5)) as ax:
        scatter = ax.scatter(mean[:, 0], mean[:, 1], c=np.asarray(y_test), cmap="tab10", s=8)
        ax.figure.colorbar(scatter, ax=ax, label="digit")
        ax.set_xlabel("latent 1 (posterior mean)")
        ax.set_ylabel("latent 2 (posterior mean)")
        ax.set_title("VAE latent space of the test digits")

    final = jax.jit(eval_fn)(params, result.state.model_state, _batch(config, x_test, y_test))
    summary = {
        "initial_test_elbo": float(initial["elbo"]),
        "final_test_elbo": float(final["elbo"]),
        "final_test_kl": float(final["kl"]),
        "final_test_reconstruction_log_likelihood": float(final["reconstruction_log_likelihood"]),
        "final_val_elbo": history[-1]["val_elbo"],
        "first_train_loss": history[0]["train_loss"],
        "final_train_loss": history[-1]["train_loss"],
        "final_train_elbo": history[-1]["train_elbo"],
        "num_epochs": len(history),
        "num_steps": int(result.state.step),
    }
    return summary
