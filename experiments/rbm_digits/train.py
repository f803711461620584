"""Train a Bernoulli RBM on binarized digits; features, samples, filters and AIS likelihood."""

from __future__ import annotations

import functools
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from jaxdl.data import load_digits
from jaxdl.experiment import Run, history_columns, image_grid, line_plot
from jaxdl.probabilistic import rbm
from jaxdl.sampling import sample_chain
from jaxdl.training import train_rbm


def binarize(pixels: np.ndarray) -> np.ndarray:
    """Digits intensities 0..16 to {0, 1}: ``pixels / 16 > 0.5``."""
    return (np.asarray(pixels) / 16.0 > 0.5).astype(np.float32)


def nudge(images: np.ndarray) -> np.ndarray:
    """The images plus copies shifted by one pixel up, down, left and right (5x the data)."""
    grid = np.asarray(images).reshape(-1, 8, 8)
    shifted = [grid]
    for axis, step in ((1, 1), (1, -1), (2, 1), (2, -1)):
        moved = np.roll(grid, step, axis=axis)
        edge = 0 if step == 1 else -1
        index = [slice(None)] * 3
        index[axis] = edge
        moved[tuple(index)] = 0.0  # no wrap-around: the vacated row/column is blank
        shifted.append(moved)
    return np.concatenate(shifted).reshape(-1, 64)


def _image_grid(images: np.ndarray, path, title: str, cmap: str) -> None:
    count = images.shape[0]
    cols = int(np.ceil(np.sqrt(count)))
    rows = [images[i : i + cols] for i in range(0, count, cols)]
    if cmap == "RdBu_r":  # filters: symmetric colour scale around 0
        limit = float(np.abs(images).max())
        image_grid(rows, path, title=title, cmap=cmap, value_range=(-limit, limit))
    else:
        image_grid(rows, path, title=title, cmap=cmap)


