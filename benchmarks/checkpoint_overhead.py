"""What checkpoints cost the main job: ``fit`` with and without ``checkpoint_dir``.

The main job is ``experiments/mnist1d_mlp`` with its default config: MLP 40-100-100-10
(ReLU) on MNIST-1D, Adam 1e-2 after ``add_decayed_weights(1e-3)``, batch 100, 3,000 steps,
5-epoch chunks, the test split evaluated every epoch. Each repetition trains from scratch
(a fresh checkpoint directory, so nothing is resumed); the two variants alternate so that
a busy machine slows both alike. Prints one JSON object: the median wall time of each
variant, with compilation (caches cleared before every run) and without (after a
warm-up), the ratios (target: within 1.15x), and how many checkpoints each run wrote.

``fit`` decides when to save; ``--interval-steps N`` passes ``checkpoint_every_steps=N``
when ``fit`` has that argument, and otherwise makes the ``Checkpointer`` inside ``fit``
save every N steps (so the interval policy can be measured before ``fit`` exposes it).

``--cli-repetitions N`` (default 3, 0 skips it) also times the whole ``jaxdl run
mnist1d-mlp`` in fresh processes, with and without ``--set checkpoint=false``, alternating.

Run: ``python benchmarks/checkpoint_overhead.py --repetitions 5`` (``--interval-steps``,
``--cli-repetitions``).

Where the cost was (profiled on the shared 2-core machine): not the CRC-32s (0.3 ms per
save for the 45k-parameter state, on the training thread) nor the device-to-host copy
(under 1 ms; the next chunk is already queued, so the copy overlaps with it), but orbax's
``StandardSave``: tensorstore + OCDBT cost about 100 ms of wall time and 40 ms of CPU per
checkpoint whatever its size (a JSON item alone: 19 ms), plus 10-40 ms of thread start-up
on the training thread, and the last save's write is waited for before ``fit`` returns.
Arrays stay in orbax's standard format (``StandardSave``: tensorstore, restorable onto
another device count or mesh), so the fixed cost per save is kept and paid less often:
``fit``'s default interval (a quarter of the run) also waits 10 s after the previous save,
so a short run such as this one writes its last checkpoint only, while a long run still
saves a few times (and always at the end and on SIGINT / SIGTERM). Before (last session,
idle machine, 4 saves): 0.48 s -> 0.58 s (1.22x). The figures of the current version are
in the README's benchmark table.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import jax
import optax

from jaxdl.data import load_mnist1d
from jaxdl.nn import MLP
from jaxdl.training import (
    checkpoints,
    create_train_state,
    epochs_for_steps,
    fit,
    loop,
    make_supervised_loss,
)

CONFIG = {  # experiments/mnist1d_mlp/configs/default.py
    "seed": 0,
    "data_seed": 42,
    "num_samples": 5000,
    "hidden": [100, 100],
    "learning_rate": 1e-2,
    "batch_size": 100,
    "num_steps": 3000,
    "weight_decay": 1e-3,
    "epochs_per_chunk": 5,
}


_WRITTEN = [0]


def _count_and_set_interval(interval_steps: int | None) -> None:
    """Wrap the library's Checkpointer: count what it writes, optionally set its interval."""
    cls = checkpoints.Checkpointer
    save, init = cls.save, cls.__init__

    def counting_save(self, *args, **kwargs):
        saved = save(self, *args, **kwargs)
        _WRITTEN[0] += int(saved)
        return saved

    def init_with_interval(self, *args, **kwargs):
        if interval_steps is not None and kwargs.get("save_interval_steps") is None:
            kwargs["save_interval_steps"] = interval_steps
        init(self, *args, **kwargs)

    cls.save, cls.__init__ = counting_save, init_with_interval


