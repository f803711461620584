"""Type aliases and protocols shared across jaxdl.

Every module annotates with these names so a reader sees at a glance what is a
PRNG key, what is a parameter tree and what is a plain array.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeAlias

import jax

Array: TypeAlias = jax.Array
"""A JAX array (on any device)."""

ArrayLike: TypeAlias = jax.typing.ArrayLike
"""Anything ``jnp.asarray`` accepts: arrays, NumPy arrays, Python scalars."""

Key: TypeAlias = jax.Array
"""A typed PRNG key created with ``jax.random.key(seed)``."""

PyTree: TypeAlias = Any
"""A nested structure of lists, tuples, dicts and NamedTuples with array leaves."""

Params: TypeAlias = Mapping[str, Any]
"""A flax parameter tree (``variables['params']`` or the full variables dict)."""

Batch: TypeAlias = Any
"""A minibatch: a pytree of arrays sharing a leading batch axis, e.g. ``(x, y)``."""

Metrics: TypeAlias = Mapping[str, Array]
"""Scalar metrics keyed by name."""

ActivationFn: TypeAlias = Callable[[Array], Array]


class LossFn(Protocol):
    """The loss signature the training engine differentiates.

    ``loss_fn(params, model_state, batch, key) -> (loss, (model_state, metrics))``:
    ``params`` is the differentiated tree, ``model_state`` holds non-trained
    collections (batch statistics, ...), ``key`` is a per-step PRNG key for
    dropout or noise, and ``metrics`` is a dict of scalars averaged per epoch.
    """

    def __call__(
        self, params: PyTree, model_state: PyTree, batch: Batch, key: Key
    ) -> tuple[Array, tuple[PyTree, Metrics]]: ...


class EvalFn(Protocol):
    """``eval_fn(params, model_state, batch) -> metrics`` for one whole evaluation set."""

    def __call__(self, params: PyTree, model_state: PyTree, batch: Batch) -> Metrics: ...


__all__ = [
    "ActivationFn",
    "Array",
    "ArrayLike",
    "Batch",
    "EvalFn",
    "Key",
    "LossFn",
    "Metrics",
    "Params",
    "PyTree",
]
