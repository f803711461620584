"""MNIST-1D main job, side by side: jaxdl ``fit`` vs a hand-written scan, flax+optax, PyTorch.

Every contender does the main job's work (experiments/mnist1d_mlp/configs/default.py):
MLP 40-100-100-10 (ReLU), Adam 1e-2 with L2 1e-3 (``add_decayed_weights`` before Adam;
``weight_decay`` in PyTorch's Adam is the same rule), batch 100, 3,000 steps (75 epochs of
40 steps over 4,000 training examples), a fresh shuffle every epoch, the training loss and
accuracy of every step averaged per epoch, and an evaluation (loss, accuracy) on the
held-out split after every epoch. Contenders, in one process:

- ``jaxdl_fit``: ``fit`` exactly as the main job calls it (5-epoch chunks, progress off);
- ``lax_scan``: the whole run as one hand-written ``jit(lax.scan)`` (the ceiling for JAX);
- ``flax_optax_loop``: the idiomatic flax+optax loop: one jitted step per Python
  iteration with donated params/optimizer state, device-resident data and the batch cut
  on device (no host indexing), one jitted evaluation per epoch;
- ``pytorch_eager_1_thread`` / ``pytorch_eager_all_cores``: the same model and weights in
  PyTorch eager with ``torch.set_num_threads(1)`` and all cores, fused (else foreach) Adam.

Each JAX contender is timed on a first call (compilation included) and on the best of
``--repeats`` steady calls; ``compile_seconds`` is the difference. The headline compares
steady throughput and the time of one run including compilation.

Run: ``python benchmarks/mnist1d_mlp.py`` (``--steps``, ``--repeats``). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_mnist1d
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, epochs_for_steps, fit, make_supervised_loss

EPOCHS_PER_CHUNK = 5


def _optimizer(learning_rate: float, weight_decay: float) -> optax.GradientTransformation:
    tx = optax.inject_hyperparams(optax.adam)(learning_rate=learning_rate)
    return optax.chain(optax.add_decayed_weights(weight_decay), tx)


def _measure(contenders: dict, repeats: int) -> dict:
    """First call of each (compilation included), then ``repeats`` rounds, interleaved.

    The contenders take turns in every round so that a busy machine slows them alike;
    each reports its best wall time and its best CPU time (``time.process_time``: all
    threads of this process) over the rounds.
    """
    timings = {}
    for name, once in contenders.items():
        started = time.perf_counter()
        once()
        timings[name] = {"first": time.perf_counter() - started, "wall": [], "cpu": []}
    for _ in range(repeats):
        for name, once in contenders.items():
            wall, cpu = time.perf_counter(), time.process_time()
            once()
            timings[name]["wall"].append(time.perf_counter() - wall)
            timings[name]["cpu"].append(time.process_time() - cpu)
        print(name, "rounds done", file=sys.stderr, flush=True)
    return timings


def _summary(timing: dict, steps: int, accuracy: float) -> dict:
    steady = min(timing["wall"])
    return {
        "first_run_seconds_with_compile": timing["first"],
        "steady_seconds": steady,
        "steady_cpu_seconds": min(timing["cpu"]),
        "compile_seconds": max(timing["first"] - steady, 0.0),
        "steps_per_second": steps / steady,
        "val_accuracy": accuracy,
    }


def _accuracy(model, params, x, y) -> float:
    logits = model.apply({"params": params}, x)
    return float(jnp.mean(jnp.argmax(logits, -1) == y))


def run_fit(model, state, data, args, num_epochs):
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))

    def once():
        result = fit(
            jax.random.key(1),
            state,
            loss_fn,
            (data.x_train, data.y_train),
            num_epochs=num_epochs,
            batch_size=args.batch_size,
            val_data=(data.x_test, data.y_test),
            epochs_per_chunk=EPOCHS_PER_CHUNK,
            progress=False,
        )
        return jax.block_until_ready(result.state.params)

    return once


def _loss_and_accuracy(model, params, x, y):
    logits = model.apply({"params": params}, x)
    loss = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return loss, jnp.mean((jnp.argmax(logits, -1) == y).astype(jnp.float32))


def run_scan(model, state, data, args, num_epochs):
    """The whole run as one hand-written ``jit(lax.scan)``: the ceiling for JAX."""
    tx = state.tx
    x, y = jnp.asarray(data.x_train), jnp.asarray(data.y_train)
    xv, yv = jnp.asarray(data.x_test), jnp.asarray(data.y_test)
    n, b = x.shape[0], args.batch_size
    per_epoch = n // b

    @jax.jit
    def whole_run(params, opt_state, key):
        def epoch(carry, e):
            params, opt_state = carry
            order = jax.random.permutation(jax.random.fold_in(key, e), n)
            batches = order[: per_epoch * b].reshape(per_epoch, b)

            def step(carry, index):
                params, opt_state = carry
                grad_fn = jax.value_and_grad(
                    lambda p: _loss_and_accuracy(model, p, x[index], y[index]), has_aux=True
                )
                (loss, acc), grads = grad_fn(params)
                updates, opt_state = tx.update(grads, opt_state, params)
                return (optax.apply_updates(params, updates), opt_state), (loss, acc)

            (params, opt_state), (losses, accs) = jax.lax.scan(step, (params, opt_state), batches)
            val = _loss_and_accuracy(model, params, xv, yv)
            return (params, opt_state), (losses.mean(), accs.mean(), *val)

        return jax.lax.scan(epoch, (params, opt_state), jnp.arange(num_epochs))

    def once():
        (params, _), logs = whole_run(state.params, state.opt_state, jax.random.key(1))
        jax.device_get(logs)
        return jax.block_until_ready(params)

    return once


def run_flax_loop(model, state, data, args, num_epochs):
    """Idiomatic flax+optax: a jitted, donating step per iteration, data on device."""
    tx = state.tx
    x, y = jax.device_put(data.x_train), jax.device_put(data.y_train)
    xv, yv = jax.device_put(data.x_test), jax.device_put(data.y_test)
    n, b = x.shape[0], args.batch_size
    per_epoch = n // b

    @jax.jit
    def permutation(key, e):
        return jax.random.permutation(jax.random.fold_in(key, e), n)

    @jax.jit(donate_argnums=(0, 1))
    def train_step(params, opt_state, order, i):
        index = jax.lax.dynamic_slice_in_dim(order, i * b, b)
        grad_fn = jax.value_and_grad(
            lambda p: _loss_and_accuracy(model, p, x[index], y[index]), has_aux=True
        )
        (loss, acc), grads = grad_fn(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss, acc

    evaluate = jax.jit(lambda p: _loss_and_accuracy(model, p, xv, yv))

    def once():
        params = jax.tree.map(jnp.copy, state.params)
        opt_state = jax.tree.map(jnp.copy, state.opt_state)
        key = jax.random.key(1)
        logs = []
        for e in range(num_epochs):
            order = permutation(key, e)
            losses, accs = [], []
            for i in range(per_epoch):
                params, opt_state, loss, acc = train_step(params, opt_state, order, i)
                losses.append(loss)
                accs.append(acc)
            logs.append((jnp.mean(jnp.stack(losses)), jnp.mean(jnp.stack(accs)), evaluate(params)))
        jax.device_get(logs)
        return jax.block_until_ready(params)

    return once


def run_torch(state, data, args, num_epochs, threads):
    """The same MLP and initial weights in PyTorch eager, fused (else foreach) Adam."""
    import torch

    torch.set_num_threads(threads)
    layers = [state.params[f"Dense_{i}"] for i in range(3)]
    x, y = torch.from_numpy(np.array(data.x_train)), torch.from_numpy(np.array(data.y_train)).long()
    xv = torch.from_numpy(np.array(data.x_test))
    yv = torch.from_numpy(np.array(data.y_test)).long()
    n, b = x.shape[0], args.batch_size
    per_epoch = n // b

    def build():
        modules = []
        for i, layer in enumerate(layers):
            linear = torch.nn.Linear(*np.asarray(layer["kernel"]).shape)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.asarray(layer["kernel"]).T.copy()))
                linear.bias.copy_(torch.from_numpy(np.asarray(layer["bias"]).copy()))
            modules.append(linear)
            if i < len(layers) - 1:
                modules.append(torch.nn.ReLU())
        return torch.nn.Sequential(*modules)

    variant = "fused"
    try:
        torch.optim.Adam(build().parameters(), lr=1e-3, fused=True)
    except (RuntimeError, TypeError, ValueError):
        variant = "foreach"

    def once():
        model = build()
        optimizer = torch.optim.Adam(
            model.parameters(),
            lr=args.learning_rate,
            weight_decay=args.weight_decay,
            **{variant: True},
        )
        loss_fn = torch.nn.CrossEntropyLoss()
        generator = torch.Generator().manual_seed(1)
        for _ in range(num_epochs):
            order = torch.randperm(n, generator=generator)
            losses, accs = [], []
            for i in range(per_epoch):
                index = order[i * b : (i + 1) * b]
                optimizer.zero_grad(set_to_none=True)
                logits = model(x[index])
                loss = loss_fn(logits, y[index])
                loss.backward()
                optimizer.step()
                losses.append(loss.detach())
                accs.append((logits.detach().argmax(-1) == y[index]).float().mean())
            with torch.no_grad():
                logits = model(xv)
                _ = (loss_fn(logits, yv).item(), torch.stack(losses).mean().item())
        return model

    def accuracy(model) -> float:
        with torch.no_grad():
            return float((model(xv).argmax(-1) == yv).float().mean())

    return once, accuracy, variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--weight-decay", type=float, default=1e-3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args()

    data = load_mnist1d(num_samples=5000, seed=42)
    model = MLP(features=(100, 100, 10), activation="relu", output=None)
    state = create_train_state(
        jax.random.key(0),
        model,
        data.x_train[:1],
        _optimizer(args.learning_rate, args.weight_decay),
    )
    num_epochs = epochs_for_steps(args.steps, len(data.x_train), args.batch_size)
    steps = num_epochs * (len(data.x_train) // args.batch_size)
    jax_contenders = {
        "jaxdl_fit": run_fit(model, state, data, args, num_epochs),
        "lax_scan": run_scan(model, state, data, args, num_epochs),
        "flax_optax_loop": run_flax_loop(model, state, data, args, num_epochs),
    }
    timings = _measure(jax_contenders, args.repeats)
    results = {}
    for name, once in jax_contenders.items():
        params = once()
        accuracy = _accuracy(model, params, data.x_test, data.y_test)
        results[name] = _summary(timings[name], steps, accuracy)
    if not args.no_torch:
        cores = os.cpu_count() or 1
        for name, threads in (("pytorch_eager_1_thread", 1), ("pytorch_eager_all_cores", cores)):
            once, accuracy, variant = run_torch(state, data, args, num_epochs, threads)
            timing = _measure({name: once}, max(1, args.repeats - 1))[name]
            results[name] = _summary(timing, steps, accuracy(once()))
            results[name].pop("compile_seconds")
            results[name].update(threads=threads, adam=variant)
    fit_result = results["jaxdl_fit"]
    ratios = {
        f"fit_vs_{name}_steady": fit_result["steps_per_second"] / r["steps_per_second"]
        for name, r in results.items()
        if name != "jaxdl_fit"
    }
    ratios.update(
        {
            f"fit_vs_{name}_steady_cpu": r["steady_cpu_seconds"] / fit_result["steady_cpu_seconds"]
            for name, r in results.items()
            if name != "jaxdl_fit"
        }
    )
    ratios.update(
        {
            f"fit_vs_{name}_one_run_with_compile": r["first_run_seconds_with_compile"]
            / fit_result["first_run_seconds_with_compile"]
            for name, r in results.items()
            if name != "jaxdl_fit"
        }
    )
    report = {
        "benchmark": "mnist1d_mlp main job: 40-100-100-10 relu, adam 1e-2 + l2 1e-3, batch 100",
        "device": str(jax.devices()[0].device_kind),
        "cpu_count": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "steps": steps,
        "epochs": num_epochs,
        "headline": {
            "fit_vs_lax_scan_steady": ratios["fit_vs_lax_scan_steady"],
            "fit_vs_lax_scan_steady_cpu": ratios["fit_vs_lax_scan_steady_cpu"],
            "fit_vs_lax_scan_one_run_with_compile": ratios["fit_vs_lax_scan_one_run_with_compile"],
            "fit_one_run_seconds_with_compile": fit_result["first_run_seconds_with_compile"],
            "fit_compile_seconds": fit_result["compile_seconds"],
        },
        "ratios": ratios,
        "results": results,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