def _main_job():
    data = load_mnist1d(num_samples=CONFIG["num_samples"], seed=CONFIG["data_seed"])
    model = MLP(features=(*CONFIG["hidden"], data.num_classes), activation="relu", output=None)
    tx = optax.chain(
        optax.add_decayed_weights(CONFIG["weight_decay"]),
        optax.inject_hyperparams(optax.adam)(learning_rate=CONFIG["learning_rate"]),
    )
    init_key, train_key = jax.random.split(jax.random.key(CONFIG["seed"]))
    state = create_train_state(init_key, model, data.x_train[:1], tx)
    loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
    num_epochs = epochs_for_steps(CONFIG["num_steps"], len(data.x_train), CONFIG["batch_size"])
    parameters = inspect.signature(fit).parameters
    split = "val_data" if "val_data" in parameters else "eval_data"
    kwargs = {
        "num_epochs": num_epochs,
        "batch_size": CONFIG["batch_size"],
        split: (data.x_test, data.y_test),
        "epochs_per_chunk": CONFIG["epochs_per_chunk"],
        "progress": False,
    }
    run = functools.partial(fit, train_key, state, loss_fn, (data.x_train, data.y_train), **kwargs)
    steps = num_epochs * (len(data.x_train) // CONFIG["batch_size"])
    return run, steps


def _fit_has_interval() -> bool:
    return "checkpoint_every_steps" in inspect.signature(fit).parameters


def _timed(run, checkpoint_dir: str | None, extra: dict) -> tuple[float, float, int]:
    """Wall and CPU seconds (all threads: XLA's and orbax's writers) of one run."""
    before = _WRITTEN[0]
    started, cpu = time.perf_counter(), time.process_time()
    result = run(checkpoint_dir=checkpoint_dir, **(extra if checkpoint_dir else {}))
    jax.block_until_ready(result.state.params)
    return time.perf_counter() - started, time.process_time() - cpu, _WRITTEN[0] - before


def _cli_runs(repetitions: int) -> dict:
    """``jaxdl run mnist1d-mlp`` as a user runs it (a fresh process, the CLI's persistent
    compilation cache warmed by a first run), with and without ``--set checkpoint=false``,
    alternating; wall time of the whole process."""
    root = pathlib.Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    times = {"with": [], "without": []}
    with tempfile.TemporaryDirectory() as workdirs:

        def once(variant: str, name: str) -> float:
            argv = [sys.executable, "-m", "jaxdl.cli", "run", "mnist1d-mlp"]
            argv += ["--workdir", f"{workdirs}/{name}"]
            argv += ["--set", "checkpoint=false"] if variant == "without" else []
            started = time.perf_counter()
            subprocess.run(argv, cwd=root, env=env, check=True, capture_output=True)
            return time.perf_counter() - started

        once("with", "warm-up")
        for repetition in range(repetitions):
            for variant in ("without", "with"):
                times[variant].append(once(variant, f"{variant}-{repetition}"))
    with_, without = statistics.median(times["with"]), statistics.median(times["without"])
    return {
        "with_checkpoints": {"median_seconds": with_, "runs": times["with"]},
        "without_checkpoints": {"median_seconds": without, "runs": times["without"]},
        "ratio": with_ / without,
    }


def _clear_compilation_caches() -> None:
    jax.clear_caches()
    for name in dir(loop):
        cached = getattr(getattr(loop, name), "cache_clear", None)
        if cached is not None:
            cached()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=3)
    parser.add_argument("--interval-steps", type=int, default=None)
    parser.add_argument(
        "--cli-repetitions", type=int, default=3, help="jaxdl run pairs (0: skip the CLI)"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    run, steps = _main_job()
    extra = {}
    if args.interval_steps is not None and _fit_has_interval():
        extra["checkpoint_every_steps"] = args.interval_steps
        _count_and_set_interval(None)
    else:
        _count_and_set_interval(args.interval_steps)

    times = {
        variant: {"compiled": [], "compiled_cpu": [], "with_compile": []}
        for variant in ("without", "with")
    }
    written = []
    with tempfile.TemporaryDirectory() as root:
        for repetition in range(args.repetitions):
            for variant in ("without", "with"):
                directory = f"{root}/{variant}-compile-{repetition}" if variant == "with" else None
                _clear_compilation_caches()
                elapsed, _, _ = _timed(run, directory, extra)
                times[variant]["with_compile"].append(elapsed)
        _timed(run, None, extra)  # warm-up: compiled once for the runs below
        for repetition in range(args.repetitions):
            for variant in ("without", "with"):
                directory = f"{root}/{variant}-{repetition}" if variant == "with" else None
                elapsed, cpu, count = _timed(run, directory, extra)
                times[variant]["compiled"].append(elapsed)
                times[variant]["compiled_cpu"].append(cpu)
                if variant == "with":
                    written.append(count)

    def summary(variant: str) -> dict:
        return {
            key: {"median_seconds": statistics.median(values), "runs": values}
            for key, values in times[variant].items()
        }

    load_after_fit = os.getloadavg()[0]
    cli = _cli_runs(args.cli_repetitions) if args.cli_repetitions > 0 else None
    report = {
        "benchmark": "checkpoint_overhead_mnist1d_mlp_main_job",
        "device": str(jax.devices()[0]),
        "load_average_1min": [load_before, load_after_fit, os.getloadavg()[0]],
        "steps": steps,
        "epochs_per_chunk": CONFIG["epochs_per_chunk"],
        "repetitions": args.repetitions,
        "interval_steps": args.interval_steps,
        "fit_has_checkpoint_interval": _fit_has_interval(),
        "checkpoints_written_per_run": written,
        "without_checkpoints": summary("without"),
        "with_checkpoints": summary("with"),
        "ratio_compiled": statistics.median(times["with"]["compiled"])
        / statistics.median(times["without"]["compiled"]),
        "ratio_compiled_cpu": statistics.median(times["with"]["compiled_cpu"])
        / statistics.median(times["without"]["compiled_cpu"]),
        "ratio_with_compile": statistics.median(times["with"]["with_compile"])
        / statistics.median(times["without"]["with_compile"]),
        "target_ratio": 1.15,
        "jaxdl_run_mnist1d_mlp": cli,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
