"""LSTM training on CPU, side by side: jaxdl's ``LSTMCell`` through ``fit`` vs ``torch.nn.LSTM``.

One LSTM layer (hidden 128) reads sequences of length 100 (32 features), a linear head on
the last hidden state gives 10 logits, cross-entropy, Adam 1e-3, batch 32. Both sides start
from the same weights (PyTorch's initialisation copied with ``lstm_params_from_torch``) and
see the same batches in the same order. jaxdl trains through ``fit`` (one compiled chunk of
``--steps`` steps; full BPTT through ``lax.scan``); PyTorch trains eagerly (its fused CPU
LSTM kernel) with all cores and with one thread (oversubscribed threads spin on a
busy machine). Timings: the first jaxdl call includes compilation; steady
numbers are the best of ``--repeats`` interleaved rounds. The final losses are printed to
show that both ran the same optimisation.

Run: ``python benchmarks/lstm_vs_torch.py`` (``--steps``, ``--repeats``, ``--unroll``).
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import time

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch

from jaxdl.nn import LSTMCell, lstm_params_from_torch
from jaxdl.training import create_train_state, fit, make_supervised_loss

LENGTH, BATCH, HIDDEN, FEATURES, CLASSES = 100, 32, 128, 32, 10


class LastStepLSTM(nn.Module):
    """LSTM over the sequence, then a linear head on the last hidden state."""

    unroll: int = 1

    @nn.compact
    def __call__(self, x):
        carry, _ = nn.RNN(LSTMCell(HIDDEN, name="lstm"), unroll=self.unroll)(x, return_carry=True)
        return nn.Dense(CLASSES, name="head")(carry[1])


class TorchModel(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(FEATURES, HIDDEN, batch_first=True)
        self.head = torch.nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def _numpy(t):
    return t.detach().numpy().copy()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--unroll", type=int, default=1)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.steps * BATCH, LENGTH, FEATURES)).astype(np.float32)
    y = rng.integers(0, CLASSES, size=args.steps * BATCH).astype(np.int32)

    torch.manual_seed(0)
    reference = TorchModel()
    initial = {k: v.clone() for k, v in reference.state_dict().items()}
    params = {
        "lstm": lstm_params_from_torch(
            *(_numpy(getattr(reference.lstm, n)) for n in ("weight_ih_l0", "weight_hh_l0")),
            *(_numpy(getattr(reference.lstm, n)) for n in ("bias_ih_l0", "bias_hh_l0")),
        ),
        "head": {
            "kernel": jnp.asarray(_numpy(reference.head.weight).T),
            "bias": jnp.asarray(_numpy(reference.head.bias)),
        },
    }
    model = LastStepLSTM(unroll=args.unroll)
    state = create_train_state(jax.random.key(0), model, x[:1], optax.adam(1e-3))
    state = state.replace(params=params, opt_state=state.tx.init(params))
    loss_fn = make_supervised_loss(model, "cross_entropy", ())
    data = (jnp.asarray(x), jnp.asarray(y))

    def run_jax():
        result = fit(
            jax.random.key(1),
            state,
            loss_fn,
            data,
            num_epochs=1,
            batch_size=BATCH,
            shuffle=False,
            progress=False,
            check_finite_data=False,
        )
        jax.block_until_ready(result.state.params)
        return result.history[-1]["train_loss"]

    xt, yt = torch.from_numpy(x), torch.from_numpy(y).long()

    def run_torch():
        reference.load_state_dict(initial)
        opt = torch.optim.Adam(reference.parameters(), lr=1e-3)
        losses = []
        for step in range(args.steps):
            sl = slice(step * BATCH, (step + 1) * BATCH)
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(reference(xt[sl]), yt[sl])
            loss.backward()
            opt.step()
            losses.append(loss.detach().item())
        return float(np.mean(losses))

    all_threads = torch.get_num_threads()

    def run_torch_one_thread():
        torch.set_num_threads(1)
        try:
            return run_torch()
        finally:
            torch.set_num_threads(all_threads)

    started = time.perf_counter()
    jax_loss = run_jax()
    first_jax = time.perf_counter() - started
    contenders = {"jaxdl": run_jax, "torch": run_torch, "torch_1_thread": run_torch_one_thread}
    times = {name: [] for name in contenders}
    torch_loss = run_torch()
    for _ in range(args.repeats):  # interleaved, so that a busy machine slows all alike
        for name, once in contenders.items():
            t0 = time.perf_counter()
            once()
            times[name].append(time.perf_counter() - t0)
    jax_rate = args.steps / min(times["jaxdl"])
    torch_rate = args.steps / min(times["torch"])
    torch_1_rate = args.steps / min(times["torch_1_thread"])
    print(
        json.dumps(
            {
                "sizes": {"length": LENGTH, "batch": BATCH, "hidden": HIDDEN, "features": FEATURES},
                "steps": args.steps,
                "unroll": args.unroll,
                "cpu_count": os.cpu_count(),
                "torch_threads": all_threads,
                "jaxdl_fit_steps_per_second": jax_rate,
                "jaxdl_first_run_seconds_with_compile": first_jax,
                "torch_steps_per_second": torch_rate,
                "ratio_jaxdl_over_torch": jax_rate / torch_rate,
                "torch_1_thread_steps_per_second": torch_1_rate,
                "ratio_jaxdl_over_torch_1_thread": jax_rate / torch_1_rate,
                "mean_train_loss": {"jaxdl": jax_loss, "torch": torch_loss},
                "device": jax.devices()[0].platform,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
