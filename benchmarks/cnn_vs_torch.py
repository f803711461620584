"""The slides' CNN trained on the MNIST digits, and ResNet-18 forward+backward: jaxdl vs PyTorch.

1. ``slides_cnn``: 28x28 -> Conv(1 -> 16, 5x5, stride 2) -> ReLU -> max-pool 3/2 -> dense
   400 -> 10, Adam 1e-3, batch 64, on the 5,000 MNIST digits' training split (3,584 images:
   56 full batches), ``--epochs`` epochs. Both sides start from the same weights (the JAX
   initialization copied into PyTorch, the dense layer's rows reordered from NHWC to NCHW
   flattening) and see the same batches in the same order (one fixed shuffle, then
   ``shuffle=False``). jaxdl: ``fit`` (one compiled chunk for the whole run), timed on a
   second call (steady state) and on the first (compilation included). PyTorch: eager on CPU,
   the usual ``zero_grad / backward / step`` loop, fused Adam when available.
2. ``resnet18_32x32``: one training step's forward and backward pass (no optimizer update) of
   ResNet-18 with the 32x32 stem (3x3 stem, no max-pool, 10 classes), batch statistics in
   training mode, ``--resnet-batch`` images (128 in the issue; a smaller batch on a busy
   machine), median of ``--resnet-steps`` steps after a warm-up; the two sides have their own
   (same-shaped) initial weights.

Run: ``python benchmarks/cnn_vs_torch.py [--epochs 3] [--resnet-batch 128]``. Prints one JSON
object with steps/s (or seconds per step) and the ratios (jaxdl over PyTorch speed).
"""

from __future__ import annotations

import argparse
import json
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import torch

from jaxdl.data import load_mnist
from jaxdl.nn import SlidesCNN, resnet18
from jaxdl.training import create_train_state, fit, make_supervised_loss

BATCH = 64


def _data(seed: int) -> tuple[np.ndarray, np.ndarray]:
    data = load_mnist(seed=0, image_shape=True)
    order = np.random.default_rng(seed).permutation(len(data.x_train))[: 56 * BATCH]
    return np.asarray(data.x_train)[order], np.asarray(data.y_train)[order]


def slides_cnn(args: argparse.Namespace) -> dict:
    x, y = _data(args.seed)
    model = SlidesCNN(num_classes=10)
    key = jax.random.key(args.seed)
    init_key, fit_key = jax.random.split(key)
    tx = optax.adam(1e-3)
    state = create_train_state(init_key, model, x[:1], tx)
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    steps = args.epochs * (len(x) // BATCH)

    def run_jax():
        return fit(
            fit_key,
            state,
            loss_fn,
            (x, y),
            num_epochs=args.epochs,
            batch_size=BATCH,
            shuffle=False,
            epochs_per_chunk=args.epochs,
            progress=False,
        )

    started = time.perf_counter()
    result = run_jax()
    jax.block_until_ready(result.state.params)
    first = time.perf_counter() - started
    started = time.perf_counter()
    result = run_jax()
    jax.block_until_ready(result.state.params)
    steady = time.perf_counter() - started
    jax_loss = result.history[-1]["train_loss"]

    params = jax.tree.map(np.asarray, state.params)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 5, stride=2),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(3, 2),
        torch.nn.Flatten(),
        torch.nn.Linear(400, 10),
    )
    with torch.no_grad():
        kernel = params["conv"]["conv"]["kernel"]  # [5, 5, 1, 16]
        net[0].weight.copy_(torch.from_numpy(np.transpose(kernel, (3, 2, 0, 1)).copy()))
        net[0].bias.copy_(torch.from_numpy(params["conv"]["conv"]["bias"]))
        dense = params["head"]["kernel"].reshape(5, 5, 16, 10)  # (h, w, c) rows -> (c, h, w)
        net[4].weight.copy_(torch.from_numpy(np.transpose(dense, (3, 2, 0, 1)).reshape(10, 400)))
        net[4].bias.copy_(torch.from_numpy(params["head"]["bias"]))
    try:
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, fused=True)
    except (RuntimeError, TypeError):
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3, foreach=True)
    xt = torch.from_numpy(np.transpose(x, (0, 3, 1, 2)).copy())
    yt = torch.from_numpy(y.astype(np.int64))
    loss_function = torch.nn.CrossEntropyLoss()
    started = time.perf_counter()
    losses = []
    for _ in range(args.epochs):
        epoch_losses = []
        for i in range(0, len(xt), BATCH):
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(net(xt[i : i + BATCH]), yt[i : i + BATCH])
            loss.backward()
            optimizer.step()
            epoch_losses.append(loss.item())
        losses.append(float(np.mean(epoch_losses)))
    torch_seconds = time.perf_counter() - started
    return {
        "steps": steps,
        "jaxdl_fit_steps_per_second": steps / steady,
        "jaxdl_fit_first_call_seconds": first,
        "jaxdl_compile_seconds": first - steady,
        "pytorch_eager_steps_per_second": steps / torch_seconds,
        "ratio_steady": (steps / steady) / (steps / torch_seconds),
        "ratio_with_compilation": torch_seconds / first,
        "final_epoch_train_loss": {"jaxdl": jax_loss, "pytorch": losses[-1]},
    }


