"""Mixed precision, side by side: bf16 (and fp16 with dynamic loss scaling) vs float32 training.

Two models, each trained by ``fit`` from the same initial float32 weights on the same
batches, once per policy:

- ``mlp``: MLP 784-1024-1024-10 (ReLU), Adam 1e-3, batch 256, random MNIST-sized inputs;
- ``gpt``: tiny GPT (4 pre-LN layers, d = 256, 4 heads, T = 128, bytes), AdamW 3e-4,
  batch 16, random byte sequences.

Policies: ``float32``; ``mixed_bfloat16`` (float32 master weights, bfloat16 compute,
float32 loss) through ``make_supervised_loss(policy=...)``; ``mixed_float16`` with a
``DynamicLossScale`` through ``mixed_precision_step`` (``--fp16``). Each is timed on a
first ``fit`` call (compilation included) and on the best of ``--repeats`` further calls
on the same compiled program; the ratio is steady throughput over float32's. On a CPU
bfloat16 matmuls are emulated (converted to float32 and back), so bf16 is expected to be
*slower* there; the speed-up appears on TPUs and on GPUs with bf16 tensor cores.

Run: ``python benchmarks/precision.py`` (``--steps``, ``--gpt-steps``, ``--repeats``,
``--fp16``, ``--matmul-precision``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import jax
import numpy as np
import optax

from jaxdl.experiment import matmul_precision
from jaxdl.nn import GPT, MLP
from jaxdl.training import (
    DynamicLossScale,
    create_train_state,
    fit,
    make_supervised_loss,
    mixed_precision_step,
    with_loss_scale,
)


def _mlp_setup(steps: int):
    batch = 256
    key_x, key_y = jax.random.split(jax.random.key(0))
    x = jax.random.uniform(key_x, (batch * steps, 784))
    y = jax.random.randint(key_y, (batch * steps,), 0, 10)
    return MLP(features=(1024, 1024, 10)), optax.adam(1e-3), (x, y), batch, ("accuracy",)


def _gpt_setup(steps: int):
    batch, length = 16, 128
    tokens = jax.random.randint(jax.random.key(1), (batch * steps, length + 1), 0, 256)
    model = GPT(vocab_size=256, max_length=length, num_layers=4, features=256, num_heads=4,
                hidden_features=1024)  # fmt: skip
    return model, optax.adamw(3e-4), (tokens[:, :-1], tokens[:, 1:]), batch, ()


def _objective(model, metrics, policy: str, state):
    loss = make_supervised_loss(model, "cross_entropy", metrics=metrics, policy=policy)
    if policy != "mixed_float16":
        return loss, state
    scale = DynamicLossScale(initial_scale=2.0**15, period=200)
    return mixed_precision_step(loss, scale), with_loss_scale(state, scale)


def _time_model(name: str, setup, policies: list[str], repeats: int) -> dict:
    model, tx, data, batch, metrics = setup
    steps = data[0].shape[0] // batch
    state = create_train_state(jax.random.key(2), model, data[0][:1], tx)
    result = {"steps_per_run": steps, "batch_size": batch}
    for policy in policies:
        objective, start = _objective(model, metrics, policy, state)
        kwargs = dict(num_epochs=1, batch_size=batch, shuffle=False, progress=False)

        def once(objective=objective, start=start, kwargs=kwargs):
            out = fit(jax.random.key(3), start, objective, data, **kwargs)
            jax.block_until_ready(out.state.params)
            return out

        began = time.perf_counter()
        try:
            first = once()
        except ValueError as error:  # e.g. float16 attention dots are not supported on CPU
            result[policy] = {"error": str(error).splitlines()[0]}
            print(name, policy, "failed:", error, file=sys.stderr, flush=True)
            continue
        first_seconds = time.perf_counter() - began
        walls = []
        for _ in range(repeats):
            began = time.perf_counter()
            once()
            walls.append(time.perf_counter() - began)
        steady = min(walls)
        record = first.history[-1]
        result[policy] = {
            "first_run_seconds_with_compile": first_seconds,
            "steady_seconds": steady,
            "steps_per_second": steps / steady,
            "examples_per_second": steps * batch / steady,
            "mean_train_loss": record["train_loss"],
        }
        if "train_update_skipped" in record:
            result[policy]["skipped_update_share"] = record["train_update_skipped"]
            result[policy]["mean_loss_scale"] = record["train_loss_scale"]
        print(name, policy, f"{steps / steady:.2f} steps/s", file=sys.stderr, flush=True)
    base = result["float32"]["steps_per_second"]
    result["ratio_vs_float32"] = {
        p: result[p]["steps_per_second"] / base
        for p in policies
        if p != "float32" and "steps_per_second" in result[p]
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="MLP steps per run")
    parser.add_argument("--gpt-steps", type=int, default=10, help="GPT steps per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fp16", action="store_true", help="also float16 + loss scaling")
    parser.add_argument("--skip-gpt", action="store_true")
    parser.add_argument("--matmul-precision", default=None, choices=("default", "high", "highest"))
    args = parser.parse_args()
    policies = ["float32", "mixed_bfloat16"] + (["mixed_float16"] if args.fp16 else [])
    device = jax.devices()[0]
    out = {
        "platform": device.platform,
        "device_kind": device.device_kind,
        "device_count": jax.device_count(),
        "jax": jax.__version__,
        "matmul_precision": args.matmul_precision or "default",
    }
    with matmul_precision(args.matmul_precision):
        out["mlp"] = _time_model("mlp", _mlp_setup(args.steps), policies, args.repeats)
        if not args.skip_gpt:
            out["gpt"] = _time_model("gpt", _gpt_setup(args.gpt_steps), policies, args.repeats)
    out["note"] = (
        "steady = best of the repeats on the compiled program; the ratio is steady steps/s "
        "over float32's (> 1: faster than float32)"
    )
    print(json.dumps(out, indent=2, default=lambda v: float(np.asarray(v))))


if __name__ == "__main__":
    main()
