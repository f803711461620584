"""ESN state collection: 64 reservoirs of N = 500 driven for 1,000 steps in one compiled call.

``jax.vmap(run_reservoir)`` over 64 reservoirs (different keys and spectral radii), the time
loop as ``lax.scan`` with ``unroll`` 1 (a rolled loop), 8, and fully unrolled (``unroll=True``:
1,000 copies of the step in the program). Reports compile time (first call minus steady
call) and the steady run time (best of ``--repeats``), plus a NumPy loop over the same
reservoirs as the reference point.

Run: ``python benchmarks/esn_states.py`` (``--repeats``, ``--no-full-unroll``, ``--steps``,
``--reservoirs``; the defaults are the sizes above). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.nn import esn_init_params, run_reservoir

N, STEPS, RESERVOIRS = 500, 1000, 64


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-full-unroll", action="store_true")
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--reservoirs", type=int, default=RESERVOIRS)
    args = parser.parse_args()
    steps, reservoirs = args.steps, args.reservoirs
    keys = jax.random.split(jax.random.key(0), reservoirs)
    radii = jnp.linspace(0.5, 1.1, reservoirs)
    params = jax.jit(
        jax.vmap(lambda k, r: esn_init_params(k, 1, N, spectral_radius=r, density=0.05))
    )(keys, radii)
    params = jax.block_until_ready(params)  # the eigensolves are not part of the timings
    inputs = jax.random.uniform(jax.random.key(1), (steps, 1), minval=-0.5, maxval=0.5)
    results = {}
    unrolls = [1, 8] + ([] if args.no_full_unroll else [True])
    for unroll in unrolls:
        fn = jax.jit(jax.vmap(lambda p, u=unroll: run_reservoir(p, inputs, unroll=u)[1]))
        t0 = time.perf_counter()
        jax.block_until_ready(fn(params))
        first = time.perf_counter() - t0
        steady = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            jax.block_until_ready(fn(params))
            steady.append(time.perf_counter() - t0)
        results[f"unroll_{'full' if unroll is True else unroll}"] = {
            "compile_seconds": max(first - min(steady), 0.0),
            "run_seconds": min(steady),
        }
        print(f"unroll {unroll}: {results}", file=sys.stderr, flush=True)  # partial results
    p = jax.tree.map(np.asarray, params)
    x = np.asarray(inputs)
    t0 = time.perf_counter()
    h = np.zeros((reservoirs, N), np.float32)
    for t in range(steps):
        pre = np.einsum("rnd,d->rn", p.U, x[t]) + np.einsum("rnm,rm->rn", p.W, h)
        h = np.tanh(pre)
    numpy_seconds = time.perf_counter() - t0
    results["numpy_loop_seconds"] = numpy_seconds
    results["speedup_scan_over_numpy"] = numpy_seconds / results["unroll_1"]["run_seconds"]
    results["sizes"] = {"N": N, "steps": steps, "reservoirs": reservoirs}
    results["device"] = jax.devices()[0].platform
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
