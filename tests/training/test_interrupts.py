"""SIGINT / SIGTERM during fit: the chunk finishes, a checkpoint is saved, and
TrainingInterrupted is raised; deferred_signals restores the previous handlers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from jaxdl.training import Checkpointer, TrainingInterrupted
from jaxdl.training.interrupts import deferred_signals

pytestmark = pytest.mark.standard_dtype_promotion


SIGNAL_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    import jax, jax.numpy as jnp, optax
    import flax.linen as nn
    from jaxdl.training import TrainingInterrupted, create_train_state, fit, make_supervised_loss
    ckpt, signame = sys.argv[1], sys.argv[2]
    x = jax.random.normal(jax.random.key(0), (32, 3)); y = (x[:, 0] > 0).astype(jnp.int32)
    model = nn.Dense(2)
    state = create_train_state(jax.random.key(1), model, x[:1], optax.sgd(0.1))
    before = signal.getsignal(signal.SIGTERM)
    def send(record):
        if record["epoch"] == 2:
            os.kill(os.getpid(), getattr(signal, signame))
    try:
        fit(jax.random.key(2), state, make_supervised_loss(model), (x, y), num_epochs=50,
            batch_size=8, progress=False, checkpoint_dir=ckpt, callback=send)
    except TrainingInterrupted as error:
        restored = signal.getsignal(signal.SIGTERM) is before
        print(json.dumps({"step": error.step, "checkpoint_step": error.checkpoint_step,
                          "signal": int(error.signal), "restored": restored}))
        sys.exit(error.exit_code)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_signal_saves_a_checkpoint_and_raises_training_interrupted(tmp_path, signame):
    ckpt = tmp_path / "ckpt"
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_SCRIPT, str(ckpt), signame],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    signum = int(getattr(signal, signame))
    assert done.returncode == 128 + signum, done.stderr[-2000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["signal"] == signum and report["restored"]
    assert report["step"] == 8  # the chunk of epoch 2 finished: 2 epochs of 4 steps
    assert report["checkpoint_step"] == report["step"]
    with Checkpointer(ckpt) as checkpointer:  # the saved checkpoint is the reported one
        assert checkpointer.latest_step() == report["step"]


def test_training_interrupted_message_and_exit_code():
    error = TrainingInterrupted(12, 12, signal.SIGTERM)
    assert isinstance(error, KeyboardInterrupt) and error.exit_code == 143
    assert str(error) == "training interrupted by SIGTERM at step 12; checkpoint saved at step 12"
    plain = TrainingInterrupted(3, None, signal.SIGINT)
    assert plain.exit_code == 130 and "no checkpoint_dir, nothing saved" in str(plain)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_deferred_signals_records_the_signal_and_restores_the_handlers():
    before = signal.getsignal(signal.SIGTERM)
    with deferred_signals() as flag:
        assert flag.signum is None
        signal.raise_signal(signal.SIGTERM)  # recorded, not acted on
        assert flag.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before
