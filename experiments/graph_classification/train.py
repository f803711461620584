"""Graph classification (does a random graph contain a triangle?): NN4G, GCN, spectral, GGNN.

Each graph is an Erdos-Renyi graph of 8-16 nodes whose node features are ``[1, degree/4]``;
the label says whether it has a triangle (``trace(A^3) / 6`` counts them: closed walks
of length 3). The graphs are padded to one bucket and stacked, so ``fit`` slices
minibatches of whole graphs and every model is vmapped over the graphs of a minibatch
(one compiled program per model). NN4G is trained constructively, one layer at a time
with the earlier layers frozen (Micheli 2009); the other models are trained end to end.
"""

from __future__ import annotations

import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.experiment import Run, figure, history_columns, line_plot
from jaxdl.graphs import (
    NN4G,
    GatedGNN,
    GCNConv,
    Graph,
    SpectralConv,
    from_adjacency,
    grow_nn4g_params,
    mean_readout,
    stack_graphs,
    sum_readout,
)
from jaxdl.metrics import accuracy
from jaxdl.training import TrainState, fit

MODELS = ("nn4g", "gcn", "spectral", "ggnn")


def validate(config: dict) -> None:
    unknown = sorted(set(config["models"]) - set(MODELS))
    if unknown:
        raise ValueError(f"models must be among {list(MODELS)}, got unknown {unknown}")
    if not 3 <= config["min_nodes"] <= config["max_nodes"]:
        raise ValueError(
            "min_nodes and max_nodes must satisfy 3 <= min_nodes <= max_nodes, got "
            f"{config['min_nodes']} and {config['max_nodes']}"
        )


def make_dataset(seed: int, num_graphs: int, min_nodes: int, max_nodes: int, p: float):
    """Random graphs, labels 1 when the graph has a triangle (trace A^3 > 0)."""
    rng = np.random.default_rng(seed)
    graphs, labels = [], []
    for _ in range(num_graphs):
        n = int(rng.integers(min_nodes, max_nodes + 1))
        upper = np.triu(rng.random((n, n)) < p, 1).astype(np.float32)
        a = upper + upper.T
        triangles = np.trace(np.linalg.matrix_power(a, 3)) / 6  # closed 3-walks / 6
        x = np.stack([np.ones(n), a.sum(1) / 4], 1).astype(np.float32)
        graphs.append(from_adjacency(a, x))
        labels.append(int(triangles > 0))
    return graphs, np.asarray(labels, np.int32)


class ConvNet(nn.Module):
    """GCN or spectral convolutions (ReLU), a sum and mean readout, a linear head."""

    kind: str
    hidden: int
    num_layers: int

    @nn.compact
    def __call__(self, x, graph: Graph):
        h = x
        for _ in range(self.num_layers):
            conv = GCNConv(self.hidden) if self.kind == "gcn" else SpectralConv(self.hidden)
            h = nn.relu(conv(h, graph))
        r = jnp.concatenate([sum_readout(h, graph), mean_readout(h, graph)], -1)
        return nn.Dense(2)(nn.relu(nn.Dense(self.hidden)(r)))


class GGNNNet(nn.Module):
    """Gated GNN states, a sum and mean readout, a linear head."""

    hidden: int
    num_layers: int

    @nn.compact
    def __call__(self, x, graph: Graph):
        h = GatedGNN(self.hidden, num_steps=self.num_layers)(x, graph)
        r = jnp.concatenate([sum_readout(h, graph), mean_readout(h, graph)], -1)
        return nn.Dense(2)(nn.relu(nn.Dense(self.hidden)(r)))


def _batched_apply(model: nn.Module):
    def apply(params, graphs: Graph):
        out = jax.vmap(lambda g: model.apply({"params": params}, g.nodes, g))(graphs)
        return out[:, 0, :]  # one graph slot per stacked graph

    return apply


def _objective(apply):
    def loss_fn(params, model_state, batch, key):
        graphs, labels = batch
        logits = apply(params, graphs)
        loss = optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()
        return loss, (model_state, {"accuracy": accuracy(labels, logits)})

    def evaluate(params, model_state, batch):
        loss, (_, metrics) = loss_fn(params, model_state, batch, None)
        return {"loss": loss, **metrics}

    loss_fn.evaluate = evaluate
    return loss_fn


