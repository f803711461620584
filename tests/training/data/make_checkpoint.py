"""Regenerate the committed checkpoint that guards the on-disk format against drift.

``checkpoint_format1/`` holds one :class:`jaxdl.training.Checkpointer` checkpoint (format
1) of a tiny MLP trained three Adam steps on fixed data, with the model's outputs on the
data stored in its ``extra``. ``tests/training/test_checkpoints.py`` restores it with the
current code and compares it with :func:`build` recomputed now. Regenerate it only on a
deliberate format change (bump ``jaxdl.training.checkpoints.FORMAT`` and rename the
directory), from the repository root::

    PYTHONPATH=$PWD python tests/training/data/make_checkpoint.py
"""

from __future__ import annotations

import pathlib
import shutil
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.nn import MLP
from jaxdl.training.checkpoints import FORMAT, Checkpointer

DIRECTORY = pathlib.Path(__file__).resolve().parent / f"checkpoint_format{FORMAT}"
STEPS = 3
METADATA = {"model": "MLP(features=(4, 2))", "optimizer": "adam(0.05)", "steps": STEPS}


def data() -> tuple[np.ndarray, np.ndarray]:
    """16 fixed points in 3-D (no RNG) and their labels, the sign of their coordinate sum."""
    x = np.linspace(-1.0, 1.0, 48, dtype=np.float32).reshape(16, 3)[:, ::-1] * [1.0, -0.5, 2.0]
    x = x.astype(np.float32)
    return x, (x.sum(axis=1) > 0).astype(np.int32)


def build() -> tuple[dict[str, Any], np.ndarray]:
    """The saved tree (step, params, Adam state, a key) and the model's logits on the data."""
    model, tx = MLP(features=(4, 2)), optax.adam(0.05)
    x, y = data()
    params = model.init(jax.random.key(0), jnp.zeros((1, 3)))
    opt_state = tx.init(params)

    def loss(params):
        logits = model.apply(params, x, return_logits=True)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @jax.jit
    def train_step(params, opt_state):
        updates, opt_state = tx.update(jax.grad(loss)(params), opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    for _ in range(STEPS):
        params, opt_state = train_step(params, opt_state)
    tree = {
        "step": jnp.asarray(STEPS, jnp.int32),
        "params": params,
        "opt_state": opt_state,
        "key": jax.random.fold_in(jax.random.key(1), STEPS),
    }
    return tree, np.asarray(model.apply(params, x, return_logits=True))


def main() -> None:
    tree, logits = build()
    shutil.rmtree(DIRECTORY, ignore_errors=True)
    with Checkpointer(DIRECTORY, metadata=METADATA) as checkpointer:
        checkpointer.save(STEPS, tree, extra={"logits": logits.tolist()}, force=True)
    size = sum(p.stat().st_size for p in DIRECTORY.rglob("*") if p.is_file())
    print(f"wrote {DIRECTORY} ({size} bytes)")


if __name__ == "__main__":
    main()
