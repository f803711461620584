"""Attention forward + backward on CPU: jaxdl's implementations side by side with PyTorch.

Shapes of the tiny GPT benchmark (batch 16, T = 256, 4 heads of 64). For each mask
(none, padding, causal, causal + padding) the script times one jitted ``jax.vjp`` (the
forward and the gradients of query, key and value) of
:func:`jaxdl.nn.scaled_dot_product_attention` with ``implementation="jax"``
(:func:`jax.nn.dot_product_attention`), ``"reference"`` and ``"blocked"`` (what ``"auto"``
picks on CPU), and PyTorch's ``scaled_dot_product_attention`` forward + backward with the
same threads. Best of ``--repeats``, in milliseconds, and each one's ratio to PyTorch
(above 1 = faster than PyTorch), as JSON.

Run: ``python benchmarks/attention_cpu.py`` (``--threads``, ``--repeats``).
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import torch

from jaxdl.nn import padding_mask, scaled_dot_product_attention

BATCH, T, HEADS, D = 16, 256, 4, 64


def best_of(fn, repeats: int) -> float:
    jax.block_until_ready(fn())
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    q, k, v, d_out = (
        jax.random.normal(key, (BATCH, T, HEADS, D))
        for key in jax.random.split(jax.random.key(0), 4)
    )
    valid = jnp.arange(T)[None] < jnp.linspace(T // 2, T, BATCH)[:, None]
    as_torch = lambda x: torch.tensor(np.asarray(x)).transpose(1, 2).contiguous()  # noqa: E731
    tq, tk, tv = (as_torch(x).requires_grad_() for x in (q, k, v))
    t_out = as_torch(d_out)
    results = {}
    for name, causal, mask in (
        ("none", False, None),
        ("padding", False, padding_mask(valid)),
        ("causal", True, None),
        ("causal+padding", True, padding_mask(valid)),
    ):
        t_mask = None
        if mask is not None or causal:
            full = jnp.ones((1, 1, T, T), bool) if mask is None else mask
            if causal:
                full = full & jnp.tril(jnp.ones((T, T), bool))[None, None]
            t_mask = torch.tensor(np.asarray(full))

        def torch_step(t_mask=t_mask, causal=causal):
            out = torch.nn.functional.scaled_dot_product_attention(
                tq, tk, tv, attn_mask=t_mask, is_causal=causal and t_mask is None
            )
            return torch.autograd.grad(out, (tq, tk, tv), t_out)

        torch_ms = best_of(torch_step, args.repeats)
        row = {"torch_ms": torch_ms}
        for implementation in ("jax", "reference", "blocked"):

            def attend(q, k, v, mask=mask, causal=causal, implementation=implementation):
                return scaled_dot_product_attention(
                    q, k, v, mask, is_causal=causal, implementation=implementation
                )

            step = jax.jit(lambda q, k, v, g, attend=attend: jax.vjp(attend, q, k, v)[1](g))
            ms = best_of(lambda step=step: step(q, k, v, d_out), args.repeats)
            row[f"{implementation}_ms"] = ms
            row[f"{implementation}_vs_torch"] = torch_ms / ms
        results[name] = row
    print(
        json.dumps(
            {
                "shape": {"batch": BATCH, "T": T, "heads": HEADS, "d": D},
                "threads": args.threads,
                "forward_and_backward": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
