"""Seq2seq reversal / sorting with an encoder-decoder: teacher forcing vs free-running training."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

from jaxdl.experiment import Run, line_plot
from jaxdl.nn import EncoderDecoder, make_transduction_loss
from jaxdl.training import create_train_state, epochs_for_steps, fit

TASKS = ("reverse", "sort")
TRAININGS = ("teacher_forcing", "free_running")


def validate(config: dict) -> None:
    if config["task"] not in TASKS:
        raise ValueError(f"task must be one of {list(TASKS)}, got {config['task']!r}")
    unknown = [t for t in config["trainings"] if t not in TRAININGS]
    if unknown:
        raise ValueError(f"trainings must be among {list(TRAININGS)}, got unknown {unknown}")


def transduction_data(
    key: jax.Array, num_samples: int, length: int, num_symbols: int, task: str
) -> tuple[jax.Array, jax.Array]:
    """Random symbol strings ``s`` (one-hot ``x [N, T, K]``) and targets ``y [N, T]``: ``s``
    reversed or sorted."""
    s = jax.random.randint(key, (num_samples, length), 0, num_symbols)
    y = s[:, ::-1] if task == "reverse" else jnp.sort(s, axis=1)
    return jax.nn.one_hot(s, num_symbols), y


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train one encoder-decoder per training mode; evaluate free running (exact match)."""
    k_train, k_val, k_test, k_models = jax.random.split(workdir.key, 4)
    args = (config["length"], config["num_symbols"], config["task"])
    train = transduction_data(k_train, config["num_train"], *args)
    val = transduction_data(k_val, config["num_val"], *args)
    test = transduction_data(k_test, config["num_val"], *args)
    num_epochs = epochs_for_steps(config["num_steps"], config["num_train"], config["batch_size"])
    curves, results = {}, {}
    for index, training in enumerate(config["trainings"]):
        model = EncoderDecoder(
            num_hidden=config["num_hidden"],
            num_classes=config["num_symbols"],
            output_length=config["length"],
            cell=config["cell"],
        )
        tx = optax.chain(
            optax.clip_by_global_norm(config["clip_norm"]), optax.adam(config["learning_rate"])
        )
        k_init, k_fit = jax.random.split(jax.random.fold_in(k_models, index))
        state = create_train_state(k_init, model, train[0][:1], tx)
        loss_fn = make_transduction_loss(model, teacher_forcing=training == "teacher_forcing")
        result = fit(
            k_fit,
            state,
            loss_fn,
            train,
            num_epochs=num_epochs,
            batch_size=config["batch_size"],
            val_data=val,  # evaluate always runs free, as at inference
            **workdir.fit_kwargs(checkpoint=False, logger=False),
        )
        metrics = jax.jit(loss_fn.evaluate)(result.state.params, {}, test)
        curves[training] = [r["val_exact_match"] for r in result.history]
        results[training] = {
            "test_exact_match": float(metrics["exact_match"]),
            "test_token_accuracy": float(metrics["token_accuracy"]),
            "first_train_loss": result.history[0]["train_loss"],
            "final_train_loss": result.history[-1]["train_loss"],
        }
        workdir.logger.log(index, training=training, **results[training])
    line_plot(
        workdir / "exact_match.png",
        curves,
        xlabel="epoch",
        ylabel="validation exact match (free-running decoding)",
        title=f"seq2seq {config['task']}, length {config['length']}",
    )
    return results
