"""Block Gibbs sweeps per second for a 784-500 Bernoulli RBM with 100 chains.

One sweep samples all 500 hidden units given the visible layer, then all 784 visible units
given the hidden layer, for every chain (two [100, 784] x [784, 500]-sized matrix products
plus the Bernoulli draws). The sweeps run inside one jitted program:
:func:`jaxdl.sampling.sample_chain` drives :func:`jaxdl.probabilistic.rbm.gibbs_kernel`
with ``num_sweeps=--sweeps`` (one kernel call, one kept state); compile time is excluded
from the rate and reported separately; wall time and process CPU time (all threads) are
both reported. The Gibbs noise is drawn in blocks of sweeps before the scan. Runs on
JAX's default device.

Run: ``python benchmarks/gibbs_sweeps.py [--sweeps 2000] [--chains 100] [--fast-threefry]``;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import functools
import json
import time

import jax
import jax.numpy as jnp

from jaxdl.probabilistic import rbm
from jaxdl.sampling import sample_chain


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visible", type=int, default=784)
    parser.add_argument("--hidden", type=int, default=500)
    parser.add_argument("--chains", type=int, default=100)
    parser.add_argument("--sweeps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--fast-threefry",
        action="store_true",
        help="set jax_threefry_partitionable=False (faster random bits on one CPU device)",
    )
    args = parser.parse_args()
    if args.fast_threefry:
        jax.config.update("jax_threefry_partitionable", False)

    params_key, init_key, run_key = jax.random.split(jax.random.key(0), 3)
    params = rbm.init_params(params_key, args.visible, args.hidden, weight_scale=0.05)
    visible = jax.random.bernoulli(init_key, 0.5, (args.chains, args.visible))
    state = rbm.gibbs_init(params, visible.astype(jnp.float32))

    @jax.jit
    def run(key, state, params):
        kernel = functools.partial(rbm.gibbs_kernel, params=params, num_sweeps=args.sweeps)
        final, _ = sample_chain(key, kernel, state, 1)
        return final

    keys = jax.random.split(run_key, args.repeats + 1)
    start = time.perf_counter()
    out = jax.block_until_ready(run(keys[0], state, params))
    first = time.perf_counter() - start
    timings, cpu_timings = [], []
    for i in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        out = jax.block_until_ready(run(keys[i + 1], out, params))
        timings.append(time.perf_counter() - start)
        cpu_timings.append(time.process_time() - cpu_start)
    seconds = min(timings)
    result = {
        "benchmark": "gibbs_sweeps",
        "device": str(jax.devices()[0]),
        "jax_threefry_partitionable": bool(jax.config.jax_threefry_partitionable),
        "num_visible": args.visible,
        "num_hidden": args.hidden,
        "num_chains": args.chains,
        "sweeps": args.sweeps,
        "seconds": round(seconds, 4),
        "cpu_seconds": round(min(cpu_timings), 4),
        "compile_seconds": round(first - seconds, 3),
        "sweeps_per_second": round(args.sweeps / seconds, 1),
        "chain_sweeps_per_second": round(args.sweeps * args.chains / seconds, 1),
        "cpu_sweeps_per_second": round(args.sweeps / min(cpu_timings), 1),
        "mean_visible_activity": round(float(jnp.mean(out.visible)), 4),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
