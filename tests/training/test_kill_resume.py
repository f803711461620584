"""A training process killed with SIGKILL at random moments resumes to the same parameters.

One run is killed three times at random epochs (and a random few milliseconds later, so the
kill lands anywhere: in a chunk, in a save, between them); each restart resumes from the
last checkpoint on disk. Before the last restart the newest checkpoint is also bit-flipped:
the run must skip it with one warning line, resume from the one before, and still end with
parameters bit-for-bit equal to an uninterrupted run.
"""

from __future__ import annotations

import os
import pathlib
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
NUM_EPOCHS = 10

SCRIPT = textwrap.dedent(
    """
    import inspect, sys
    import jax, jax.numpy as jnp, numpy as np, optax
    from jaxdl.nn import MLP
    from jaxdl.training import create_train_state, fit, make_supervised_loss
    ckpt, out, num_epochs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x = jax.random.normal(jax.random.key(0), (96, 4))
    y = (x[:, 0] * x[:, 1] > 0).astype(jnp.int32)
    model = MLP(features=(16, 2), activation="tanh", output=None)
    state = create_train_state(jax.random.key(1), model, x[:1], optax.adam(1e-2))
    options = {}
    if ckpt and "checkpoint_every_steps" in inspect.signature(fit).parameters:
        options["checkpoint_every_steps"] = 6  # every epoch, whatever fit's default
    def report(record):
        print("epoch", record["epoch"], flush=True)
    result = fit(jax.random.key(2), state, make_supervised_loss(model), (x, y),
                 num_epochs=num_epochs, batch_size=16, epochs_per_chunk=1, progress=False,
                 checkpoint_dir=ckpt or None, callback=report, **options)
    leaves = jax.tree.leaves(result.state.params)
    np.savez(out, *[np.asarray(leaf) for leaf in leaves])
    """
)


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    env = dict(
        os.environ,
        JAX_PLATFORMS="cpu",
        PYTHONPATH=f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
    )
    cache = os.environ.get("JAXDL_TEST_XLA_CACHE")
    if cache and cache != "off":
        # The five runs compile the same programs: the session's XLA cache (tests/conftest.py)
        # lets the first compile them and the others read them.
        env.update(
            JAX_COMPILATION_CACHE_DIR=cache,
            JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0",
            JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES="-1",
        )
    return env


def _command(checkpoint_dir: str, out: pathlib.Path) -> list[str]:
    return [sys.executable, "-c", SCRIPT, checkpoint_dir, str(out), str(NUM_EPOCHS)]


def _run(tmp_path, checkpoint_dir: str, out: pathlib.Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        _command(checkpoint_dir, out),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )


def _run_and_kill(tmp_path, checkpoint_dir: str, epoch: int, delay: float) -> int:
    """Start a run, SIGKILL it ``delay`` seconds after it reports ``epoch``; its exit code."""
    process = subprocess.Popen(
        _command(checkpoint_dir, tmp_path / "never.npz"),
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=tmp_path,
    )
    try:
        for line in process.stdout:
            if line.split() == ["epoch", str(epoch)]:
                time.sleep(delay)
                process.send_signal(signal.SIGKILL)
                break
        return process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _flip_latest(checkpoint_dir: pathlib.Path) -> pathlib.Path:
    latest = max(
        (p for p in (checkpoint_dir / "latest").iterdir() if p.name.isdigit()),
        key=lambda p: int(p.name),
    )
    for path in (latest / "arrays").rglob("*"):
        if path.is_file() and path.parent.name == "d":
            data = bytearray(path.read_bytes())
            data[len(data) // 2] ^= 0x10
            path.write_bytes(bytes(data))
    return latest


def _assert_same(a: pathlib.Path, b: pathlib.Path) -> None:
    x, y = np.load(a), np.load(b)
    assert sorted(x.files) == sorted(y.files)
    for name in x.files:
        np.testing.assert_array_equal(x[name], y[name])


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_three_times_and_corrupted_run_resumes_bitwise(tmp_path):
    reference = _run(tmp_path, "", tmp_path / "reference.npz")
    assert reference.returncode == 0, reference.stderr[-2000:]

    rng = random.Random(7)
    checkpoints = tmp_path / "ckpt"
    for epoch in sorted(rng.sample(range(2, NUM_EPOCHS - 3), 3)):
        code = _run_and_kill(tmp_path, str(checkpoints), epoch, rng.uniform(0.0, 0.03))
        assert code == -signal.SIGKILL, f"run meant to be killed after epoch {epoch} exited {code}"
        assert not (tmp_path / "never.npz").exists()

    corrupted = _flip_latest(checkpoints)
    resumed = _run(tmp_path, str(checkpoints), tmp_path / "resumed.npz")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "Traceback" not in resumed.stderr, resumed.stderr[-2000:]
    lines = resumed.stderr.splitlines()
    skipped = [line for line in lines if "skipping corrupt checkpoint" in line]
    assert len(skipped) == 1 and str(corrupted) in skipped[0], resumed.stderr[-2000:]
    _assert_same(tmp_path / "reference.npz", tmp_path / "resumed.npz")
