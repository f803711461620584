"""A training process killed with SIGKILL resumes from its checkpoint to the same parameters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

SCRIPT = textwrap.dedent(
    """
    import os, signal, sys
    import jax, jax.numpy as jnp, numpy as np, optax
    from jaxdl.nn import MLP
    from jaxdl.training import create_train_state, fit, supervised_loss
    ckpt, out, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    x = jax.random.normal(jax.random.key(0), (96, 4))
    y = (x[:, 0] * x[:, 1] > 0).astype(jnp.int32)
    model = MLP(features=(16, 2), activation="tanh", output=None)
    state = create_train_state(jax.random.key(1), model, x[:1], optax.adam(1e-2))
    def maybe_kill(record):
        if record["epoch"] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    result = fit(jax.random.key(2), state, supervised_loss(model), (x, y), num_epochs=8,
                 batch_size=16, progress=False, checkpoint_dir=ckpt or None,
                 callback=maybe_kill)
    leaves = jax.tree.leaves(result.state.params)
    np.savez(out, *[np.asarray(leaf) for leaf in leaves])
    """
)


def _run(tmp_path, checkpoint_dir: str, out: str, kill_at: int) -> subprocess.CompletedProcess:
    env = dict(os.environ, JAX_PLATFORMS="cpu")
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, checkpoint_dir, out, str(kill_at)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.slow
def test_killed_run_resumes_bitwise(tmp_path):
    reference = _run(tmp_path, "", str(tmp_path / "reference.npz"), kill_at=-1)
    assert reference.returncode == 0, reference.stderr[-2000:]

    checkpoints = str(tmp_path / "ckpt")
    killed = _run(tmp_path, checkpoints, str(tmp_path / "never.npz"), kill_at=5)
    assert killed.returncode == -signal.SIGKILL
    assert not (tmp_path / "never.npz").exists()

    resumed = _run(tmp_path, checkpoints, str(tmp_path / "resumed.npz"), kill_at=-1)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    a, b = np.load(tmp_path / "reference.npz"), np.load(tmp_path / "resumed.npz")
    assert sorted(a.files) == sorted(b.files)
    for name in a.files:
        np.testing.assert_array_equal(a[name], b[name])
