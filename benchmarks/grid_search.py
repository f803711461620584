"""Learning-rate grid search: one vmapped ``fit_many`` vs a sequential loop of ``fit`` calls.

The same MLP, the same initial weights for every candidate, SGD with the learning rate
injected in the optimizer state, the same number of epochs, minibatch size and data
(MNIST-1D by default, scikit-learn digits with ``--data digits``). Both ways are timed
twice: the first run includes compilation, the second is the steady state. The number
of traces of the loss function counts the compilations of each way.

Compilation is measured with ``jax.monitoring`` (trace + lowering + backend compile
durations) and reported apart from execution. Note: ``fit`` caches its compiled program
per (loss, data size, settings), so the sequential loop compiles once in all; ``fit_many``
builds a fresh jitted program on every call, so each of its calls compiles (once for the
whole population). What vmap saves is the per-candidate dispatch: all candidates run as
one batched program, which pays off on a parallel device rather than on 2 CPU cores.

Run: ``python benchmarks/grid_search.py`` (``--num-rates``, ``--epochs``, ``--data``).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_digits, load_mnist1d
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, fit, fit_many, make_supervised_loss, set_hyperparams

_COMPILE_EVENTS = (
    "/jax/core/compile/backend_compile_duration",
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
)
_compile_seconds = [0.0]


def _on_duration(name: str, seconds: float, **_: object) -> None:
    if name in _COMPILE_EVENTS:
        _compile_seconds[0] += seconds


jax.monitoring.register_event_duration_secs_listener(_on_duration)


def _timed(run):
    """Wall time of ``run()`` and the part of it spent tracing and compiling."""
    compile_before = _compile_seconds[0]
    started = time.perf_counter()
    result = run()
    wall = time.perf_counter() - started
    return wall, _compile_seconds[0] - compile_before, result


def _counting_cross_entropy(counter: list[int]):
    def cross_entropy(logits, labels):
        counter.append(1)
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels)

    return cross_entropy


def run_vmapped(model, state, rates, data, args):
    """All candidates as members of one ``fit_many`` program."""
    traces: list[int] = []
    loss_fn = make_supervised_loss(model, _counting_cross_entropy(traces), metrics=())
    num = len(rates)

    def once(seed):
        states = jax.tree.map(lambda a: jnp.stack([a] * num), state)
        states = states.replace(
            opt_state=set_hyperparams(states.opt_state, learning_rate=jnp.asarray(rates))
        )
        keys = jax.random.split(jax.random.key(seed), num)

        def run():
            result = fit_many(
                keys, states, loss_fn, data, num_epochs=args.epochs, batch_size=args.batch_size
            )
            jax.block_until_ready(result.state.params)
            return result

        return _timed(run)

    first, first_compile, _ = once(1)
    second, second_compile, result = once(2)
    final_loss = np.asarray(result.history["train_loss"])[:, -1]
    return {
        "first_run_seconds": first,
        "first_run_compile_seconds": first_compile,
        "second_run_seconds": second,
        "second_run_compile_seconds": second_compile,
        "second_run_seconds_without_compile": second - second_compile,
        "loss_traces_over_both_runs": len(traces),
        "final_train_loss": final_loss.tolist(),
    }


def run_sequential(model, state, rates, data, args):
    """One ``fit`` call per candidate, in a Python loop."""
    traces: list[int] = []
    loss_fn = make_supervised_loss(model, _counting_cross_entropy(traces), metrics=())

    def once(seed):
        keys = jax.random.split(jax.random.key(seed), len(rates))
        return _timed(lambda: loop(keys))

    def loop(keys):
        losses = []
        for rate, key in zip(rates, keys, strict=True):
            member = jax.tree.map(jnp.copy, state)
            member = member.replace(
                opt_state=set_hyperparams(member.opt_state, learning_rate=float(rate))
            )
            result = fit(
                key,
                member,
                loss_fn,
                data,
                num_epochs=args.epochs,
                batch_size=args.batch_size,
                progress=False,
            )
            jax.block_until_ready(result.state.params)
            losses.append(result.history[-1]["train_loss"])
        return losses

    first, first_compile, _ = once(1)
    second, second_compile, losses = once(2)
    return {
        "first_run_seconds": first,
        "first_run_compile_seconds": first_compile,
        "second_run_seconds": second,
        "second_run_compile_seconds": second_compile,
        "second_run_seconds_without_compile": second - second_compile,
        "loss_traces_over_both_runs": len(traces),
        "final_train_loss": losses,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-rates", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--data", choices=("mnist1d", "digits"), default="mnist1d")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    dataset = load_mnist1d() if args.data == "mnist1d" else load_digits()
    data = (dataset.x_train, dataset.y_train)
    model = MLP(features=(100, 100, dataset.num_classes), activation="relu", output=None)
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    state = create_train_state(jax.random.key(args.seed), model, dataset.x_train[:1], tx)
    rates = np.logspace(-3, 0, args.num_rates)

    vmapped = run_vmapped(model, state, rates, data, args)
    sequential = run_sequential(model, state, rates, data, args)
    report = {
        "benchmark": f"lr_grid_{args.num_rates}_{args.data}_mlp_100-100_sgd_batch"
        f"{args.batch_size}_{args.epochs}_epochs",
        "device": str(jax.devices()[0]),
        "learning_rates": rates.tolist(),
        "fit_many_vmap": vmapped,
        "sequential_fit": sequential,
        "ratio_sequential_over_vmap_first_run": sequential["first_run_seconds"]
        / vmapped["first_run_seconds"],
        "ratio_sequential_over_vmap_second_run": sequential["second_run_seconds"]
        / vmapped["second_run_seconds"],
        "ratio_sequential_over_vmap_execution_only": sequential[
            "second_run_seconds_without_compile"
        ]
        / vmapped["second_run_seconds_without_compile"],
        "max_final_loss_difference": float(
            np.nanmax(
                np.abs(
                    np.asarray(vmapped["final_train_loss"])
                    - np.asarray(sequential["final_train_loss"])
                )
            )
        ),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
