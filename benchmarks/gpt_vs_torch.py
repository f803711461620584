"""A tiny GPT's training step: jaxdl (one jitted, donated XLA program) vs PyTorch eager.

Sizes of the issue: 4 pre-LN layers, d = 256, 4 heads, FFN 1,024 (exact GELU), T = 256,
batch 16, byte vocabulary (256), tied output, AdamW (lr 3e-4). Both sides start from the
same weights (copied from the flax parameters into ``torch.nn.TransformerEncoderLayer``s)
and train on the same random byte batches. Reported: steps/s of each (median over timed
steps after warm-up), the ratio (target >= 1.5x), the course cost model's FLOPs per
step (``jaxdl.nn.transformer_flops``, training = 3 x forward) as achieved FLOP/s, and the
CPU's float32 matmul peak measured in the same run (a 2,048^2 jitted matmul). Also the
first-step loss of both sides (they must agree: same weights, same data).

Run: ``python benchmarks/gpt_vs_torch.py`` (``--steps``, ``--warmup``, ``--threads``;
``--cores 1 --threads 1`` pins both to one core for an equal-resources comparison, since
XLA:CPU always uses every core it is given).
No GPU was available in the session that wrote this; the GPU half of the issue (GPT-2
small tokens/s and MFU on an H100/H200) is not measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch

from jaxdl.nn import GPT, transformer_flops

LAYERS, D, HEADS, T, BATCH, VOCAB = 4, 256, 4, 256, 16, 256


def jax_model() -> GPT:
    return GPT(
        vocab_size=VOCAB,
        max_length=T,
        num_layers=LAYERS,
        features=D,
        num_heads=HEADS,
        hidden_features=4 * D,
        norm="pre",
        final_norm=True,
        activation="gelu",
        scan_unroll=LAYERS,  # unrolled stack: no per-layer slicing of activations on CPU
    )


class TorchGPT(torch.nn.Module):
    """The same network in PyTorch: embeddings, pre-LN encoder layers with a causal mask."""

    def __init__(self):
        super().__init__()
        self.token = torch.nn.Embedding(VOCAB, D)
        self.position = torch.nn.Parameter(torch.zeros(T, D))
        self.layers = torch.nn.ModuleList(
            torch.nn.TransformerEncoderLayer(
                D,
                HEADS,
                4 * D,
                dropout=0.0,
                activation="gelu",
                batch_first=True,
                norm_first=True,
            )
            for _ in range(LAYERS)
        )
        self.norm = torch.nn.LayerNorm(D)
        self.register_buffer("mask", torch.nn.Transformer.generate_square_subsequent_mask(T))

    def forward(self, tokens):
        h = self.token(tokens) + self.position[: tokens.shape[1]]
        for layer in self.layers:
            h = layer(h, src_mask=self.mask, is_causal=True)
        return self.norm(h) @ self.token.weight.T


def copy_weights(params, model: TorchGPT) -> None:
    p = jax.tree_util.tree_map(np.asarray, params)
    layers = p["layers"]["block"]

    def put(target, value):
        target.copy_(torch.tensor(np.ascontiguousarray(value)))

    with torch.no_grad():
        put(model.token.weight, p["token_embedding"]["embedding"])
        put(model.position, p["position_embedding"]["embedding"])
        put(model.norm.weight, p["final_norm"]["scale"])
        put(model.norm.bias, p["final_norm"]["bias"])
        for i, layer in enumerate(model.layers):
            a = layers["self_attention"]
            names = ("query", "key", "value")
            put(
                layer.self_attn.in_proj_weight,
                np.concatenate([a[n]["kernel"][i].reshape(D, D).T for n in names]),
            )
            put(
                layer.self_attn.in_proj_bias,
                np.concatenate([a[n]["bias"][i].reshape(D) for n in names]),
            )
            put(layer.self_attn.out_proj.weight, a["out"]["kernel"][i].reshape(D, D).T)
            put(layer.self_attn.out_proj.bias, a["out"]["bias"][i])
            f = layers["feed_forward"]
            put(layer.linear1.weight, f["hidden"]["kernel"][i].T)
            put(layer.linear1.bias, f["hidden"]["bias"][i])
            put(layer.linear2.weight, f["output"]["kernel"][i].T)
            put(layer.linear2.bias, f["output"]["bias"][i])
            put(layer.norm1.weight, layers["self_attention_norm"]["scale"][i])
            put(layer.norm1.bias, layers["self_attention_norm"]["bias"][i])
            put(layer.norm2.weight, layers["feed_forward_norm"]["scale"][i])
            put(layer.norm2.bias, layers["feed_forward_norm"]["bias"][i])


def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    """Float32 FLOP/s of a jitted square matmul (best of ``repeats``)."""
    key_a, key_b = jax.random.split(jax.random.key(1))
    a = jax.random.normal(key_a, (size, size))
    b = jax.random.normal(key_b, (size, size))
    f = jax.jit(lambda a, b: a @ b)
    f(a, b).block_until_ready()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        f(a, b).block_until_ready()
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--cores",
        type=int,
        default=None,
        help="pin the whole process (XLA's and PyTorch's threads) to the first N cores",
    )
    args = parser.parse_args()
    if args.cores is not None:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[: args.cores])
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    batches = rng.integers(0, VOCAB, (args.warmup + args.steps, BATCH, T + 1)).astype(np.int32)
    model = jax_model()
    params = model.init(jax.random.key(0), jnp.asarray(batches[0, :1, :T]))["params"]
    tx = optax.adamw(3e-4)

    def loss_fn(params, tokens):
        logits = model.apply({"params": params}, tokens[:, :-1])
        return optax.softmax_cross_entropy_with_integer_labels(logits, tokens[:, 1:]).mean()

    @partial(jax.jit, donate_argnums=(0, 1))
    def step(params, opt_state, tokens):
        loss, grads = jax.value_and_grad(loss_fn)(params, tokens)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    torch_model = TorchGPT()
    copy_weights(params, torch_model)
    optimizer = torch.optim.AdamW(torch_model.parameters(), lr=3e-4, weight_decay=1e-4)

    def torch_step(tokens):
        tokens = torch.from_numpy(tokens).long()
        optimizer.zero_grad(set_to_none=True)
        logits = torch_model(tokens[:, :-1])
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, VOCAB), tokens[:, 1:].reshape(-1)
        )
        loss.backward()
        optimizer.step()
        return float(loss)

    opt_state = tx.init(params)
    compile_start = time.perf_counter()
    params, opt_state, first_loss = step(params, opt_state, jnp.asarray(batches[0]))
    first_loss = float(first_loss)
    compile_seconds = time.perf_counter() - compile_start
    torch_first_loss = torch_step(batches[0])

    jax_times, torch_times = [], []
    for i in range(1, args.warmup + args.steps):
        tokens = jnp.asarray(batches[i])
        start = time.perf_counter()
        params, opt_state, loss = step(params, opt_state, tokens)
        loss.block_until_ready()
        jax_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        torch_step(batches[i])
        torch_times.append(time.perf_counter() - start)
    jax_times, torch_times = jax_times[args.warmup - 1 :], torch_times[args.warmup - 1 :]
    jax_seconds, torch_seconds = statistics.median(jax_times), statistics.median(torch_times)
    flops = transformer_flops(
        LAYERS, D, T, hidden_features=4 * D, vocab_size=VOCAB, batch_size=BATCH
    ).training
    peak = matmul_peak()
    print(
        json.dumps(
            {
                "sizes": {
                    "layers": LAYERS,
                    "d": D,
                    "heads": HEADS,
                    "T": T,
                    "batch": BATCH,
                    "vocab": VOCAB,
                },
                "jaxdl_steps_per_second": 1.0 / jax_seconds,
                "torch_steps_per_second": 1.0 / torch_seconds,
                "ratio": torch_seconds / jax_seconds,
                "target_ratio": 1.5,
                "jaxdl_compile_seconds": compile_seconds,
                "first_loss": {"jaxdl": first_loss, "torch": torch_first_loss},
                "training_flops_per_step": flops,
                "jaxdl_flops_per_second": flops / jax_seconds,
                "torch_flops_per_second": flops / torch_seconds,
                "matmul_peak_flops_per_second": peak,
                "jaxdl_fraction_of_peak": flops / jax_seconds / peak,
                "timed_steps": args.steps,
                "threads": args.threads,
                "cores": len(os.sched_getaffinity(0)),
                "gpu": "none available in this session",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
