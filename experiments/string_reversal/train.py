"""An encoder-decoder Transformer learns to reverse random strings; attention maps plotted."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, figure, history_columns, line_plot
from jaxdl.nn import Transformer, translate
from jaxdl.pretraining import make_seq2seq_loss
from jaxdl.training import create_train_state, epochs_for_steps, fit

PAD, BOS, FIRST_LETTER = 0, 1, 2


def make_strings(key, num_examples: int, length: int, alphabet: int):
    """Random letter strings of ``length`` (ids >= 2) and their reversals."""
    source = jax.random.randint(key, (num_examples, length), FIRST_LETTER, FIRST_LETTER + alphabet)
    return source, source[:, ::-1]


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train with teacher forcing, decode the test strings greedily (KV cache), plot attention."""
    k_train, k_val, k_test, k_init, k_fit, k_decode = jax.random.split(workdir.key, 6)
    length, alphabet = config["length"], config["alphabet"]
    train = make_strings(k_train, config["num_train"], length, alphabet)
    val = make_strings(k_val, config["num_val"], length, alphabet)
    test = make_strings(k_test, config["num_test"], length, alphabet)
    vocab = FIRST_LETTER + alphabet
    model = Transformer(
        source_vocab_size=vocab,
        target_vocab_size=vocab,
        max_length=2 * length,
        num_layers=config["num_layers"],
        features=config["features"],
        num_heads=config["num_heads"],
        hidden_features=4 * config["features"],
    )
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, config["learning_rate"], config["warmup_steps"], config["num_steps"]
    )
    tx = optax.adam(schedule)
    state = create_train_state(k_init, model, train[0][:1], tx, extra_inputs=(train[1][:1],))
    loss_fn = make_seq2seq_loss(model, bos_id=BOS)
    result = fit(
        k_fit,
        state,
        loss_fn,
        train,
        num_epochs=epochs_for_steps(config["num_steps"], config["num_train"], config["batch_size"]),
        batch_size=config["batch_size"],
        val_data=val,
        epochs_per_chunk=config["epochs_per_chunk"],
        **workdir.fit_kwargs(checkpoint=config["checkpoint"]),
    )
    params = result.state.params
    decoded, _ = translate(k_decode, model, params, test[0], length, bos_id=BOS)
    exact = float(jnp.mean(jnp.all(decoded == test[1], axis=1)))
    token_accuracy = float(jnp.mean(decoded == test[1]))

    # cross-attention of the last decoder layer on the first test string
    teacher = jnp.concatenate([jnp.full((1, 1), BOS), test[1][:1, :-1]], axis=1)
    _, inter = model.apply({"params": params}, test[0][:1], teacher, mutable=["intermediates"])
    cross = inter["intermediates"]["decoder"]["block"]["cross_attention"]["attention_weights"][0]
    maps = np.asarray(cross[-1, 0])  # last layer, example 0: (heads, T, S)
    with figure(
        workdir / "attention.png", 1, maps.shape[0], figsize=(3.6 * maps.shape[0], 3.4)
    ) as axes:
        letters = [chr(ord("a") + int(i) - FIRST_LETTER) for i in np.asarray(test[0][0])]
        for head, ax in enumerate(np.atleast_1d(axes)):
            image = ax.imshow(maps[head], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_xticks(range(length), letters)
            ax.set_yticks(range(length), letters[::-1])
            ax.set_xlabel("source letter (position)")
            ax.set_ylabel("output step (letter produced)")
            ax.set_title(f"cross-attention, head {head + 1}")
            ax.figure.colorbar(image, ax=ax, label="attention weight")
    line_plot(
        workdir / "loss.png",
        history_columns(result.history, "train_loss", "val_loss"),
        xlabel="epoch",
        ylabel="cross-entropy (nats per token)",
        title="String reversal: loss",
    )
    anti_diagonal = float(np.mean(maps.max(0)[np.arange(length), np.arange(length)[::-1]]))
    history = result.history
    return {
        "test_exact_match": exact,
        "test_token_accuracy": token_accuracy,
        "attention_on_mirror_position": anti_diagonal,
        "first_train_loss": history[0]["train_loss"],
        "final_train_loss": history[-1]["train_loss"],
        "final_val_exact_match_teacher_forced": history[-1]["val_exact_match"],
        "num_steps": int(result.state.step),
        "num_epochs": len(history),
        "steps_per_second": float(np.median([r["steps_per_second"] for r in history])),
    }
