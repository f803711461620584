"""What ``fit`` runs each step: a loss (turned into a gradient step) or a custom update step.

``fit`` drives every objective through one shape, the update step
``step(key, state, batch) -> (state, metrics)``. A loss
``loss_fn(params, model_state, batch, key) -> (loss, (model_state, metrics))`` becomes the
gradient step of :func:`make_train_step`; anything else that trains in steps (k
discriminator updates per generator update, CD-k, a non-gradient rule) is wrapped by
:func:`update_step` and runs under the same chunked scan, logging, checkpoints, early
stopping, resume and non-finite guard.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import jax

from jaxdl.training.state import TrainState
from jaxdl.typing import Array, Batch, EvalFn, Key, LossFn, Metrics

StepFn = Callable[[Key, TrainState, Batch], tuple[TrainState, Metrics]]


@dataclasses.dataclass(frozen=True)
class UpdateStep:
    """A custom update step for :func:`jaxdl.training.fit`; build it with :func:`update_step`.

    Attributes:
        fn: ``fn(key, state, batch) -> (state, metrics)``; ``metrics`` is a dict of
            scalars. ``fit`` sets the returned state's ``step`` to the input step + 1.
        evaluate: ``evaluate(params, model_state, batch) -> metrics`` run on ``val_data``
            (logged as ``val_<name>``), or ``None``.
    """

    fn: StepFn
    evaluate: EvalFn | None = None

    def __call__(self, key: Key, state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        return self.fn(key, state, batch)


def update_step(fn: StepFn, evaluate: EvalFn | None = None) -> UpdateStep:
    """Mark ``fn(key, state, batch) -> (state, metrics)`` as a custom update step for ``fit``.

    The state is a :class:`TrainState` whose ``params``, ``opt_state`` and
    ``model_state`` may hold anything (a GAN keeps ``{"generator", "discriminator"}``
    parameters and optimizer states; persistent contrastive divergence keeps its chains in
    ``model_state``). The non-finite guard watches ``metrics["loss"]`` when present,
    otherwise every metric.

    Args:
        fn: the pure step; ``key`` is ``fold_in(step_key, state.step)``, ``batch`` the
            minibatch ``fit`` cut from ``train_data``.
        evaluate: ``evaluate(params, model_state, batch) -> metrics`` for ``val_data``.

    Returns:
        An :class:`UpdateStep` to pass to ``fit`` in place of a loss.

    Example:
        >>> import jax, jax.numpy as jnp, optax
        >>> from jaxdl.training import TrainState, fit
        >>> def mean_step(key, state, batch):  # a non-gradient update: a running mean
        ...     (x,) = batch
        ...     rate = 1.0 / (state.step + 1.0)
        ...     mean = state.params["mean"] + rate * (jnp.mean(x) - state.params["mean"])
        ...     return state.replace(params={"mean": mean}), {"mean": mean}
        >>> state = TrainState.create(apply_fn=None, params={"mean": jnp.zeros(())},
        ...                           tx=optax.identity())
        >>> x = jnp.arange(8.0)[:, None]
        >>> result = fit(jax.random.key(0), state, update_step(mean_step), (x,),
        ...              num_epochs=1, batch_size=1, shuffle=False, progress=False)
        >>> float(result.state.params["mean"]), int(result.state.step)
        (3.5, 8)
    """
    if not callable(fn):
        raise TypeError(f"update_step needs a callable fn(key, state, batch), got {fn!r}")
    return UpdateStep(fn, evaluate)


def make_train_step(loss_fn: LossFn) -> Callable[..., tuple[TrainState, tuple[Array, Metrics]]]:
    """A pure train step ``(state, batch, key) -> (state, (loss, metrics))``.

    Args:
        loss_fn: ``loss_fn(params, model_state, batch, key) -> (loss, (model_state,
            metrics))``.

    Returns:
        The step function; jit it (with ``donate_argnums=0``) or scan it.
    """

    def train_step(state: TrainState, batch: Batch, key: Key):
        grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
        (loss, (model_state, metrics)), grads = grad_fn(state.params, state.model_state, batch, key)
        return state.apply_gradients(grads, model_state=model_state), (loss, metrics)

    return train_step


def as_update_step(objective: LossFn | UpdateStep) -> StepFn:
    """``fit``'s view of an objective: ``(key, state, batch) -> (state, metrics)``.

    A loss becomes its gradient step, reporting ``{"loss": loss, **metrics}``.
    """
    if isinstance(objective, UpdateStep):
        return objective.fn
    train_step = make_train_step(objective)

    def step(key: Key, state: TrainState, batch: Batch) -> tuple[TrainState, Metrics]:
        state, (loss, metrics) = train_step(state, batch, key)
        return state, {"loss": loss, **metrics}

    return step


def default_eval_fn(objective: Any, eval_fn: EvalFn | None) -> EvalFn | None:
    """``eval_fn`` when given, else the objective's own ``evaluate`` (losses and steps)."""
    if eval_fn is not None:
        return eval_fn
    return getattr(objective, "evaluate", None)