def _train(key, model, params, data, config, workdir, num_epochs):
    apply = _batched_apply(model)
    loss_fn = _objective(apply)
    state = TrainState.create(apply_fn=None, params=params, tx=optax.adam(config["learning_rate"]))
    result = fit(
        key,
        state,
        loss_fn,
        data["train"],
        num_epochs=num_epochs,
        batch_size=config["batch_size"],
        val_data=data["val"],
        **workdir.fit_kwargs(checkpoint=False, logger=False),
    )
    return result, apply


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train each model, evaluate on the test split, plot; return the metrics table."""
    graphs, labels = make_dataset(
        config["data_seed"],
        config["num_graphs"],
        config["min_nodes"],
        config["max_nodes"],
        config["edge_probability"],
    )
    stacked = stack_graphs(graphs)  # one bucket: 16 node slots
    order = np.random.default_rng(config["data_seed"]).permutation(len(graphs))
    n_test = int(round(config["test_fraction"] * len(graphs)))
    n_val = int(round(config["val_fraction"] * len(graphs)))
    splits = {
        "test": order[:n_test],
        "val": order[n_test : n_test + n_val],
        "train": order[n_test + n_val :],
    }
    data = {
        k: (jax.tree.map(lambda a, i=idx: a[i], stacked), labels[idx]) for k, idx in splits.items()
    }
    example = jax.tree.map(lambda a: a[0], stacked)
    hidden, layers = config["hidden"], config["num_layers"]
    results, curves = {}, {}
    keys = jax.random.split(workdir.key, len(config["models"]))
    for key, name in zip(keys, config["models"], strict=True):
        init_key, train_key = jax.random.split(key)
        start = time.perf_counter()
        if name == "nn4g":
            params, history = None, []
            for depth in range(1, layers + 1):  # constructive: one new layer at a time
                model = NN4G(features=(hidden,) * depth, num_outputs=2, frozen_layers=depth - 1)
                fresh = model.init(jax.random.fold_in(init_key, depth), example.nodes, example)
                params = (
                    fresh["params"] if params is None else grow_nn4g_params(params, fresh["params"])
                )
                result, apply = _train(
                    jax.random.fold_in(train_key, depth),
                    model,
                    params,
                    data,
                    config,
                    workdir,
                    config["nn4g_epochs_per_layer"],
                )
                params = result.state.params
                history += result.history
        else:
            model = ConvNet(name, hidden, layers) if name != "ggnn" else GGNNNet(hidden, layers)
            params = model.init(init_key, example.nodes, example)["params"]
            result, apply = _train(
                train_key, model, params, data, config, workdir, config["num_epochs"]
            )
            params, history = result.state.params, result.history
        seconds = time.perf_counter() - start
        test_logits = jax.jit(apply)(params, data["test"][0])
        results[name] = {
            "test_accuracy": float(accuracy(data["test"][1], test_logits)),
            "val_accuracy": float(history[-1]["val_accuracy"]),
            "first_train_loss": float(history[0]["train_loss"]),
            "final_train_loss": float(history[-1]["train_loss"]),
            "num_params": int(sum(np.size(p) for p in jax.tree.leaves(params))),
            "train_seconds": seconds,
        }
        curves[name] = history_columns(history, "val_accuracy")["val_accuracy"]
    line_plot(
        workdir / "val_accuracy.png",
        curves,
        xlabel="epoch (NN4G: all constructive stages in a row)",
        ylabel="validation accuracy",
        title="Triangle detection",
    )
    with figure(workdir / "test_accuracy.png") as ax:
        names = list(results)
        ax.bar(names, [results[n]["test_accuracy"] for n in names], label="test")
        ax.axhline(
            max(labels.mean(), 1 - labels.mean()), color="k", ls="--", label="majority class"
        )
        ax.set(xlabel="model", ylabel="test accuracy", ylim=(0, 1))
        ax.legend()
    summary = {f"{m}_{k}": v for m, r in results.items() for k, v in r.items()}
    summary["positive_fraction"] = float(labels.mean())
    summary["node_slots"] = int(example.num_nodes)
    return summary
