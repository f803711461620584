"""Long-term dependencies at lag ~100: simple RNN vs LSTM vs GRU, gradient norms, LSTM variants.

Two tasks: the adding problem (remember two marked values over ~100 steps) and the
last-marked-value task (overwrite the memory at every marker: old content must be discarded,
which is what the forget gate is for).
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, line_plot
from jaxdl.nn import SequenceClassifier, make_cell, state_gradient_norms
from jaxdl.training import create_train_state, epochs_for_steps, fit, make_supervised_loss

# name -> (cell kind, LSTM options)
MODELS = {
    "simple": ("simple", {}),
    "lstm": ("lstm", {}),
    "gru": ("gru", {}),
    "gru_library": ("gru_library", {}),
    "lstm_peephole": ("lstm", {"peephole": True}),
    "lstm_NIG": ("lstm", {"input_gate": False}),
    "lstm_NFG": ("lstm", {"forget_gate": False}),
    "lstm_NOG": ("lstm", {"output_gate": False}),
    "lstm_NIAF": ("lstm", {"input_activation": False}),
    "lstm_NOAF": ("lstm", {"output_activation": False}),
}


def validate(config: dict) -> None:
    unknown = [m for m in config["models"] if m not in MODELS]
    if unknown:
        raise ValueError(f"models must be among {sorted(MODELS)}, got unknown {unknown}")
    if config["length"] < 20:
        raise ValueError(f"length must be >= 20, got {config['length']}")
    if config["task"] not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {config['task']!r}")
    if not 1 <= config["num_markers"] <= config["length"]:
        raise ValueError(
            f"num_markers must be in [1, length={config['length']}], got {config['num_markers']}"
        )


def adding_problem(key: jax.Array, num_samples: int, length: int) -> tuple[jax.Array, jax.Array]:
    """Values ``v_t ~ U[0, 1]`` and two markers, one in the first 10 steps and one in the second
    half; the target is the sum of the two marked values (the lag of the first marker to the
    output is at least ``length - 10``). Returns ``x [N, T, 2]`` and ``y [N, 1]``."""
    k_v, k_a, k_b = jax.random.split(key, 3)
    values = jax.random.uniform(k_v, (num_samples, length))
    first = jax.random.randint(k_a, (num_samples,), 0, 10)
    second = jax.random.randint(k_b, (num_samples,), length // 2, length)
    steps = jnp.arange(length)[None, :]
    markers = ((steps == first[:, None]) | (steps == second[:, None])).astype(values.dtype)
    y = jnp.sum(values * markers, axis=1, keepdims=True)
    return jnp.stack([values, markers], axis=-1), y


def last_marked_value(
    key: jax.Array, num_samples: int, length: int, num_markers: int
) -> tuple[jax.Array, jax.Array]:
    """Values ``v_t ~ U[0, 1]`` and ``num_markers`` markers at distinct random steps; the target
    is the value at the *last* marker. Every marker supersedes what the earlier ones marked, so
    a model must discard its stored value at each one (the forget gate's job). Returns
    ``x [N, T, 2]`` and ``y [N, 1]``."""
    k_v, k_m = jax.random.split(key)
    values = jax.random.uniform(k_v, (num_samples, length))
    _, positions = jax.lax.top_k(jax.random.uniform(k_m, (num_samples, length)), num_markers)
    markers = jnp.sum(jax.nn.one_hot(positions, length, dtype=values.dtype), axis=1)
    last = jnp.max(positions, axis=1)
    y = jnp.take_along_axis(values, last[:, None], axis=1)
    return jnp.stack([values, markers], axis=-1), y


TASKS = ("adding", "last_marked")


def _make_data(config: dict, key: jax.Array, num_samples: int) -> tuple[jax.Array, jax.Array]:
    if config["task"] == "last_marked":
        return last_marked_value(key, num_samples, config["length"], config["num_markers"])
    return adding_problem(key, num_samples, config["length"])


def _gradient_norms(model, params, x, y, kind, options):
    """``||dL/dh_t||`` of the squared error at the last step, averaged over sequences."""
    cell = make_cell(kind, model.num_hidden, **options)
    cell_params = {"params": params["cell"]}
    head = nn.Dense(1)
    head_params = {"params": params["output"]}

    def readout(carry):
        return carry[1] if isinstance(carry, tuple) else carry

    def one(x_seq, y_seq):
        carry0 = cell.initialize_carry(jax.random.key(0), x_seq[0].shape)
        transition = lambda carry, x_t: cell.apply(cell_params, carry, x_t)[0]  # noqa: E731
        loss = lambda hs: jnp.sum(jnp.square(head.apply(head_params, hs[-1]) - y_seq))  # noqa: E731
        return state_gradient_norms(transition, carry0, x_seq, loss, readout)

    return jnp.mean(jax.vmap(one)(x, y), axis=0)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train every model of ``config['models']`` through ``fit``; plot losses and gradient norms."""
    k_data, k_val, k_test, k_models = jax.random.split(workdir.key, 4)
    length = config["length"]
    train = _make_data(config, k_data, config["num_train"])
    val = _make_data(config, k_val, config["num_val"])
    test = _make_data(config, k_test, config["num_val"])
    task = "adding problem" if config["task"] == "adding" else "last marked value"
    baseline = float(jnp.mean(jnp.square(test[1] - jnp.mean(train[1]))))  # predict the mean
    num_epochs = epochs_for_steps(config["num_steps"], config["num_train"], config["batch_size"])
    curves, norms, results = {}, {}, {}
    for index, name in enumerate(config["models"]):
        kind, options = MODELS[name]
        model = SequenceClassifier(
            num_hidden=config["num_hidden"], num_outputs=1, cell=kind, cell_options=options
        )
        tx = optax.chain(
            optax.clip_by_global_norm(config["clip_norm"]), optax.adam(config["learning_rate"])
        )
        k_init, k_fit = jax.random.split(jax.random.fold_in(k_models, index))
        state = create_train_state(k_init, model, train[0][:1], tx)
        loss_fn = make_supervised_loss(model, "mse", ())
        result = fit(
            k_fit,
            state,
            loss_fn,
            train,
            num_epochs=num_epochs,
            batch_size=config["batch_size"],
            val_data=val,
            **workdir.fit_kwargs(checkpoint=False, logger=False),
        )
        params = result.state.params
        test_mse = float(jax.jit(loss_fn.evaluate)(params, {}, test)["loss"])
        curves[name] = [r["val_loss"] for r in result.history]
        sample = slice(0, config["num_gradient_sequences"])
        norms[name] = np.asarray(
            jax.jit(lambda p, x, y, m=model, k=kind, o=options: _gradient_norms(m, p, x, y, k, o))(
                params, test[0][sample], test[1][sample]
            )
        )
        results[name] = {
            "test_mse": test_mse,
            "first_train_loss": result.history[0]["train_loss"],
            "final_train_loss": result.history[-1]["train_loss"],
            "solved": test_mse < 0.1 * baseline,
            "grad_norm_first_over_last": float(norms[name][0] / max(norms[name][-1], 1e-30)),
        }
        workdir.logger.log(index, model=name, **results[name])
    line_plot(
        workdir / "val_loss.png",
        {**curves, "predict the mean": [baseline] * num_epochs},
        xlabel="epoch",
        ylabel="validation MSE",
        title=f"{task}, length {length}",
        log_y=True,
    )
    line_plot(
        workdir / "gradient_norms.png",
        {name: np.maximum(values, 1e-30).tolist() for name, values in norms.items()},
        x=list(range(1, length + 1)),
        xlabel="time step t",
        ylabel="||dL/dh_t|| (trained models, mean over sequences)",
        title="gradient reaching each hidden state from the loss at t = T",
        log_y=True,
    )
    return {"task": config["task"], "baseline_mse": baseline, "models": results}
