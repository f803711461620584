"""Link prediction on held-out edges: GCN node embeddings, p(u ~ v) = sigmoid(h_u . h_v).

A stochastic block model graph (communities densely connected inside, sparsely across;
networkx generates it) loses a random 20 % of its edges: 15 % are the test positives and
5 % the validation positives, each matched by as many node pairs that are not edges (the
negatives). A 2-layer GCN over the remaining graph (one-hot node features) embeds the
nodes; the score of a pair is the dot product of its embeddings (course chapter 11). Each
training step contrasts every training edge with a fresh uniformly drawn pair (negative
sampling, from the step's key). ROC-AUC and average precision on the test pairs come from
``jaxdl.metrics``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import optax

from jaxdl.experiment import Run, figure, history_columns, line_plot
from jaxdl.graphs import GCN, link_logits, make_graph
from jaxdl.metrics import average_precision, precision_recall_curve, roc_auc, roc_curve
from jaxdl.training import TrainState, fit


def validate(config: dict) -> None:
    total = config["val_fraction"] + config["test_fraction"]
    if not 0 < total < 1:
        raise ValueError(f"val_fraction + test_fraction must lie in (0, 1), got {total}")


def _negatives(rng, n, edges: set, count: int) -> np.ndarray:
    pairs = []
    while len(pairs) < count:
        u, v = (int(i) for i in rng.integers(0, n, 2))
        if u != v and (min(u, v), max(u, v)) not in edges:
            pairs.append((u, v))
            edges = edges | {(min(u, v), max(u, v))}  # no duplicates across splits
    return np.asarray(pairs, np.int32)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Hold out edges, train the encoder with negative sampling, score the held-out pairs."""
    sbm = nx.stochastic_block_model(
        config["community_sizes"],
        [
            [
                config["p_in"] if i == j else config["p_out"]
                for j in range(len(config["community_sizes"]))
            ]
            for i in range(len(config["community_sizes"]))
        ],
        seed=config["data_seed"],
    )
    n = sbm.number_of_nodes()
    rng = np.random.default_rng(config["data_seed"])
    edges = np.asarray(sorted((min(u, v), max(u, v)) for u, v in sbm.edges()), np.int32)
    edges = edges[rng.permutation(len(edges))]
    n_test = int(round(config["test_fraction"] * len(edges)))
    n_val = int(round(config["val_fraction"] * len(edges)))
    test_pos, val_pos, train_pos = (
        edges[:n_test],
        edges[n_test : n_test + n_val],
        edges[n_test + n_val :],
    )
    all_edges = {tuple(e) for e in edges.tolist()}
    test_neg = _negatives(rng, n, all_edges, n_test)
    val_neg = _negatives(rng, n, all_edges | {tuple(e) for e in test_neg.tolist()}, n_val)
    both = np.concatenate([train_pos, train_pos[:, ::-1]])
    graph = make_graph(np.eye(n, dtype=np.float32), both[:, 0], both[:, 1], directed=False)

    model = GCN(features=tuple(config["features"]))
    init_key, train_key = jax.random.split(workdir.key)
    params = model.init(init_key, graph.nodes, graph)["params"]

    def embed(params):
        return model.apply({"params": params}, graph.nodes, graph)

    def pair_scores(params, pairs):
        return link_logits(embed(params), pairs[:, 0], pairs[:, 1])

    def loss_fn(params, model_state, batch, key):
        (pos,) = batch
        neg = jax.random.randint(key, pos.shape, 0, n)
        h = embed(params)
        pos_logits = link_logits(h, pos[:, 0], pos[:, 1])
        neg_logits = link_logits(h, neg[:, 0], neg[:, 1])
        loss = 0.5 * (
            optax.sigmoid_binary_cross_entropy(pos_logits, jnp.ones_like(pos_logits)).mean()
            + optax.sigmoid_binary_cross_entropy(neg_logits, jnp.zeros_like(neg_logits)).mean()
        )
        return loss, (model_state, {})

    def evaluate(params, model_state, batch):
        pairs, labels = batch
        logits = pair_scores(params, pairs)
        loss = optax.sigmoid_binary_cross_entropy(logits, labels.astype(logits.dtype)).mean()
        return {"loss": loss, "accuracy": jnp.mean((logits > 0) == (labels == 1))}

    loss_fn.evaluate = evaluate
    val_pairs = np.concatenate([val_pos, val_neg])
    val_labels = np.concatenate([np.ones(n_val), np.zeros(n_val)]).astype(np.int32)
    state = TrainState.create(apply_fn=None, params=params, tx=optax.adam(config["learning_rate"]))
    result = fit(
        train_key,
        state,
        loss_fn,
        (jnp.asarray(train_pos),),
        num_epochs=config["num_epochs"],
        val_data=(jnp.asarray(val_pairs), jnp.asarray(val_labels)),
        **workdir.fit_kwargs(checkpoint=False),
    )
    test_pairs = np.concatenate([test_pos, test_neg])
    test_labels = np.concatenate([np.ones(n_test), np.zeros(n_test)]).astype(np.int32)
    scores = np.asarray(jax.jit(pair_scores)(result.state.params, jnp.asarray(test_pairs)))
    auc = float(roc_auc(test_labels, scores))
    ap = float(average_precision(test_labels, scores))
    fpr, tpr, _ = roc_curve(test_labels, scores)
    precision, recall, _ = precision_recall_curve(test_labels, scores)
    with figure(workdir / "roc_pr.png", 1, 2, figsize=(11, 4.5)) as (ax_roc, ax_pr):
        ax_roc.plot(fpr, tpr, label=f"GCN (AUC {auc:.3f})")
        ax_roc.plot([0, 1], [0, 1], "k--", label="chance")
        ax_roc.set(
            xlabel="false-positive rate", ylabel="true-positive rate", title="ROC, test pairs"
        )
        ax_roc.legend()
        ax_pr.plot(recall, precision, label=f"GCN (AP {ap:.3f})")
        ax_pr.axhline(0.5, color="k", ls="--", label="chance (half positives)")
        ax_pr.set(xlabel="recall", ylabel="precision", title="Precision-recall, test pairs")
        ax_pr.legend()
    history = result.history
    line_plot(
        workdir / "loss.png",
        history_columns(history, "train_loss", "val_loss"),
        xlabel="epoch",
        ylabel="binary cross-entropy (nats)",
        title="Link prediction",
    )
    return {
        "test_roc_auc": auc,
        "test_average_precision": ap,
        "num_nodes": n,
        "num_train_edges": int(len(train_pos)),
        "num_test_pairs": int(len(test_pairs)),
        "first_train_loss": float(history[0]["train_loss"]),
        "final_train_loss": float(history[-1]["train_loss"]),
        "final_val_accuracy": float(history[-1]["val_accuracy"]),
    }