def _torch_resnet18_small(num_classes: int = 10) -> torch.nn.Module:
    class Block(torch.nn.Module):
        def __init__(self, cin: int, cout: int, stride: int):
            super().__init__()
            self.c1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = torch.nn.BatchNorm2d(cout)
            self.c2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = torch.nn.BatchNorm2d(cout)
            self.short = None
            if stride != 1 or cin != cout:
                self.short = torch.nn.Sequential(
                    torch.nn.Conv2d(cin, cout, 1, stride, bias=False), torch.nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            y = torch.relu(self.b1(self.c1(x)))
            y = self.b2(self.c2(y))
            return torch.relu(y + (x if self.short is None else self.short(x)))

    layers = [
        torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False),
        torch.nn.BatchNorm2d(64),
        torch.nn.ReLU(),
    ]
    cin = 64
    for stage, width in enumerate((64, 128, 256, 512)):
        for index in range(2):
            stride = 2 if stage > 0 and index == 0 else 1
            layers.append(Block(cin, width, stride))
            cin = width
    layers += [torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(512, num_classes)]
    return torch.nn.Sequential(*layers)


def resnet(args: argparse.Namespace) -> dict:
    batch = args.resnet_batch
    rng = np.random.default_rng(args.seed)
    x = rng.standard_normal((batch, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, batch).astype(np.int32)
    model = resnet18(10, stem="small")
    variables = jax.jit(model.init)(jax.random.key(args.seed), x[:1])

    @jax.jit
    def grads(params, batch_stats, x, y):
        def loss(params):
            logits, state = model.apply(
                {"params": params, "batch_stats": batch_stats},
                x,
                train=True,
                mutable=["batch_stats"],
            )
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), state

        return jax.grad(loss, has_aux=True)(params)

    params, stats = variables["params"], variables["batch_stats"]
    xj, yj = jnp.asarray(x), jnp.asarray(y)
    started = time.perf_counter()
    jax.block_until_ready(grads(params, stats, xj, yj))
    jax_first = time.perf_counter() - started
    jax_times = []
    for _ in range(args.resnet_steps):
        started = time.perf_counter()
        jax.block_until_ready(grads(params, stats, xj, yj))
        jax_times.append(time.perf_counter() - started)

    net = _torch_resnet18_small().train()
    xt = torch.from_numpy(np.transpose(x, (0, 3, 1, 2)).copy())
    yt = torch.from_numpy(y.astype(np.int64))
    loss_function = torch.nn.CrossEntropyLoss()
    torch_times = []
    for step in range(args.resnet_steps + 1):
        started = time.perf_counter()
        net.zero_grad(set_to_none=True)
        loss_function(net(xt), yt).backward()
        if step:  # the first is a warm-up
            torch_times.append(time.perf_counter() - started)
    jax_step, torch_step = float(np.median(jax_times)), float(np.median(torch_times))
    return {
        "batch": batch,
        "jaxdl_seconds_per_step": jax_step,
        "jaxdl_first_call_seconds": jax_first,
        "pytorch_eager_seconds_per_step": torch_step,
        "ratio": torch_step / jax_step,
        "num_params": {
            "jaxdl": int(sum(v.size for v in jax.tree.leaves(params))),
            "pytorch": int(sum(p.numel() for p in net.parameters())),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--resnet-batch", type=int, default=128)
    parser.add_argument("--resnet-steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-resnet", action="store_true")
    args = parser.parse_args()
    report = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "torch_threads": torch.get_num_threads(),
            "jax_backend": jax.default_backend(),
        },
        "slides_cnn": slides_cnn(args),
    }
    if not args.skip_resnet:
        report["resnet18_32x32"] = resnet(args)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
