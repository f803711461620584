"""The one reader (and setter) of hyperparameters held in an optimizer state.

Optimizers built with ``optax.inject_hyperparams`` keep their hyperparameters (the
learning rate, momentum, ...) as arrays in the optimizer state. That makes them
readable during training (logged every epoch) and settable per member when a whole
training run is vmapped over a grid of hyperparameters.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from jaxdl.typing import Array, PyTree

__all__ = ["current_learning_rate", "get_hyperparams", "set_hyperparams"]


def _is_injected(node: Any) -> bool:
    return isinstance(node, optax.InjectHyperparamsState) or (
        hasattr(node, "hyperparams") and isinstance(node.hyperparams, dict)
    )


def get_hyperparams(opt_state: PyTree) -> dict[str, Array]:
    """All injected hyperparameters found in ``opt_state`` (first occurrence of each name).

    Example:
        >>> import jax.numpy as jnp, optax
        >>> tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
        >>> float(get_hyperparams(tx.init(jnp.zeros(2)))["learning_rate"])
        0.1...
    """
    found: dict[str, Array] = {}
    for node in jax.tree.leaves(opt_state, is_leaf=_is_injected):
        if _is_injected(node):
            for name, value in node.hyperparams.items():
                found.setdefault(name, value)
    return found


def set_hyperparams(opt_state: PyTree, **values: Any) -> PyTree:
    """Return ``opt_state`` with the named injected hyperparameters replaced.

    Values may carry a leading member axis (for a vmapped population of states).

    Raises:
        KeyError: when a name is not an injected hyperparameter of ``opt_state``.
    """
    available = get_hyperparams(opt_state)
    missing = sorted(set(values) - set(available))
    if missing:
        raise KeyError(
            f"hyperparameters {missing} are not injected in the optimizer state; available: "
            f"{sorted(available)} (build the optimizer with optax.inject_hyperparams)"
        )

    def replace(node: Any) -> Any:
        if not _is_injected(node):
            return node
        hyper = dict(node.hyperparams)
        for name, value in values.items():
            if name in hyper:
                old = hyper[name]
                hyper[name] = jnp.broadcast_to(
                    jnp.asarray(value, jnp.result_type(old)), jnp.shape(value) or jnp.shape(old)
                )
        return node._replace(hyperparams=hyper)

    return jax.tree.map(replace, opt_state, is_leaf=_is_injected)


def current_learning_rate(opt_state: PyTree) -> Array:
    """The learning rate of the latest update, read from an optimizer state.

    ``optax.inject_hyperparams`` stores the hyperparameters it evaluated for the most
    recent update (right after ``init``: those of the first update); this is
    ``get_hyperparams(opt_state)["learning_rate"]`` (also inside ``optax.chain``
    states, the first one found) with a clear error when there is none.

    Args:
        opt_state: an optimizer state (any pytree).

    Returns:
        A scalar array.

    Raises:
        ValueError: when no injected ``learning_rate`` is found; build the optimizer
            with :func:`jaxdl.optim.with_schedule_logging`.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.3)
        >>> float(current_learning_rate(tx.init(jnp.zeros(2))))
        0.3...
    """
    rate = get_hyperparams(opt_state).get("learning_rate")
    if rate is None:
        raise ValueError(
            "opt_state must come from an optimizer built with with_schedule_logging "
            "(optax.inject_hyperparams) with a learning_rate; none found in "
            f"{type(opt_state).__name__}"
        )
    return jnp.asarray(rate)
