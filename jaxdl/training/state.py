"""The train state: everything a training run carries from one step to the next."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax
from flax import struct

from jaxdl.typing import Array, Key, PyTree


@struct.dataclass
class TrainState:
    """Parameters, optimizer state, model state and step of one training run.

    A pytree (a flax ``struct.dataclass``): it passes through ``jit``, ``vmap``,
    ``lax.scan`` and orbax checkpoints. ``apply_fn``, ``tx`` and ``input_spec`` are
    static (not leaves).

    Attributes:
        step: number of optimizer updates applied so far (int32 scalar).
        params: the trained parameter tree (``variables['params']``).
        opt_state: the optax state of ``tx``.
        model_state: non-trained variable collections such as ``{'batch_stats': ...}``;
            an empty dict for stateless models.
        apply_fn: ``model.apply``.
        tx: the optax ``GradientTransformation``.
        input_spec: ``(shape, dtype)`` of one example the model was initialized with, or
            ``None``; used to check the shape of training data before compiling.
    """

    step: Array
    params: PyTree
    opt_state: PyTree
    model_state: PyTree
    apply_fn: Callable[..., Any] = struct.field(pytree_node=False)
    tx: optax.GradientTransformation = struct.field(pytree_node=False)
    input_spec: tuple[tuple[int, ...], str] | None = struct.field(pytree_node=False, default=None)

    @classmethod
    def create(
        cls,
        *,
        apply_fn: Callable[..., Any],
        params: PyTree,
        tx: optax.GradientTransformation,
        model_state: PyTree | None = None,
        input_spec: tuple[tuple[int, ...], str] | None = None,
    ) -> TrainState:
        """A fresh state at step 0 with ``tx.init(params)``."""
        return cls(
            step=jnp.zeros((), jnp.int32),
            params=params,
            opt_state=tx.init(params),
            model_state={} if model_state is None else model_state,
            apply_fn=apply_fn,
            tx=tx,
            input_spec=input_spec,
        )

    def apply_gradients(self, grads: PyTree, **changes: Any) -> TrainState:
        """One optimizer update: ``params <- params + tx.update(grads)``; ``step += 1``."""
        updates, opt_state = self.tx.update(grads, self.opt_state, self.params)
        params = optax.apply_updates(self.params, updates)
        return self.replace(step=self.step + 1, params=params, opt_state=opt_state, **changes)

    @property
    def variables(self) -> dict[str, PyTree]:
        """``{'params': params, **model_state}``, ready for ``apply_fn``."""
        return {"params": self.params, **self.model_state}


def create_train_state(
    key: Key,
    model: nn.Module,
    example_input: Array,
    tx: optax.GradientTransformation,
    *,
    max_grad_norm: float | None = None,
    init_kwargs: dict[str, Any] | None = None,
    extra_inputs: tuple[Any, ...] = (),
) -> TrainState:
    """Initialize ``model`` on ``example_input`` and wrap it with the optimizer ``tx``.

    A model with several inputs (an encoder-decoder's ``(source, target)``) gets the
    others as ``extra_inputs``: ``model.init(keys, example_input, *extra_inputs)``.

    Args:
        key: PRNG key for parameter initialization (and any other init rng stream, such as
            ``'dropout'``, which receives a key split from it).
        model: a ``flax.linen.Module``.
        example_input: a batch ``[B, ...]`` with the shape and dtype of the training inputs.
        tx: an optax transformation, e.g. ``optax.adam(1e-2)``.
        max_grad_norm: when given, gradients are clipped to this global norm before ``tx``.
        init_kwargs: extra keyword arguments for ``model.init`` (e.g. ``{"train": False}``).
        extra_inputs: further positional inputs of ``model.init`` after ``example_input``
            (batches ``[B, ...]``); ``input_spec`` still describes ``example_input``.

    Returns:
        A :class:`TrainState` at step 0.

    Example:
        >>> import jax, optax
        >>> from jaxdl.nn import MLP
        >>> x = jax.numpy.zeros((4, 3))
        >>> state = create_train_state(jax.random.key(0), MLP(features=(8, 2)), x, optax.sgd(0.1))
        >>> int(state.step)
        0
        >>> from jaxdl.nn import tiny_transformer
        >>> source, target = jax.numpy.ones((1, 5), int), jax.numpy.ones((1, 4), int)
        >>> state = create_train_state(jax.random.key(0), tiny_transformer(num_layers=1),
        ...                            source, optax.adam(1e-3), extra_inputs=(target,))
        >>> state.params["target_embedding"]["embedding"].shape
        (32, 16)
    """
    if max_grad_norm is not None:
        from jaxdl._checks import check_positive

        check_positive("max_grad_norm", max_grad_norm)
        tx = optax.chain(optax.clip_by_global_norm(max_grad_norm), tx)
    init_kwargs = dict(init_kwargs or {})

    def init(
        key: Key, example_input: Array, extra_inputs: tuple[Any, ...]
    ) -> tuple[Array, PyTree, PyTree, PyTree]:
        params_key, dropout_key = jax.random.split(key)
        rngs = {"params": params_key, "dropout": dropout_key}
        variables = dict(model.init(rngs, example_input, *extra_inputs, **init_kwargs))
        params = variables.pop("params", {})
        return jnp.zeros((), jnp.int32), params, tx.init(params), variables

    # One compiled program instead of dozens of one-off eager ops (each initializer, each
    # optimizer-state leaf): the set-up of a run compiles once and hits the persistent
    # compilation cache on the next run.
    step, params, opt_state, model_state = jax.jit(init)(key, example_input, tuple(extra_inputs))
    input_spec = (tuple(jnp.shape(example_input)[1:]), str(jnp.result_type(example_input)))
    return TrainState(
        step=step,
        params=params,
        opt_state=opt_state,
        model_state=model_state,
        apply_fn=model.apply,
        tx=tx,
        input_spec=input_spec,
    )
