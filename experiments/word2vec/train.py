"""word2vec (skip-gram and CBOW, negative sampling, subsampling) on the CPython documentation."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, figure
from jaxdl.pretraining import (
    analogy,
    build_vocabulary,
    context_windows,
    init_word2vec_params,
    keep_probabilities,
    load_python_docs,
    make_word2vec_loss,
    nearest_neighbours,
    noise_distribution,
    words,
)
from jaxdl.training import TrainState, epochs_for_steps, fit

KINDS = ("skipgram", "cbow")

# a : b :: c : d questions in the vocabulary of the Python docs (number, verb / noun,
# opposites); the README reports which of them the embeddings answer
ANALOGIES = (
    ("list", "lists", "tuple", "tuples"),
    ("object", "objects", "module", "modules"),
    ("key", "keys", "value", "values"),
    ("method", "methods", "attribute", "attributes"),
    ("class", "classes", "function", "functions"),
    ("argument", "arguments", "statement", "statements"),
    ("true", "false", "yes", "no"),
    ("first", "last", "start", "end"),
    ("read", "write", "input", "output"),
    ("integer", "integers", "string", "strings"),
)
# (singular, plural) pairs whose cosine similarity is compared with random pairs
PAIRS = (
    ("list", "lists"),
    ("object", "objects"),
    ("key", "keys"),
    ("method", "methods"),
    ("class", "classes"),
    ("function", "functions"),
    ("argument", "arguments"),
    ("statement", "statements"),
    ("string", "strings"),
    ("value", "values"),
)


def validate(config: dict) -> None:
    unknown = [k for k in config["kinds"] if k not in KINDS]
    if unknown or not config["kinds"]:
        raise ValueError(
            f"kinds must be a non-empty subset of {list(KINDS)}, got {config['kinds']}"
        )


def _known(vocab, *names: str) -> bool:
    return all(n in vocab.index for n in names)


def _cosine(embeddings: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    unit = embeddings / np.maximum(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    return np.sum(unit[a] * unit[b], axis=1)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train each kind on the same windows; report neighbours, analogies, pair similarity."""
    stream = words(load_python_docs(config["max_chars"]))
    vocab = build_vocabulary(stream, config["min_count"])
    ids = jnp.asarray(vocab.encode(stream))
    counts = jnp.asarray(vocab.counts, jnp.float32)
    k_windows, k_val, k_models, k_random = jax.random.split(workdir.key, 4)
    # the last 5 % of the stream is held out: its positive-pair loss is the val metric
    n_val = len(ids) // 20
    keep = keep_probabilities(counts, config["subsample_threshold"])
    train = tuple(context_windows(k_windows, ids[:-n_val], config["window"], keep))
    val = tuple(context_windows(k_val, ids[-n_val:], config["window"], keep))
    noise = noise_distribution(counts)
    num_epochs = epochs_for_steps(config["num_steps"], len(train[0]), config["batch_size"])

    queries = [w for w in config["queries"] if w in vocab.index]
    query_ids = jnp.asarray([vocab.index[w] for w in queries], jnp.int32)
    questions = [q for q in ANALOGIES if _known(vocab, *q)]
    pairs = np.asarray([[vocab.index[a], vocab.index[b]] for a, b in PAIRS if _known(vocab, a, b)])
    random_pairs = np.asarray(
        jax.random.randint(k_random, (1000, 2), 0, min(len(vocab.words), 1000))
    )

    results: dict = {
        "vocabulary_size": len(vocab.words),
        "num_words": len(stream),
        "num_train_positions": int(len(train[0])),
        "kept_fraction": float(jnp.sum(keep[ids] * 1.0) / len(ids)),
    }
    curves = {}
    for index, kind in enumerate(config["kinds"]):
        k_init, k_fit = jax.random.split(jax.random.fold_in(k_models, index))
        params = init_word2vec_params(k_init, len(vocab.words), config["features"])
        state = TrainState.create(
            apply_fn=None, params=params, tx=optax.adam(config["learning_rate"])
        )
        loss_fn = make_word2vec_loss(noise, kind=kind, num_negatives=config["num_negatives"])
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
        history = result.history
        curves[kind] = [r["train_loss"] for r in history]
        embeddings = np.asarray(result.state.params["input"])
        neighbour_ids, _ = nearest_neighbours(jnp.asarray(embeddings), query_ids, config["k"])
        neighbours = {
            q: [vocab.words[int(i)] for i in row]
            for q, row in zip(queries, np.asarray(neighbour_ids), strict=True)
        }
        hits_at_1 = hits_at_k = 0
        answers = {}
        if questions:
            a, b, c, d = (
                jnp.asarray([vocab.index[q[i]] for q in questions], jnp.int32) for i in range(4)
            )
            top = np.asarray(analogy(jnp.asarray(embeddings), a, b, c, k=config["k"]))
            for q, row, expected in zip(questions, top, np.asarray(d), strict=True):
                answers[" : ".join(q[:3]) + " :: ?"] = vocab.words[int(row[0])]
                hits_at_1 += int(row[0] == expected)
                hits_at_k += int(expected in row)
        results[kind] = {
            "first_train_loss": history[0]["train_loss"],
            "final_train_loss": history[-1]["train_loss"],
            "final_val_positive_loss": history[-1]["val_positive_loss"],
            "num_steps": int(result.state.step),
            "neighbours": neighbours,
            "analogy_answers": answers,
            "analogy_hits_at_1": hits_at_1,
            f"analogy_hits_at_{config['k']}": hits_at_k,
            "num_analogies": len(questions),
            "plural_pair_cosine": float(np.mean(_cosine(embeddings, *pairs.T))),
            "random_pair_cosine": float(np.mean(_cosine(embeddings, *random_pairs.T))),
        }
        workdir.logger.log(index, kind=kind, **{k: v for k, v in results[kind].items()})
        for q, row in neighbours.items():
            print(f"{kind:9s} {q:>12s}: {', '.join(row)}")
    with figure(workdir / "loss.png") as ax:
        for kind, curve in curves.items():
            ax.plot(np.arange(1, len(curve) + 1), curve, label=kind)
        ax.set(
            xlabel="epoch",
            ylabel="negative-sampling loss (nats per scored pair)",
            title="word2vec on the Python docs",
        )
        ax.legend()
    return results
