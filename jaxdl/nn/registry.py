"""A registry of every public model, for generic transform tests.

Each module file registers its public models with :func:`register_model`; the test
``tests/nn/test_registry.py`` runs init/apply/jit/vmap/finiteness checks over all of
them, and fails when a public ``flax.linen.Module`` exported by ``jaxdl.nn`` (or a
sub-package listed in ``MODEL_PACKAGES``) is not registered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flax.linen as nn


@dataclass(frozen=True)
class ModelSpec:
    """How to build one small instance of a public model and feed it.

    Attributes:
        name: the class name, e.g. ``"MLP"``.
        make: a zero-argument factory returning a small module instance.
        input_shape: shape of one example (without batch axis) for float inputs, or
            the shape of an integer input when ``input_dtype`` is integer.
        input_dtype: ``"float32"`` or ``"int32"``.
        apply_kwargs: extra keyword arguments for ``apply`` (e.g. ``{"train": False}``).
        rngs: names of rng streams ``init`` needs besides ``"params"``.
        batched: whether the module expects a leading batch axis.
        cell: a recurrent cell (``(carry, x_t) -> (carry, y_t)``); the generic tests run it
            over sequences of ``input_shape = (T, D)`` through ``flax.linen.RNN``.
    """

    name: str
    make: Callable[[], nn.Module]
    input_shape: tuple[int, ...]
    input_dtype: str = "float32"
    apply_kwargs: dict[str, Any] = field(default_factory=dict)
    rngs: tuple[str, ...] = ()
    batched: bool = True
    cell: bool = False


_REGISTRY: dict[str, ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
    """Add ``spec`` to the registry (idempotent for the same name).

    Example:
        >>> import flax.linen as nn
        >>> spec = register_model(
        ...     ModelSpec(name="ExampleDense", make=lambda: nn.Dense(3), input_shape=(2,))
        ... )
        >>> registered_models()["ExampleDense"].input_shape
        (2,)
        >>> _ = _REGISTRY.pop("ExampleDense")  # keep the public registry unchanged
    """
    _REGISTRY[spec.name] = spec
    return spec


def registered_models() -> dict[str, ModelSpec]:
    """A copy of the registry, keyed by class name.

    Example:
        >>> import jaxdl.nn
        >>> registered_models()["MLP"].make().__class__.__name__
        'MLP'
    """
    return dict(_REGISTRY)
