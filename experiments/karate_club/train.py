"""Karate-club node classification with a 2-layer GCN; the 2-d node embeddings plotted.

Zachary's karate club (34 members, 78 friendships; networkx ships it) split into two clubs
after a dispute. A few members of each club are labelled; a GCN with one-hot node features
(Kipf and Welling 2017) propagates the labels along the friendships. The second layer has
two channels, so its outputs are both the class logits and a 2-d embedding to plot.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np
import optax

from jaxdl.experiment import Run, figure, history_columns, line_plot
from jaxdl.graphs import GCN, from_networkx
from jaxdl.metrics import accuracy
from jaxdl.training import TrainState, fit


def validate(config: dict) -> None:
    if 2 * config["labelled_per_class"] + config["num_val"] >= 34:
        raise ValueError(
            "2 * labelled_per_class + num_val must leave test members (< 34), got "
            f"{2 * config['labelled_per_class'] + config['num_val']}"
        )


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train on the labelled members, evaluate on the rest, plot the embeddings."""
    karate = nx.karate_club_graph()
    labels = np.array([karate.nodes[v]["club"] != "Mr. Hi" for v in karate], np.int32)
    graph = from_networkx(karate)
    graph = graph._replace(nodes=jnp.eye(graph.num_nodes))  # one-hot features
    rng = np.random.default_rng(config["data_seed"])
    train = np.concatenate(
        [
            rng.choice(np.flatnonzero(labels == c), config["labelled_per_class"], replace=False)
            for c in (0, 1)
        ]
    )
    rest = rng.permutation(np.setdiff1d(np.arange(34), train))
    val, test = rest[: config["num_val"]], rest[config["num_val"] :]

    model = GCN(features=(config["hidden"], 2))
    init_key, train_key = jax.random.split(workdir.key)
    params = model.init(init_key, graph.nodes, graph)["params"]
    tx = optax.adamw(config["learning_rate"], weight_decay=config["weight_decay"])

    def logits_of(params):
        return model.apply({"params": params}, graph.nodes, graph)

    def loss_fn(params, model_state, batch, key):
        nodes, y = batch
        logits = logits_of(params)[nodes]
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
        return loss, (model_state, {"accuracy": accuracy(y, logits)})

    def evaluate(params, model_state, batch):
        loss, (_, metrics) = loss_fn(params, model_state, batch, None)
        return {"loss": loss, **metrics}

    loss_fn.evaluate = evaluate
    state = TrainState.create(apply_fn=None, params=params, tx=tx)
    result = fit(
        train_key,
        state,
        loss_fn,
        (jnp.asarray(train), jnp.asarray(labels[train])),
        num_epochs=config["num_epochs"],
        val_data=(jnp.asarray(val), jnp.asarray(labels[val])),
        **workdir.fit_kwargs(checkpoint=False),
    )
    embedding = np.asarray(jax.jit(logits_of)(result.state.params))
    test_accuracy = float(accuracy(labels[test], embedding[test]))
    history = result.history
    line_plot(
        workdir / "loss.png",
        history_columns(history, "train_loss", "val_loss"),
        xlabel="epoch",
        ylabel="cross-entropy (nats)",
        title="Karate club GCN",
    )
    with figure(workdir / "embeddings.png", figsize=(6, 5)) as ax:
        for club, colour in ((0, "tab:blue"), (1, "tab:orange")):
            members = labels == club
            name = "Mr. Hi" if club == 0 else "Officer"
            ax.scatter(*embedding[members].T, c=colour, label=f"{name} club", alpha=0.7)
        ax.scatter(*embedding[train].T, facecolors="none", edgecolors="k", s=120, label="labelled")
        ax.set(xlabel="output channel 1 (logit)", ylabel="output channel 2 (logit)")
        ax.legend()
    return {
        "test_accuracy": test_accuracy,
        "num_test": int(test.size),
        "first_train_loss": float(history[0]["train_loss"]),
        "final_train_loss": float(history[-1]["train_loss"]),
        "final_val_accuracy": float(history[-1]["val_accuracy"]),
        "num_epochs": len(history),
    }
