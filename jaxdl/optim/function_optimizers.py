"""The course's Nesterov momentum, exactly: the gradient is taken at the interim point.

A ``GradientTransformation`` only sees the gradient at the current parameters, so it
cannot evaluate the loss at ``theta + alpha v``. This module therefore gives the
course's algorithm as a function-based optimizer that owns the loss:

.. math::
    \\tilde\\theta = \\theta + \\alpha v, \\quad
    g = \\nabla J(\\tilde\\theta), \\quad
    v \\leftarrow \\alpha v - \\epsilon g, \\quad
    \\theta \\leftarrow \\theta + v.

:func:`jaxdl.optim.nesterov` (and optax's ``sgd(..., nesterov=True)``) is the same
algorithm rewritten in the look-ahead variable ``phi = theta + alpha v``: the update
``phi <- phi + alpha v_new - epsilon g`` needs only ``g = grad J(phi)``, i.e. the
gradient at the parameters it holds. Both visit the same interim points;
:func:`lookahead_params` maps this module's state to the transformation's parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import check_in_range, check_positive
from jaxdl.typing import Array, PyTree


class NesterovState(NamedTuple):
    """State of the exact Nesterov optimizer.

    Attributes:
        params: ``theta``, the parameters (not the look-ahead point).
        velocity: ``v``, same tree as ``params``.
        count: number of steps taken (int32 scalar), the schedule's argument.
    """

    params: PyTree
    velocity: PyTree
    count: Array


class NesterovInfo(NamedTuple):
    """What one step saw.

    Attributes:
        loss: ``J`` at the interim point ``theta + alpha v``.
        gradient_norm: global Euclidean norm of the gradient there.
    """

    loss: Array
    gradient_norm: Array


class FunctionOptimizer(NamedTuple):
    """An optimizer that evaluates the loss itself: ``init(params)``, ``step(state, *args)``."""

    init: Callable[[PyTree], Any]
    step: Callable[..., tuple[Any, Any]]


def exact_nesterov(
    loss_fn: Callable[..., Array],
    learning_rate: float | optax.Schedule,
    momentum: float = 0.9,
) -> FunctionOptimizer:
    """SGD with Nesterov momentum as written in the course, gradient at the interim point.

    .. math::
        g = \\nabla_\\theta J(\\theta + \\alpha v), \\quad
        v \\leftarrow \\alpha v - \\epsilon_k g, \\quad
        \\theta \\leftarrow \\theta + v

    Args:
        loss_fn: ``loss_fn(params, *args) -> scalar``; ``args`` (e.g. a minibatch) are
            whatever ``step`` receives after the state.
        learning_rate: ``epsilon > 0`` or a schedule of the step count.
        momentum: ``alpha`` in ``[0, 1)``.

    Returns:
        A :class:`FunctionOptimizer`: ``init(params) -> NesterovState`` and
        ``step(state, *args) -> (NesterovState, NesterovInfo)``; both work under ``jit``.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = exact_nesterov(lambda p: jnp.sum(p**2), learning_rate=0.1, momentum=0.5)
        >>> state = opt.init(jnp.array([1.0, -1.0]))
        >>> state, info = opt.step(state)
        >>> state.params
        Array([ 0.8, -0.8], dtype=float32)

    References:
        Nesterov, "A method for solving the convex programming problem with convergence
        rate O(1/k^2)", 1983; Sutskever et al., "On the importance of initialization and
        momentum in deep learning", ICML 2013.
    """
    check_positive("learning_rate", learning_rate)
    check_in_range("momentum", momentum, 0.0, 1.0, high_inclusive=False)
    grad_fn = jax.value_and_grad(loss_fn)

    def init(params: PyTree) -> NesterovState:
        return NesterovState(
            params=params,
            velocity=optax.tree.zeros_like(params),
            count=jnp.zeros([], jnp.int32),
        )

    def step(state: NesterovState, *args: Any) -> tuple[NesterovState, NesterovInfo]:
        rate = learning_rate(state.count) if callable(learning_rate) else learning_rate
        interim = jax.tree.map(lambda p, v: p + momentum * v, state.params, state.velocity)
        loss, grads = grad_fn(interim, *args)
        velocity = jax.tree.map(
            lambda v, g: momentum * v - jnp.asarray(rate, g.dtype) * g, state.velocity, grads
        )
        params = jax.tree.map(lambda p, v: p + v, state.params, velocity)
        new_state = NesterovState(params=params, velocity=velocity, count=state.count + 1)
        return new_state, NesterovInfo(loss=loss, gradient_norm=optax.tree.norm(grads))

    return FunctionOptimizer(init=init, step=step)


def lookahead_params(state: NesterovState, momentum: float) -> PyTree:
    """The interim point ``theta + alpha v`` of an exact-Nesterov state.

    These are the parameters that the reformulated transformation
    :func:`jaxdl.optim.nesterov` holds after the same number of steps.

    Args:
        state: a :class:`NesterovState`.
        momentum: ``alpha``, the momentum the state was built with.

    Returns:
        A tree like ``state.params``.

    Example:
        >>> import jax.numpy as jnp
        >>> s = NesterovState(jnp.ones(2), jnp.full(2, -0.5), jnp.zeros([], jnp.int32))
        >>> lookahead_params(s, 0.5)
        Array([0.75, 0.75], dtype=float32)
    """
    return jax.tree.map(lambda p, v: p + momentum * v, state.params, state.velocity)


__all__ = [
    "FunctionOptimizer",
    "NesterovInfo",
    "NesterovState",
    "exact_nesterov",
    "lookahead_params",
]
