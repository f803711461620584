"""A GCN training step on a batch of random graphs: jaxdl against PyTorch Geometric.

The batch: random graphs of 20-200 nodes (Erdos-Renyi, mean degree about 6) merged into
one graph of about 10,000 nodes; 32 node features, a 2-layer GCN 32-64-8 (ReLU), node
classification with random labels, Adam 1e-3. Both sides start from the same weights and
data (the first losses are printed and must agree); each step is the forward pass, the
backward pass and the Adam update. jaxdl runs one jitted step on the padded, bucketed
batch (``jaxdl.graphs.batch_graphs``: 16,384 node slots); PyTorch Geometric runs
``torch_geometric.nn.GCNConv`` (self-loops and symmetric normalization, as jaxdl's) on the
unpadded edge list, with torch's default threads (or ``--torch-threads``). The JSON also
reports how many programs the bucketing compiles for a dataset of batches of varied
sizes: the number of distinct padded shapes (what jit compiles) against the number of
distinct raw sizes.

Run: ``python benchmarks/gcn_vs_torch.py`` (``--steps``, ``--repetitions``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.graphs import GCN, batch_graphs, from_adjacency, propagate


def random_graphs(rng, total_nodes: int, features: int, mean_degree: float = 6.0):
    graphs, count = [], 0
    while count < total_nodes:
        n = int(rng.integers(20, 201))
        upper = np.triu(rng.random((n, n)) < mean_degree / n, 1).astype(np.float32)
        x = rng.normal(size=(n, features)).astype(np.float32)
        graphs.append(from_adjacency(upper + upper.T, x))
        count += n
    return graphs


def count_programs(seed: int, num_batches: int = 100) -> dict:
    """Distinct padded shapes (jit programs) for batches of 4-64 random graphs."""
    rng = np.random.default_rng(seed)
    raw, padded = set(), set()
    step = jax.jit(lambda g: jnp.sum(propagate(g.nodes, g)))
    for _ in range(num_batches):
        graphs = random_graphs(rng, int(rng.integers(200, 3000)), 4)
        batch = batch_graphs(graphs, num_graphs=64)
        raw.add((sum(g.num_nodes for g in graphs), sum(g.num_edges for g in graphs)))
        padded.add((batch.num_nodes, batch.num_edges))
        step(batch)
    return {
        "batches": num_batches,
        "distinct_raw_sizes": len(raw),
        "compiled_programs": int(step._cache_size()),
        "distinct_padded_shapes": len(padded),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--torch-threads", type=int, default=0, help="0: torch's default")
    args = parser.parse_args()

    import torch
    from torch_geometric.nn import GCNConv

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)

    rng = np.random.default_rng(args.seed)
    features, hidden, classes = 32, 64, 8
    graphs = random_graphs(rng, args.nodes, features)
    batch = batch_graphs(graphs)
    real_nodes = int(batch.node_mask.sum())
    real_edges = int(batch.edge_mask.sum())
    labels_np = rng.integers(0, classes, size=batch.num_nodes).astype(np.int32)

    # ---- jaxdl ----
    model = GCN(features=(hidden, classes), activation=nn.relu)
    params = model.init(jax.random.key(args.seed), batch.nodes, batch)["params"]
    tx = optax.adam(1e-3)
    labels = jnp.asarray(labels_np)

    def loss_fn(params, graph):
        logits = model.apply({"params": params}, graph.nodes, graph)
        per_node = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
        mask = graph.node_mask.astype(per_node.dtype)
        return jnp.sum(per_node * mask) / jnp.sum(mask)

    @jax.jit
    def train_step(params, opt_state, graph):
        loss, grads = jax.value_and_grad(loss_fn)(params, graph)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    # ---- PyTorch Geometric, same weights and data ----
    class TorchGCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = GCNConv(features, hidden)
            self.conv2 = GCNConv(hidden, classes)

        def forward(self, x, edge_index):
            return self.conv2(torch.relu(self.conv1(x, edge_index)), edge_index)

    torch_model = TorchGCN()
    with torch.no_grad():
        for conv, name in ((torch_model.conv1, "GCNConv_0"), (torch_model.conv2, "GCNConv_1")):
            conv.lin.weight.copy_(
                torch.from_numpy(np.asarray(params[name]["linear"]["kernel"]).T.copy())
            )
            conv.bias.copy_(torch.from_numpy(np.asarray(params[name]["bias"]).copy()))
    x_t = torch.from_numpy(np.asarray(batch.nodes)[:real_nodes].copy())
    edge_index = torch.from_numpy(
        np.stack(
            [np.asarray(batch.senders)[:real_edges], np.asarray(batch.receivers)[:real_edges]]
        ).astype(np.int64)
    )
    y_t = torch.from_numpy(labels_np[:real_nodes].astype(np.int64))
    optimizer = torch.optim.Adam(torch_model.parameters(), lr=1e-3)

    def torch_step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(torch_model(x_t, edge_index), y_t)
        loss.backward()
        optimizer.step()
        return loss.detach()

    # first losses from the same weights must agree
    opt_state = tx.init(params)
    start = time.perf_counter()
    params, opt_state, jax_loss0 = train_step(params, opt_state, batch)
    jax_loss0.block_until_ready()
    compile_seconds = time.perf_counter() - start
    torch_loss0 = float(torch_step())
    np.testing.assert_allclose(float(jax_loss0), torch_loss0, rtol=1e-4)

    def time_jax():
        nonlocal params, opt_state
        start = time.perf_counter()
        for _ in range(args.steps):
            params, opt_state, loss = train_step(params, opt_state, batch)
        loss.block_until_ready()
        return args.steps / (time.perf_counter() - start)

    def time_torch():
        start = time.perf_counter()
        for _ in range(args.steps):
            torch_step()
        return args.steps / (time.perf_counter() - start)

    time_jax(), time_torch()  # warm-up
    jax_rates, torch_rates = [], []
    for _ in range(args.repetitions):  # alternate so a busy machine slows both alike
        jax_rates.append(time_jax())
        torch_rates.append(time_torch())
    jax_rate, torch_rate = statistics.median(jax_rates), statistics.median(torch_rates)
    print(
        json.dumps(
            {
                "benchmark": "gcn_training_step",
                "graphs": len(graphs),
                "nodes": real_nodes,
                "node_slots": batch.num_nodes,
                "edges": real_edges,
                "edge_slots": batch.num_edges,
                "first_loss": {"jaxdl": float(jax_loss0), "torch_geometric": torch_loss0},
                "jaxdl_compile_seconds": round(compile_seconds, 3),
                "jaxdl_steps_per_second": round(jax_rate, 2),
                "torch_geometric_steps_per_second": round(torch_rate, 2),
                "ratio_jaxdl_over_torch_geometric": round(jax_rate / torch_rate, 3),
                "torch_threads": torch.get_num_threads(),
                "bucketing": count_programs(args.seed + 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
