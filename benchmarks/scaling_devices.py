"""Training throughput on 1, 2, 4 and 8 simulated CPU devices: data parallel and FSDP.

A correctness-and-overhead check of ``fit(..., mesh=...)``, not a speed claim: the
simulated devices (``XLA_FLAGS=--xla_force_host_platform_device_count=n``) share the same
host cores, so more devices cannot run faster; what the numbers show is what partitioning
costs (compile time, collectives, per-device launches) and that every configuration
trains to the same losses as one device.

Models: the main job's MLP (MNIST-1D, 40-100-100-10 ReLU, Adam 1e-2; batch 128 instead of
100 so that it splits over 8 devices) and a tiny GPT (``jaxdl.nn.tiny_gpt``: 2 layers,
d = 16, on random 32-token blocks (31 predicted), batch 32). For every device count ``n`` a child
process (this script with ``--child``) runs, with the same initial weights and data:

- ``single``: ``fit`` with no mesh (the reference);
- ``dp``: ``mesh=make_mesh(data=n)``: state replicated, batch split over ``n``;
- ``fsdp``: ``mesh=make_mesh(fsdp=n)``: parameters and Adam moments split by
  ``fsdp_rules(min_size=256)``, batch split over ``n``.

Each is timed on a first call (compilation included) and the best of ``--repeats``
steady calls; ``compile_seconds`` is the difference. ``max_loss_gap`` is the largest
difference of the per-epoch training losses from ``single`` (float round-off: the sums
over devices are added in another order).

Run: ``python benchmarks/scaling_devices.py`` (``--epochs``, ``--repeats``,
``--devices 1 2 4 8``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

NOTE = (
    "correctness-and-overhead check, not a speed claim: the n simulated CPU devices share "
    "the same host cores (2 here, busy with other jobs), so steps/s cannot grow with n; "
    "the columns show the cost of partitioning and that losses match one device"
)


def child(args: argparse.Namespace) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    from jaxdl.data import load_mnist1d
    from jaxdl.nn import MLP, tiny_gpt
    from jaxdl.pretraining import make_causal_lm_loss
    from jaxdl.training import create_train_state, fit, fsdp_rules, make_mesh, make_supervised_loss

    n = len(jax.devices())
    data = load_mnist1d()
    mlp = MLP(features=(100, 100, 10), activation="relu", output=None)
    gpt = tiny_gpt()
    tokens = jax.random.randint(jax.random.key(3), (256, 32), 0, gpt.vocab_size)
    jobs = {
        "mlp": dict(
            state=create_train_state(jax.random.key(0), mlp, data.x_train[:1], optax.adam(1e-2)),
            loss=make_supervised_loss(mlp),
            data=(jnp.asarray(data.x_train), jnp.asarray(data.y_train)),
            batch_size=128,
        ),
        "gpt": dict(
            state=create_train_state(jax.random.key(4), gpt, tokens[:1], optax.adam(3e-3)),
            loss=make_causal_lm_loss(gpt),
            data=(tokens,),
            batch_size=32,
        ),
    }
    meshes = {
        "single": (None, None),
        "dp": (make_mesh(data=n), None),
        "fsdp": (make_mesh(fsdp=n), fsdp_rules(min_size=256)),
    }
    out = {}
    for name, job in jobs.items():
        examples = job["data"][0].shape[0] // job["batch_size"] * job["batch_size"]
        steps = examples // job["batch_size"] * args.epochs
        reference = None
        for mode, (mesh, rules) in meshes.items():

            def once(job=job, mesh=mesh, rules=rules):
                result = fit(
                    jax.random.key(1),
                    job["state"],
                    job["loss"],
                    job["data"],
                    num_epochs=args.epochs,
                    batch_size=job["batch_size"],
                    epochs_per_chunk=args.epochs,
                    progress=False,
                    mesh=mesh,
                    param_sharding=rules,
                )
                jax.block_until_ready(result.state)
                return result

            started = time.perf_counter()
            result = once()
            first = time.perf_counter() - started
            wall, cpu = [], []
            for _ in range(args.repeats):
                w, c = time.perf_counter(), time.process_time()
                once()
                wall.append(time.perf_counter() - w)
                cpu.append(time.process_time() - c)
            losses = np.asarray([h["train_loss"] for h in result.history])
            reference = losses if reference is None else reference
            leaf = max(jax.tree.leaves(result.state.params), key=lambda a: a.size)
            steady = min(wall)
            out[f"{name}_{mode}"] = {
                "steps_per_second": steps / steady,
                "examples_per_second": steps * job["batch_size"] / steady,
                "steady_seconds": steady,
                "steady_cpu_seconds": min(cpu),
                "compile_seconds": max(first - steady, 0.0),
                "final_train_loss": float(losses[-1]),
                "max_loss_gap": float(np.max(np.abs(losses - reference))),
                "largest_param_shard": list(leaf.addressable_shards[0].data.shape),
                "largest_param_shape": list(leaf.shape),
            }
            print(name, mode, "done", file=sys.stderr, flush=True)
    return {"devices": n, **out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    results = {}
    for n in args.devices:
        env = dict(os.environ)
        flags = [f for f in env.get("XLA_FLAGS", "").split() if "device_count" not in f]
        env["XLA_FLAGS"] = " ".join([*flags, f"--xla_force_host_platform_device_count={n}"])
        env["JAX_PLATFORMS"] = "cpu"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
        command = [sys.executable, os.path.abspath(__file__), "--child"]
        command += ["--epochs", str(args.epochs), "--repeats", str(args.repeats)]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"child with {n} devices failed:\n{done.stderr[-4000:]}")
        results[str(n)] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"{n} devices done", file=sys.stderr, flush=True)
    base = results[str(args.devices[0])]
    for record in results.values():
        for key, value in record.items():
            if isinstance(value, dict):
                reference = base[key]["steps_per_second"]
                value["throughput_vs_first_count"] = value["steps_per_second"] / reference
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    print(json.dumps({"note": NOTE, "epochs": args.epochs, "load_average": load, **results}))


if __name__ == "__main__":
    main()
