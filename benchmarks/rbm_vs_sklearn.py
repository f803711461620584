"""jaxdl RBM (CD-1 and PCD) vs scikit-learn's BernoulliRBM on binarized digits.

Both train a 64-256 Bernoulli RBM on scikit-learn's digits binarized at pixels/16 > 0.5,
with minibatches of 10, learning rate 0.1 applied to the minibatch-mean gradient (what
scikit-learn does: ``learning_rate / batch_size`` times the summed statistics), weights
drawn from N(0, 0.01^2), zero biases, the same number of epochs. scikit-learn's
``BernoulliRBM`` is persistent CD with one chain per minibatch row, so jaxdl's PCD uses
``num_chains = batch_size``. Both models are scored with the same functions:
scikit-learn's ``score_samples`` (the stochastic one-bit-flip pseudo-likelihood, with a
fixed ``random_state`` so both models see the same flipped bits) and jaxdl's exact
pseudo-likelihood (all bits).

Throughput is training examples per second, best of ``--repeats`` runs for both
libraries; for jaxdl the steady state excludes the first call's compile time, which is
reported separately. Both wall time (``seconds``, ``samples_per_second``,
``wall_speedup_vs_sklearn``) and process CPU time (``cpu_seconds``, all threads,
``cpu_time_speedup_vs_sklearn``) are reported, since wall time is noisy on a shared
machine; ``cpu_microseconds_per_update`` is the CPU time of one minibatch update. The
pseudo-likelihoods are those of the last run of each.

jaxdl trains with :func:`jaxdl.training.train_rbm`, i.e. ``fit`` with the CD-k / PCD update
step (each update draws its Gibbs noise in one call); ``--epochs-per-chunk`` sets how many
epochs ``fit`` compiles into one program (default: the whole run, one host sync; ``1`` is
``fit``'s default, one sync per epoch). ``--fast-threefry`` switches JAX to its
non-partitionable threefry (the same generator, a different and faster derivation of the
bits on one device, giving other random streams).

Run: ``python benchmarks/rbm_vs_sklearn.py [--epochs 10] [--repeats 3] [--epochs-per-chunk N]
[--fast-threefry]``;
prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from sklearn.datasets import load_digits
from sklearn.neural_network import BernoulliRBM

from jaxdl.probabilistic import rbm
from jaxdl.training import train_rbm


def _sklearn_scores(model: BernoulliRBM, data: np.ndarray) -> float:
    scorer = BernoulliRBM(n_components=model.n_components, random_state=123)
    scorer.components_ = model.components_.astype(np.float64)
    scorer.intercept_visible_ = model.intercept_visible_.astype(np.float64)
    scorer.intercept_hidden_ = model.intercept_hidden_.astype(np.float64)
    scorer.n_features_in_ = data.shape[1]
    return float(np.mean(scorer.score_samples(data.astype(np.float64))))


def _as_sklearn(params: rbm.RBMParams) -> BernoulliRBM:
    model = BernoulliRBM(n_components=int(params.weights.shape[1]))
    model.components_ = np.asarray(params.weights, np.float64).T
    model.intercept_visible_ = np.asarray(params.visible_bias, np.float64)
    model.intercept_hidden_ = np.asarray(params.hidden_bias, np.float64)
    return model


def _exact_pll(params: rbm.RBMParams, data: np.ndarray) -> float:
    return float(jnp.mean(rbm.exact_pseudo_log_likelihood(params, jnp.asarray(data))))


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each (best kept)")
    parser.add_argument(
        "--epochs-per-chunk",
        type=int,
        default=None,
        help="epochs per compiled fit chunk (default: all of them)",
    )
    parser.add_argument(
        "--fast-threefry",
        action="store_true",
        help="set jax_threefry_partitionable=False (faster random bits on one CPU device)",
    )
    args = parser.parse_args()
    if args.fast_threefry:
        jax.config.update("jax_threefry_partitionable", False)

    data = (load_digits().data / 16.0 > 0.5).astype(np.float32)
    num_examples = data.shape[0]

    sklearn_timings, sklearn_cpu = [], []
    for repeat in range(args.repeats):
        start, cpu_start = time.perf_counter(), time.process_time()
        reference = BernoulliRBM(
            n_components=args.hidden,
            learning_rate=args.learning_rate,
            batch_size=args.batch_size,
            n_iter=args.epochs,
            random_state=repeat,
        ).fit(data)
        sklearn_timings.append(time.perf_counter() - start)
        sklearn_cpu.append(time.process_time() - cpu_start)
    sklearn_seconds = min(sklearn_timings)
    sklearn_rate = args.epochs * num_examples / sklearn_seconds
    sklearn_params = rbm.RBMParams(
        jnp.asarray(reference.components_.T, jnp.float32),
        jnp.asarray(reference.intercept_visible_, jnp.float32),
        jnp.asarray(reference.intercept_hidden_, jnp.float32),
    )

    results = {
        "benchmark": "rbm_vs_sklearn",
        "device": str(jax.devices()[0]),
        "jax_threefry_partitionable": bool(jax.config.jax_threefry_partitionable),
        "data": f"sklearn digits binarized, {num_examples}x{data.shape[1]}",
        "num_hidden": args.hidden,
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "epochs": args.epochs,
        "epochs_per_chunk": args.epochs_per_chunk or args.epochs,
        "sklearn": {
            "seconds": round(sklearn_seconds, 4),
            "cpu_seconds": round(min(sklearn_cpu), 4),
            "cpu_microseconds_per_update": round(
                1e6 * min(sklearn_cpu) / (args.epochs * -(-num_examples // args.batch_size)), 1
            ),
            "samples_per_second": round(sklearn_rate, 1),
            "cpu_samples_per_second": round(args.epochs * num_examples / min(sklearn_cpu), 1),
            "pseudo_likelihood_sklearn_score": round(_sklearn_scores(reference, data), 3),
            "pseudo_likelihood_exact": round(_exact_pll(sklearn_params, data), 3),
        },
    }

    examples_per_epoch = (num_examples // args.batch_size) * args.batch_size
    jdata = jnp.asarray(data)
    for name, persistent in (("jaxdl_cd1", False), ("jaxdl_pcd", True)):
        init_key = jax.random.key(0)
        params = rbm.init_params(init_key, data.shape[1], args.hidden)

        def run(seed, params=params, persistent=persistent):
            out = train_rbm(
                jax.random.key(seed),
                params,
                jdata,
                num_epochs=args.epochs,
                batch_size=args.batch_size,
                learning_rate=args.learning_rate,
                k=1,
                persistent=persistent,
                num_chains=args.batch_size if persistent else None,
                epochs_per_chunk=args.epochs_per_chunk or args.epochs,
                progress=False,
            )
            jax.block_until_ready(out.state)
            return out

        start = time.perf_counter()
        result = run(1)
        first_seconds = time.perf_counter() - start
        steady, steady_cpu = [], []
        for repeat in range(args.repeats):
            start, cpu_start = time.perf_counter(), time.process_time()
            run(2 + repeat)
            steady.append(time.perf_counter() - start)
            steady_cpu.append(time.process_time() - cpu_start)
        seconds = min(steady)
        rate = args.epochs * examples_per_epoch / seconds
        updates = args.epochs * (num_examples // args.batch_size)
        results[name] = {
            "seconds": round(seconds, 4),
            "cpu_seconds": round(min(steady_cpu), 4),
            "cpu_microseconds_per_update": round(1e6 * min(steady_cpu) / updates, 1),
            "compile_seconds": round(first_seconds - seconds, 3),
            "samples_per_second": round(rate, 1),
            "cpu_samples_per_second": round(args.epochs * examples_per_epoch / min(steady_cpu), 1),
            "wall_speedup_vs_sklearn": round(rate / sklearn_rate, 2),
            "cpu_time_speedup_vs_sklearn": round(
                min(sklearn_cpu) / num_examples / (min(steady_cpu) / examples_per_epoch), 2
            ),
            "pseudo_likelihood_sklearn_score": round(
                _sklearn_scores(_as_sklearn(result.state.params), data), 3
            ),
            "pseudo_likelihood_exact": round(_exact_pll(result.state.params, data), 3),
        }
    print(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main()
