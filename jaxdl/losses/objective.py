"""The object every loss builder returns: a loss function that also evaluates.

``make_*_loss(...)`` builders return an :class:`Objective`: called as
``loss_fn(params, model_state, batch, key) -> (loss, (model_state, metrics))`` (the
training engine's contract) and with ``evaluate(params, model_state, batch) ->
metrics`` for inference-mode evaluation (no key: no dropout, no corruption, no
sampling), the ``eval_fn`` that ``fit`` takes.
"""

from __future__ import annotations

from collections.abc import Callable

from jaxdl.typing import Array, Key, PyTree

__all__ = ["Objective"]


class Objective:
    """A training loss with its inference-mode evaluation.

    Args:
        loss_fn: ``loss_fn(params, model_state, batch, key) -> (loss, (model_state, metrics))``.
        evaluate: ``evaluate(params, model_state, batch) -> dict`` of scalars, with
            ``"loss"`` among them.

    Example:
        >>> import jax.numpy as jnp
        >>> def loss_fn(params, model_state, batch, key):
        ...     loss = jnp.mean((params * batch) ** 2)
        ...     return loss, (model_state, {})
        >>> objective = Objective(loss_fn, lambda p, s, b: {"loss": loss_fn(p, s, b, None)[0]})
        >>> float(objective.evaluate(jnp.array(2.0), {}, jnp.ones(3))["loss"])
        4.0
    """

    def __init__(
        self,
        loss_fn: Callable[[PyTree, PyTree, PyTree, Key], tuple[Array, tuple[PyTree, dict]]],
        evaluate: Callable[[PyTree, PyTree, PyTree], dict[str, Array]],
    ):
        self.loss_fn = loss_fn
        self.evaluate = evaluate

    def __call__(
        self, params: PyTree, model_state: PyTree, batch: PyTree, key: Key
    ) -> tuple[Array, tuple[PyTree, dict[str, Array]]]:
        return self.loss_fn(params, model_state, batch, key)