def _logistic_accuracy(c: float, max_iter: int, x_train, y_train, x_test, y_test) -> float:
    model = LogisticRegression(C=c, max_iter=max_iter)
    with warnings.catch_warnings():
        # Smoke runs cap the iterations on purpose; the default config converges.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(np.asarray(x_train, np.float64), np.asarray(y_train))
    return float(model.score(np.asarray(x_test, np.float64), np.asarray(y_test)))


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train the RBM, evaluate features and likelihood; write the plots."""
    data = load_digits(test_fraction=config["test_fraction"], seed=config["data_seed"]).split_val(
        config["val_fraction"], seed=config["data_seed"]
    )
    x_train, y_train = np.asarray(data.x_train), np.asarray(data.y_train)
    if config["nudge"]:
        x_train, y_train = nudge(x_train), np.tile(y_train, 5)
    x_train = jnp.asarray(binarize(x_train))
    x_val = jnp.asarray(binarize(data.x_val))
    x_test = jnp.asarray(binarize(data.x_test))

    root = workdir.key
    init_key, train_key, sample_key, ais_key = jax.random.split(root, 4)
    params = rbm.init_params(init_key, 64, config["num_hidden"])
    initial_pll = float(jnp.mean(rbm.exact_pseudo_log_likelihood(params, x_test)))

    def evaluate(params, model_state, batch):
        # The validation curve: CD's monitors plus the exact pseudo-log-likelihood.
        (visible,) = batch
        metrics = rbm.cd_evaluate(params, model_state, batch)
        return {
            **metrics,
            "pseudo_log_likelihood": jnp.mean(rbm.exact_pseudo_log_likelihood(params, visible)),
        }

    start = time.perf_counter()
    result = train_rbm(
        train_key,
        params,
        x_train,
        num_epochs=config["num_epochs"],
        batch_size=config["batch_size"],
        learning_rate=config["learning_rate"],
        k=config["k"],
        persistent=config["persistent"],
        val_data=x_val,
        eval_fn=evaluate,
        **workdir.fit_kwargs(),
    )
    train_seconds = time.perf_counter() - start
    params, history = result.state.params, result.history
    final_pll = float(jnp.mean(rbm.exact_pseudo_log_likelihood(params, x_test)))

    # Features: P(h = 1 | v) into a logistic regression, against the raw binary pixels.
    features_train = rbm.hidden_probabilities(params, x_train)
    features_test = rbm.hidden_probabilities(params, x_test)
    max_iter = config["logistic_max_iter"]
    rbm_accuracy = _logistic_accuracy(
        config["logistic_c_rbm"], max_iter, features_train, y_train, features_test, data.y_test
    )
    raw_accuracy = _logistic_accuracy(
        config["logistic_c_raw"], max_iter, x_train, y_train, x_test, data.y_test
    )

    # Likelihood: AIS estimate of log Z from the base-rate model of the training pixels.
    base_bias = rbm.base_rate_visible_bias(x_train)
    ais = rbm.ais_log_partition(
        ais_key,
        params,
        num_runs=config["ais_runs"],
        num_betas=config["ais_betas"],
        base_visible_bias=base_bias,
    )
    test_log_likelihood = float(jnp.mean(rbm.log_likelihood(params, x_test, ais.log_partition)))
    # The base-rate model alone: independent pixels, log P(v) = sum_i v_i b_i - softplus(b_i).
    base_log_likelihood = float(jnp.mean(x_test @ base_bias - jnp.sum(jax.nn.softplus(base_bias))))

    # Samples from Gibbs chains started at random bits; filters are the weight columns.
    kernel = functools.partial(rbm.gibbs_kernel, params=params, num_sweeps=config["sample_sweeps"])
    samples_state, _ = sample_chain(
        sample_key, kernel, rbm.gibbs_init(params, jnp.zeros((config["num_samples"], 64))), 1
    )
    shown = np.asarray(rbm.visible_mean(params, samples_state.hidden))
    _image_grid(
        shown,
        workdir / "samples.png",
        f"P(v | h) after {config['sample_sweeps']} Gibbs sweeps",
        "gray_r",
    )
    filters = np.asarray(params.weights.T[: min(100, config["num_hidden"])])
    _image_grid(filters, workdir / "filters.png", "RBM filters (weight columns)", "RdBu_r")
    epochs = [r["epoch"] for r in history]
    line_plot(
        workdir / "pseudo_likelihood.png",
        history_columns(history, "val_pseudo_log_likelihood"),
        x=epochs,
        xlabel="epoch",
        ylabel="pseudo-log-likelihood (nats/image)",
        title="RBM on binarized digits: validation pseudo-likelihood (exact)",
    )
    line_plot(
        workdir / "reconstruction_error.png",
        history_columns(history, "train_reconstruction_error", "val_reconstruction_error"),
        x=epochs,
        xlabel="epoch",
        ylabel="squared reconstruction error",
        title="RBM on binarized digits",
    )

    summary = {
        "num_train": int(x_train.shape[0]),
        "num_test": int(x_test.shape[0]),
        "train_seconds": train_seconds,
        "num_val": int(x_val.shape[0]),
        "first_reconstruction_error": history[0]["train_reconstruction_error"],
        "final_reconstruction_error": history[-1]["train_reconstruction_error"],
        "final_val_pseudo_log_likelihood": history[-1]["val_pseudo_log_likelihood"],
        "initial_test_pseudo_log_likelihood": initial_pll,
        "final_test_pseudo_log_likelihood": final_pll,
        "logistic_accuracy_rbm_features": rbm_accuracy,
        "logistic_accuracy_raw_pixels": raw_accuracy,
        "ais_log_partition": float(ais.log_partition),
        "ais_log_partition_std": float(ais.log_partition_std),
        "test_log_likelihood_ais": test_log_likelihood,
        "test_log_likelihood_base_rate": base_log_likelihood,
    }
    if config["num_hidden"] <= 20:
        summary["exact_log_partition"] = float(rbm.log_partition_function(params))
    return summary
