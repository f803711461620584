"""Data-parallel fit over 8 virtual CPU devices equals single-device fit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np, optax
    from jaxdl.nn import MLP
    from jaxdl.training import create_train_state, data_parallel_mesh, fit, make_supervised_loss
    assert len(jax.devices()) == 8, jax.devices()
    x = jax.random.normal(jax.random.key(0), (128, 5))
    y = (x[:, 0] > 0).astype(jnp.int32)
    model = MLP(features=(16, 2), activation="tanh", output=None)
    loss_fn = make_supervised_loss(model)
    def run(mesh):
        state = create_train_state(jax.random.key(1), model, x[:1], optax.sgd(0.1))
        return fit(jax.random.key(2), state, loss_fn, (x, y), num_epochs=3, batch_size=32,
                   progress=False, mesh=mesh)
    single = run(None)
    mesh = data_parallel_mesh()
    multi = run(mesh)
    leaf = jax.tree.leaves(multi.state.params)[0]
    assert len(leaf.sharding.device_set) == 8, leaf.sharding
    for a, b in zip(jax.tree.leaves(single.state.params), jax.tree.leaves(multi.state.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-6)
    try:
        fit(jax.random.key(3), create_train_state(jax.random.key(4), model, x[:1],
            optax.sgd(0.1)), loss_fn, (x, y), num_epochs=1, batch_size=12, progress=False,
            mesh=mesh)
    except ValueError as error:
        assert "divisible by the 8 devices" in str(error), error
    else:
        raise AssertionError("batch_size 12 over 8 devices must raise")
    print("OK")
    """
)


@pytest.mark.standard_dtype_promotion
def test_data_parallel_fit_matches_single_device():
    env = dict(os.environ)
    env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=8"
    env["JAX_PLATFORMS"] = "cpu"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("OK")
