"""MNIST-1D MLP training throughput: jaxdl ``fit`` vs PyTorch eager vs a plain flax+optax loop.

The same model (MLP 40-100-100-10, ReLU), the same initial weights, Adam 1e-2, batch 100,
3,000 steps over the same sequence of minibatches for all three, in one process. Prints one
JSON object: steps/s for each (steady state, after a warm-up run; jaxdl's first run with
compilation is reported too), test accuracy, and the ratios.

Run: ``python benchmarks/mnist1d_mlp.py`` (``--steps`` / ``--threads`` to change).
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import load_mnist1d
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, fit, supervised_loss


def _batches(num_examples: int, batch_size: int, num_steps: int, seed: int) -> np.ndarray:
    """The shared minibatch schedule: per epoch a fresh permutation, cut into batches."""
    rng = np.random.default_rng(seed)
    per_epoch = num_examples // batch_size
    epochs = -(-num_steps // per_epoch)
    order = np.concatenate(
        [rng.permutation(num_examples)[: per_epoch * batch_size] for _ in range(epochs)]
    )
    return order[: num_steps * batch_size].reshape(num_steps, batch_size)


def run_jaxdl(model, state, x, y, index, x_test, y_test):
    """``fit`` with shuffle off over the pre-ordered stream: identical batches."""
    xs, ys = x[index.reshape(-1)], y[index.reshape(-1)]
    batch_size = index.shape[1]
    loss_fn = supervised_loss(model, "cross_entropy", ())

    def once(key):
        started = time.perf_counter()
        result = fit(
            key,
            state,
            loss_fn,
            (xs, ys),
            num_epochs=1,
            batch_size=batch_size,
            shuffle=False,
            progress=False,
        )
        jax.block_until_ready(result.state.params)
        return time.perf_counter() - started, result

    first, _ = once(jax.random.key(1))  # includes compilation
    elapsed, result = once(jax.random.key(2))
    logits = model.apply({"params": result.state.params}, x_test)
    accuracy = float(jnp.mean(jnp.argmax(logits, -1) == y_test))
    return {
        "seconds": elapsed,
        "first_run_seconds_with_compile": first,
        "steps_per_second": index.shape[0] / elapsed,
        "test_accuracy": accuracy,
    }


def run_flax_loop(model, params, x, y, index, x_test, y_test, learning_rate):
    """The usual flax+optax loop: one jitted step per Python iteration."""
    tx = optax.adam(learning_rate)

    @jax.jit
    def step(params, opt_state, xb, yb):
        def loss(p):
            logits = model.apply({"params": p}, xb)
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

        grads = jax.grad(loss)(params)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    def once():
        p, s = params, tx.init(params)
        started = time.perf_counter()
        for i in range(index.shape[0]):
            b = index[i]
            p, s = step(p, s, x[b], y[b])
        jax.block_until_ready(p)
        return time.perf_counter() - started, p

    once()  # warm-up (compilation)
    elapsed, p = once()
    logits = model.apply({"params": p}, x_test)
    accuracy = float(jnp.mean(jnp.argmax(logits, -1) == y_test))
    return {
        "seconds": elapsed,
        "steps_per_second": index.shape[0] / elapsed,
        "test_accuracy": accuracy,
    }


def run_torch(params, x, y, index, x_test, y_test, learning_rate):
    """The same MLP in PyTorch eager with the same initial weights."""
    import torch

    layers = [params[f"Dense_{i}"] for i in range(3)]
    modules = []
    for i, layer in enumerate(layers):
        linear = torch.nn.Linear(*np.asarray(layer["kernel"]).shape)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.asarray(layer["kernel"]).T.copy()))
            linear.bias.copy_(torch.from_numpy(np.asarray(layer["bias"]).copy()))
        modules.append(linear)
        if i < len(layers) - 1:
            modules.append(torch.nn.ReLU())
    initial = [
        {k: v.clone() for k, v in m.state_dict().items()}
        for m in modules
        if isinstance(m, torch.nn.Linear)
    ]
    xt, yt = torch.from_numpy(np.array(x)), torch.from_numpy(np.array(y)).long()

    def once():
        model = torch.nn.Sequential(*modules)
        for m, sd in zip(
            [m for m in modules if isinstance(m, torch.nn.Linear)], initial, strict=True
        ):
            m.load_state_dict(sd)
        optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
        loss_fn = torch.nn.CrossEntropyLoss()
        index_t = torch.from_numpy(index)
        started = time.perf_counter()
        for i in range(index.shape[0]):
            b = index_t[i]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xt[b]), yt[b])
            loss.backward()
            optimizer.step()
        return time.perf_counter() - started, model

    once()  # warm-up
    elapsed, model = once()
    with torch.no_grad():
        predictions = model(torch.from_numpy(np.array(x_test))).argmax(-1).numpy()
    accuracy = float(np.mean(predictions == np.asarray(y_test)))
    return {
        "seconds": elapsed,
        "steps_per_second": index.shape[0] / elapsed,
        "test_accuracy": accuracy,
        "threads": torch.get_num_threads(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    data = load_mnist1d()
    x, y = np.asarray(data.x_train), np.asarray(data.y_train)
    index = _batches(len(x), args.batch_size, args.steps, args.seed)
    model = MLP(features=(100, 100, 10), activation="relu", output=None)
    state = create_train_state(
        jax.random.key(args.seed), model, data.x_train[:1], optax.adam(args.learning_rate)
    )
    results = {
        "jaxdl_fit": run_jaxdl(
            model, state, data.x_train, data.y_train, index, data.x_test, data.y_test
        ),
        "flax_optax_loop": run_flax_loop(
            model,
            state.params,
            data.x_train,
            data.y_train,
            index,
            data.x_test,
            data.y_test,
            args.learning_rate,
        ),
        "pytorch_eager": run_torch(
            state.params, x, y, index, data.x_test, data.y_test, args.learning_rate
        ),
    }
    jaxdl_rate = results["jaxdl_fit"]["steps_per_second"]
    report = {
        "benchmark": "mnist1d_mlp_40-100-100-10_adam_batch100",
        "device": str(jax.devices()[0]),
        "steps": args.steps,
        "results": results,
        "ratio_vs_pytorch": jaxdl_rate / results["pytorch_eager"]["steps_per_second"],
        "ratio_vs_flax_loop": jaxdl_rate / results["flax_optax_loop"]["steps_per_second"],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
