"""A small BERT trained with the masked-LM objective on the CPython documentation (BPE)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, figure, history_columns, line_plot
from jaxdl.nn import BERT
from jaxdl.pretraining import (
    BPETokenizer,
    load_python_docs,
    make_masked_lm_loss,
    mask_tokens,
    token_blocks,
)
from jaxdl.training import create_train_state, epochs_for_steps, fit

MASK = "<mask>"


def _label(tokenizer: BPETokenizer, token: int) -> str:
    """A tick label for one token: its text with whitespace made visible."""
    text = tokenizer.decode([token])
    return text.replace(" ", "\u2423").replace("\n", "\u21b5")[:8]


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Pre-train with 15 % masking (80/10/10); masked-token accuracy on fixed val/test masks."""
    text = load_python_docs(config["max_chars"])
    # contiguous splits of the text: val and test are later parts of the documentation;
    # the BPE merges are learned on the training part only
    n = len(text)
    train_text = text[: int(0.9 * n)]
    tokenizer = BPETokenizer.train(train_text, config["bpe_vocab_size"], specials=(MASK,))
    mask_id = tokenizer.special_id(MASK)
    length = config["block_length"]
    train = jnp.asarray(token_blocks(tokenizer.encode(train_text), length))
    val = jnp.asarray(token_blocks(tokenizer.encode(text[int(0.9 * n) : int(0.95 * n)]), length))
    test = jnp.asarray(token_blocks(tokenizer.encode(text[int(0.95 * n) :]), length))

    k_val, k_test, k_init, k_fit = jax.random.split(workdir.key, 4)
    corrupt = dict(mask_id=mask_id, vocab_size=tokenizer.num_symbols, rate=config["mask_rate"])
    # one fixed corruption of the val and test blocks, so that numbers are comparable
    val_masked = tuple(mask_tokens(k_val, val, **corrupt))
    test_masked = tuple(mask_tokens(k_test, test, **corrupt))

    model = BERT(
        vocab_size=tokenizer.vocab_size,
        max_length=length,
        num_layers=config["num_layers"],
        features=config["features"],
        num_heads=config["num_heads"],
        hidden_features=4 * config["features"],
        dropout_rate=config["dropout_rate"],
        pooler=False,
        mlm_head=True,
    )
    schedule = optax.warmup_cosine_decay_schedule(
        0.0, config["learning_rate"], config["warmup_steps"], config["num_steps"]
    )
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=0.01))
    state = create_train_state(k_init, model, train[:1], tx)
    loss_fn = make_masked_lm_loss(model, **corrupt)
    result = fit(
        k_fit,
        state,
        loss_fn,
        (train,),
        num_epochs=epochs_for_steps(config["num_steps"], len(train), config["batch_size"]),
        batch_size=config["batch_size"],
        val_data=val_masked,
        epochs_per_chunk=config["epochs_per_chunk"],
        **workdir.fit_kwargs(checkpoint=config["checkpoint"]),
    )
    params = result.state.params
    test_metrics = jax.jit(loss_fn.evaluate)(params, {}, test_masked)

    # baseline: always predict the most frequent training token
    inputs, targets, selected = (np.asarray(a) for a in test_masked)
    most_frequent = int(np.bincount(np.asarray(train).ravel()).argmax())
    unigram_accuracy = float(np.mean(targets[selected] == most_frequent))

    # one test block: original, corrupted, and the model's fill-in of the selected tokens
    out, inter = model.apply({"params": params}, test_masked[0][:1], mutable=["intermediates"])
    predicted = np.where(selected[0], np.asarray(jnp.argmax(out.logits[0], -1)), inputs[0])
    example = "\n".join(
        [
            "original:  " + tokenizer.decode(targets[0]),
            "corrupted: " + tokenizer.decode(inputs[0]),
            "filled in: " + tokenizer.decode(predicted),
        ]
    )
    print(example)
    (workdir / "fill_in.txt").write_text(example + "\n")

    # attention maps of every layer and head on the first tokens of that block
    weights = inter["intermediates"]["layers"]["block"]["self_attention"]["attention_weights"]
    maps = np.asarray(weights[0][:, 0])  # (layers, heads, T, T)
    shown = min(config["plot_tokens"], length)
    labels = [_label(tokenizer, int(t)) for t in inputs[0][:shown]]
    num_layers, num_heads = maps.shape[:2]
    with figure(
        workdir / "attention.png",
        num_layers,
        num_heads,
        figsize=(3.2 * num_heads, 3.0 * num_layers),
        squeeze=False,
    ) as axes:
        for layer in range(num_layers):
            for head in range(num_heads):
                ax = axes[layer, head]
                image = ax.imshow(maps[layer, head, :shown, :shown], cmap="viridis", vmin=0.0)
                ax.set_xticks(range(shown), labels, rotation=90, fontsize=6)
                ax.set_yticks(range(shown), labels, fontsize=6)
                ax.set_xlabel("key token (attended to)")
                ax.set_ylabel("query token")
                ax.set_title(f"layer {layer + 1}, head {head + 1}", fontsize=8)
                ax.figure.colorbar(image, ax=ax, label="attention weight")
    history = result.history
    line_plot(
        workdir / "loss.png",
        history_columns(history, "train_loss", "val_loss"),
        xlabel="epoch",
        ylabel="masked-LM cross-entropy (nats per selected token)",
        title="BERT masked LM on the Python docs",
    )
    line_plot(
        workdir / "masked_accuracy.png",
        history_columns(history, "train_masked_accuracy", "val_masked_accuracy"),
        xlabel="epoch",
        ylabel="masked-token accuracy (fraction)",
        title="BERT masked LM on the Python docs",
    )
    return {
        "test_masked_accuracy": float(test_metrics["masked_accuracy"]),
        "test_loss": float(test_metrics["loss"]),
        "test_unigram_baseline_accuracy": unigram_accuracy,
        "test_selected_fraction": float(selected.mean()),
        "first_train_loss": history[0]["train_loss"],
        "final_train_loss": history[-1]["train_loss"],
        "final_val_masked_accuracy": history[-1]["val_masked_accuracy"],
        "vocab_size": tokenizer.vocab_size,
        "num_train_blocks": int(len(train)),
        "num_steps": int(result.state.step),
        "num_epochs": len(history),
        "num_params": int(sum(x.size for x in jax.tree_util.tree_leaves(params))),
        "steps_per_second": float(np.median([r["steps_per_second"] for r in history])),
    }
