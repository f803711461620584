"""Shared test set-up: tiny models, data sets, train states, optimizer loops, interrupts.

One copy of what the training and model tests used to define each for themselves. Tests
that share these shapes also share their compiled programs through the session's
persistent XLA cache (``tests/conftest.py``), so a test that reuses them compiles less.
Import from here (``from tests._fixtures import raw_state``); nothing here is a test.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxdl.training import TrainState, create_train_state


class TinyNet(nn.Module):
    """``Dense(hidden) -> tanh -> Dropout -> Dense(classes)``: the suite's small classifier."""

    hidden: int = 16
    classes: int = 3
    dropout: float = 0.0

    @nn.compact
    def __call__(self, x, train: bool = False):
        x = nn.tanh(nn.Dense(self.hidden)(x))
        x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(self.classes)(x)


class TinyReLUNet(nn.Module):
    """Dense(6) -> ReLU (sown as 'hidden') -> Dense(3)."""

    @nn.compact
    def __call__(self, x):
        z = nn.Dense(6, name="hidden_dense")(x)
        h = nn.relu(z)
        self.sow("intermediates", "hidden", h)
        return nn.Dense(3, name="output_dense")(h)


def classification_data(seed: int = 0, n: int = 96, d: int = 4) -> tuple[jax.Array, jax.Array]:
    """``n`` Gaussian points in ``d`` dimensions, labelled by the argmax of their first 3."""
    x = jax.random.normal(jax.random.key(seed), (n, d))
    y = jnp.argmax(x[:, :3], axis=-1).astype(jnp.int32)
    return x, y


def linear_problem(n: int = 64, learning_rate: float = 0.1):
    """A ``Dense(2)`` classifier of the sign of ``x[:, 0]`` on ``n`` points in 3-D.

    Returns:
        ``(model, state, x, y)``: the state from ``create_train_state`` with SGD.
    """
    x = jax.random.normal(jax.random.key(0), (n, 3))
    y = (x[:, 0] > 0).astype(jnp.int32)
    model = nn.Dense(2)
    state = create_train_state(jax.random.key(1), model, x[:1], optax.sgd(learning_rate))
    return model, state, x, y


def raw_state(params: Any, opt_state: Any = None) -> TrainState:
    """A ``TrainState`` with no model and no optimizer, for custom update steps."""
    return TrainState(
        step=jnp.zeros((), jnp.int32),
        params=params,
        opt_state={} if opt_state is None else opt_state,
        model_state={},
        apply_fn=None,
        tx=None,
    )


def optax_steps(
    tx: optax.GradientTransformation,
    params: Any,
    loss: Callable[[Any], jax.Array],
    num_steps: int,
) -> Any:
    """``num_steps`` full-batch updates of ``params`` on ``loss(params)`` by ``tx`` in a scan."""

    def body(carry, _):
        p, s = carry
        updates, s = tx.update(jax.grad(loss)(p), s, p)
        return (optax.apply_updates(p, updates), s), None

    (params, _), _ = jax.lax.scan(body, (params, tx.init(params)), None, length=num_steps)
    return params


def count_traces(fn: Callable[..., Any]) -> tuple[Callable[..., Any], list[int]]:
    """``fn`` wrapped to append to a list each time it runs: under ``jit``, once per trace.

    Returns:
        ``(wrapped, traces)``: ``len(traces)`` is how many times ``wrapped`` was traced.
    """
    traces: list[int] = []

    def wrapped(*args, **kwargs):
        traces.append(1)
        return fn(*args, **kwargs)

    return wrapped, traces


class Interrupt(Exception):
    """Raised by :func:`stop_at_epoch`'s callback: a run cut short after an epoch."""


def stop_at_epoch(epoch: int) -> Callable[[dict], None]:
    """A ``fit`` callback that raises :class:`Interrupt` once the record of ``epoch`` arrives."""

    def callback(record: dict) -> None:
        if record["epoch"] == epoch:
            raise Interrupt(f"stopped at epoch {epoch}")

    return callback
