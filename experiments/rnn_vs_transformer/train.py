"""RNN (LSTM / GRU encoder-decoder) vs Transformer on the same string-reversal task.

Every architecture is trained as a population of ``num_seeds`` members (different
initializations and data orders) in one compiled program by ``jaxdl.training.fit_many``;
the test strings are decoded free running (RNN) or greedily with the KV cache
(Transformer), and the table reports exact match and wall time per architecture.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, figure
from jaxdl.nn import EncoderDecoder, Transformer, make_transduction_loss, translate
from jaxdl.pretraining import make_seq2seq_loss
from jaxdl.training import create_train_state, epochs_for_steps, fit_many

MODELS = ("lstm", "gru", "transformer")
BOS, FIRST_SYMBOL = 1, 2  # transformer ids: 0 pad (unused), 1 BOS, symbols from 2


def validate(config: dict) -> None:
    unknown = [m for m in config["models"] if m not in MODELS]
    if unknown or not config["models"]:
        models = config["models"]
        raise ValueError(f"models must be a non-empty subset of {list(MODELS)}, got {models}")


def reversal_data(key, num_examples: int, length: int, num_symbols: int):
    """Random symbol strings ``s`` ``(N, L)`` in ``[0, K)`` and their reversals."""
    s = jax.random.randint(key, (num_examples, length), 0, num_symbols)
    return s, s[:, ::-1]


def _member(tree, index: int):
    return jax.tree.map(lambda a: a[index], tree)


def _population(keys, model, example_input, tx, extra_inputs):
    """``len(keys)`` train states stacked on a leading member axis (one per seed)."""
    return jax.vmap(
        lambda k: create_train_state(k, model, example_input, tx, extra_inputs=extra_inputs)
    )(keys)


def _setup(name: str, config: dict):
    """Model, objective, data transform and per-member test scorer of one architecture."""
    length, symbols = config["length"], config["num_symbols"]
    if name == "transformer":
        model = Transformer(
            source_vocab_size=FIRST_SYMBOL + symbols,
            target_vocab_size=FIRST_SYMBOL + symbols,
            max_length=length,
            num_layers=config["transformer_layers"],
            features=config["transformer_features"],
            num_heads=config["transformer_heads"],
            hidden_features=4 * config["transformer_features"],
        )

        def data(s, y):
            return s + FIRST_SYMBOL, y + FIRST_SYMBOL

        def score(params, source, target):
            decoded, _ = translate(jax.random.key(0), model, params, source, length, bos_id=BOS)
            return decoded == target

        return model, make_seq2seq_loss(model, bos_id=BOS), data, score, 1.0

    model = EncoderDecoder(
        num_hidden=config["rnn_hidden"], num_classes=symbols, output_length=length, cell=name
    )
    loss_fn = make_transduction_loss(model, teacher_forcing=True)

    def data(s, y):
        return jax.nn.one_hot(s, symbols), y

    def score(params, x, y):
        logits = model.apply({"params": params}, x)  # free running (greedy), as at inference
        return jnp.argmax(logits, -1) == y

    # the RNN loss sums over the L steps of a string; divided by L it is nats per token
    return model, loss_fn, data, score, float(length)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train each architecture's population with fit_many; exact match and wall time."""
    k_train, k_val, k_test, k_models = jax.random.split(workdir.key, 4)
    args = (config["length"], config["num_symbols"])
    raw = {
        "train": reversal_data(k_train, config["num_train"], *args),
        "val": reversal_data(k_val, config["num_val"], *args),
        "test": reversal_data(k_test, config["num_test"], *args),
    }
    num_epochs = epochs_for_steps(config["num_steps"], config["num_train"], config["batch_size"])
    seeds = config["num_seeds"]
    results, curves = {}, {}
    for index, name in enumerate(config["models"]):
        model, loss_fn, transform, score, per_token = _setup(name, config)
        train, val, test = (transform(*raw[split]) for split in ("train", "val", "test"))
        schedule = optax.warmup_cosine_decay_schedule(
            0.0, config["learning_rate"], config["warmup_steps"], config["num_steps"]
        )
        tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adam(schedule))
        k_init, k_fit = jax.random.split(jax.random.fold_in(k_models, index))
        extra = (train[1][:1],) if name == "transformer" else ()
        start = time.perf_counter()
        states = _population(jax.random.split(k_init, seeds), model, train[0][:1], tx, extra)
        out = fit_many(
            k_fit,
            states,
            loss_fn,
            train,
            num_epochs=num_epochs,
            batch_size=config["batch_size"],
            val_data=val,
        )
        jax.block_until_ready(out.state.params)
        wall = time.perf_counter() - start
        right = [np.asarray(score(_member(out.state.params, m), *test)) for m in range(seeds)]
        exact = np.asarray([r.all(axis=1).mean() for r in right])
        token = np.asarray([r.mean() for r in right])
        loss = np.asarray(out.history["train_loss"]) / per_token  # (M, epochs)
        curves[name] = loss
        results[name] = {
            "test_exact_match_mean": float(exact.mean()),
            "test_exact_match_std": float(exact.std()),
            "test_exact_match_per_seed": exact.tolist(),
            "test_token_accuracy_mean": float(token.mean()),
            "first_train_loss_per_token": float(loss[:, 0].mean()),
            "final_train_loss_per_token": float(loss[:, -1].mean()),
            "num_params": int(sum(x[0].size for x in jax.tree_util.tree_leaves(out.state.params))),
            "population_wall_seconds": wall,
            "num_steps": int(out.state.step[0]),
        }
        workdir.logger.log(index, model=name, **results[name])
        print(
            f"{name:12s} exact match {exact.mean():.3f} +- {exact.std():.3f} "
            f"({seeds} seeds), {wall:.1f} s"
        )
    with figure(workdir / "loss.png") as ax:
        for name, loss in curves.items():
            epochs = np.arange(1, loss.shape[1] + 1)
            ax.plot(epochs, loss.mean(0), label=f"{name} (mean of {seeds} seeds)")
            ax.fill_between(epochs, loss.min(0), loss.max(0), alpha=0.2)
        ax.set(
            xlabel="epoch",
            ylabel="teacher-forced cross-entropy (nats per token)",
            title=f"reversal of {config['length']} symbols: RNN vs Transformer",
            yscale="log",
        )
        ax.legend()
    return results
