"""A small GPT trained on the Python documentation that ships with CPython (bytes)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, history_columns, line_plot
from jaxdl.nn import GPT, generate
from jaxdl.pretraining import ByteTokenizer, load_python_docs, make_causal_lm_loss, token_blocks
from jaxdl.training import create_train_state, epochs_for_steps, fit


def validate(config: dict) -> None:
    if config["block_length"] + 1 > config["max_length"]:
        raise ValueError(
            f"block_length must be < max_length={config['max_length']}, "
            f"got {config['block_length']}"
        )


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train on 90 % of the blocks, report val/test perplexity (nats/byte), print samples."""
    tokenizer = ByteTokenizer()
    text = load_python_docs(config["max_chars"])
    blocks = token_blocks(tokenizer.encode(text), config["block_length"] + 1)
    # contiguous splits: the test text is a different part of the documentation
    n = len(blocks)
    n_val, n_test = max(1, n // 20), max(1, n // 20)
    train = jnp.asarray(blocks[: n - n_val - n_test])
    val = jnp.asarray(blocks[n - n_val - n_test : n - n_test])
    test = jnp.asarray(blocks[n - n_test :])

    model = GPT(
        vocab_size=tokenizer.vocab_size,
        max_length=config["max_length"],
        num_layers=config["num_layers"],
        features=config["features"],
        num_heads=config["num_heads"],
        hidden_features=4 * config["features"],
        dropout_rate=config["dropout_rate"],
    )
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, config["learning_rate"], config["warmup_steps"], config["num_steps"]
    )
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=0.01))
    init_key, train_key, sample_key = jax.random.split(workdir.key, 3)
    state = create_train_state(init_key, model, train[:1], tx)
    loss_fn = make_causal_lm_loss(model, chunk_size=config["chunk_size"])
    num_epochs = epochs_for_steps(config["num_steps"], len(train), config["batch_size"])
    result = fit(
        train_key,
        state,
        loss_fn,
        (train,),
        num_epochs=num_epochs,
        batch_size=config["batch_size"],
        val_data=(val,),
        epochs_per_chunk=config["epochs_per_chunk"],
        **workdir.fit_kwargs(checkpoint=config["checkpoint"]),
    )
    params = result.state.params
    test_metrics = jax.jit(loss_fn.evaluate)(params, {}, (test,))
    prompts = config["prompts"]
    width = max(len(p) for p in prompts)
    prompt_ids = jnp.asarray(
        np.stack([tokenizer.encode(p.rjust(width)) for p in prompts]), jnp.int32
    )
    continuation = generate(
        sample_key,
        model,
        params,
        prompt_ids,
        config["sample_length"],
        temperature=config["temperature"],
    )
    samples = [tokenizer.decode(row) for row in np.asarray(continuation)]
    for sample in samples:
        print("---- sample ----\n" + sample)
    (workdir / "samples.txt").write_text("\n\n----\n\n".join(samples))
    history = result.history
    line_plot(
        workdir / "loss.png",
        history_columns(history, "train_loss", "val_loss"),
        xlabel="epoch",
        ylabel="cross-entropy (nats per byte)",
        title="GPT on the Python docs: loss",
    )
    return {
        "test_loss": float(test_metrics["loss"]),
        "test_perplexity": float(test_metrics["perplexity"]),
        "test_accuracy": float(test_metrics["accuracy"]),
        "test_bits_per_byte": float(test_metrics["loss"]) / float(np.log(2)),
        "first_train_loss": history[0]["train_loss"],
        "final_train_loss": history[-1]["train_loss"],
        "final_val_perplexity": history[-1]["val_perplexity"],
        "num_steps": int(result.state.step),
        "num_epochs": len(history),
        "num_params": int(sum(x.size for x in jax.tree_util.tree_leaves(params))),
        "steps_per_second": float(np.median([r["steps_per_second"] for r in history])),
        "samples": samples,
    }
