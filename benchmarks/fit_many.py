"""``fit_many`` against the loop of single ``fit`` calls it replaces, by population size.

Populations of MLPs 40-100-100-10 on MNIST-1D (different seeds and learning rates), at
8, 32 and 128 members, and one RBM-sized case (784-500-10 on random data, 16 members).
For each size: a Python loop of ``fit`` calls (one compiled program shared by all
members), and ``fit_many`` as one ``vmap`` over all members, as ``map`` (``lax.map``, one
member after another in one program) and as ``auto`` (blocks chosen from each member's
state bytes, ``auto_picks``); ``--blocks 2 4 ...`` adds ``map`` with those block sizes.
Every timing is the median of ``--repeats`` steady calls after a first call that compiles
(the machine is shared: medians, with the 1-minute load average in the report); CPU time
(all threads) is reported beside wall time. Ratios are loop time / fit_many time (> 1:
fit_many is faster).

Run: ``python benchmarks/fit_many.py --repeats 3`` (``--epochs``, ``--sizes``, ``--blocks``,
``--no-rbm``). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_mnist1d
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, fit, fit_many, make_supervised_loss, set_hyperparams
from jaxdl.training.population import choose_strategy


def _timed(fn, repeats: int) -> dict:
    started = time.perf_counter()
    fn()
    first = time.perf_counter() - started
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {
        "first_seconds": first,
        "seconds": statistics.median(walls),
        "cpu_seconds": statistics.median(cpus),
        "runs": walls,
    }


def _population(model, x, num_members: int, seed: int = 0):
    tx = optax.inject_hyperparams(optax.adam)(learning_rate=1e-3)
    keys = jax.random.split(jax.random.key(seed), num_members)
    states = jax.vmap(lambda k: create_train_state(k, model, x[:1], tx))(keys)
    rates = jnp.geomspace(1e-3, 3e-2, num_members)
    return states.replace(opt_state=set_hyperparams(states.opt_state, learning_rate=rates))


def _case(name, model, x, y, num_members, epochs, batch_size, repeats, strategies, blocks):
    loss_fn = make_supervised_loss(model, "cross_entropy", ())
    states = _population(model, x, num_members)
    run_keys = jax.random.split(jax.random.key(1), num_members)

    def loop():
        finals = []
        for i in range(num_members):
            member = jax.tree.map(lambda a, i=i: a[i], states)
            result = fit(
                run_keys[i],
                member,
                loss_fn,
                (x, y),
                num_epochs=epochs,
                batch_size=batch_size,
                progress=False,
            )
            finals.append(result.state.params)
        return jax.block_until_ready(finals)

    def many(strategy, block_size=None):
        def run():
            result = fit_many(
                run_keys,
                states,
                loss_fn,
                (x, y),
                num_epochs=epochs,
                batch_size=batch_size,
                strategy=strategy,
                block_size=block_size,
            )
            return jax.block_until_ready(result.state.params)

        return run

    out = {"members": num_members, "loop_of_fit": _timed(loop, repeats)}
    runs = [(strategy, strategy, 1 if strategy == "map" else None) for strategy in strategies]
    runs += [(f"map_block{b}", "map", b) for b in blocks if b < num_members]
    for label, strategy, block_size in runs:
        out[f"fit_many_{label}"] = _timed(many(strategy, block_size), repeats)
        out[f"ratio_loop_over_{label}"] = (
            out["loop_of_fit"]["seconds"] / out[f"fit_many_{label}"]["seconds"]
        )
    out["auto_picks"] = list(choose_strategy(states, num_members))
    print(name, num_members, "done", file=sys.stderr, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[8, 32, 128])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--blocks", type=int, nargs="*", default=[])
    parser.add_argument("--no-rbm", action="store_true")
    args = parser.parse_args()
    strategies = ("vmap", "map", "auto")

    load_before = os.getloadavg()[0]
    data = load_mnist1d(num_samples=5000, seed=42)
    model = MLP(features=(100, 100, 10), activation="relu", output=None)
    cases = {"mlp_40-100-100-10": []}
    for size in args.sizes:
        cases["mlp_40-100-100-10"].append(
            _case(
                "mlp",
                model,
                data.x_train,
                data.y_train,
                size,
                args.epochs,
                100,
                args.repeats,
                strategies,
                args.blocks,
            )
        )
    if not args.no_rbm:
        x = jax.random.uniform(jax.random.key(2), (1000, 784))
        y = jax.random.randint(jax.random.key(3), (1000,), 0, 10)
        big = MLP(features=(500, 10), activation="sigmoid", output=None)
        cases["rbm_sized_784-500-10"] = [
            _case("rbm-sized", big, x, y, 16, 2, 100, args.repeats, strategies, args.blocks)
        ]
    report = {
        "benchmark": "fit_many vs a loop of fit calls",
        "device": str(jax.devices()[0].device_kind),
        "cpu_count": os.cpu_count(),
        "load_average_1min": [load_before, os.getloadavg()[0]],
        "epochs": args.epochs,
        "cases": cases,
    }
    print(json.dumps(report, indent=2, default=lambda v: np.asarray(v).tolist()))


if __name__ == "__main__":
    main()
