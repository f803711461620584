"""Learning-rate schedules of the course, as optax schedules.

A schedule is a function of the optimizer's step count ``k`` (an int32 scalar that
optax starts at ``0`` for the first update) returning the learning rate
``epsilon_k`` used for that update. Every schedule here can be passed wherever optax
accepts a ``ScalarOrSchedule`` (``optax.sgd(learning_rate=schedule)``, or the
aliases of :mod:`jaxdl.optim.alias`).

- :func:`constant`: ``epsilon_k = epsilon``;
- :func:`hyperbolic_decay`: ``epsilon_k = C / (k + k0)``, the ``C/k`` decay that makes
  SGD's noisy steps shrink (with ``k0 = 1`` the first update uses ``C``);
- :func:`linear_decay`: ``epsilon_k = (1 - k/tau) epsilon_0 + (k/tau) epsilon_tau`` for
  ``k <= tau``, then ``epsilon_tau``; identical to ``optax.linear_schedule``.
"""

from __future__ import annotations

from collections.abc import Callable

import jax.numpy as jnp
import optax

from jaxdl._checks import check_positive, check_positive_int
from jaxdl.typing import Array, ArrayLike

Schedule = Callable[[ArrayLike], Array]


def _count_as_float(count: ArrayLike) -> Array:
    """The step count as the default float dtype (float32, or float64 under x64)."""
    return jnp.asarray(count).astype(jnp.result_type(float))


def constant(learning_rate: float) -> Schedule:
    """A constant learning rate, ``epsilon_k = epsilon`` for every step ``k``.

    Full-batch gradient descent can keep a constant rate because the true gradient
    vanishes at a minimum; SGD's minibatch estimate does not, hence the decays below.

    Args:
        learning_rate: the rate ``epsilon > 0``.

    Returns:
        A schedule ``count -> epsilon`` (a float scalar of the default float dtype).

    Example:
        >>> schedule = constant(0.1)
        >>> float(schedule(7))
        0.1...
    """
    check_positive("learning_rate", learning_rate)

    def schedule(count: ArrayLike) -> Array:
        return jnp.full_like(_count_as_float(count), learning_rate)

    return schedule


def hyperbolic_decay(scale: float, offset: float = 1.0) -> Schedule:
    """The hyperbolic step size ``epsilon_k = C / (k + k0)``.

    With optax's count ``k = 0, 1, 2, ...`` and the default ``offset k0 = 1`` the rates
    are ``C, C/2, C/3, ...``: the course's ``alpha_k = C/k`` with ``k`` counted from 1.
    The sum of the rates diverges while the sum of their squares converges, the classic
    (Robbins-Monro) condition for SGD to converge despite noisy gradients.

    Args:
        scale: the constant ``C > 0`` (the first rate when ``offset = 1``).
        offset: ``k0 > 0``; larger values slow the decay at the start.

    Returns:
        A schedule ``count -> C / (count + offset)``.

    Example:
        >>> schedule = hyperbolic_decay(1.0)
        >>> [round(float(schedule(k)), 4) for k in range(3)]
        [1.0, 0.5, 0.3333]

    References:
        Robbins & Monro, "A stochastic approximation method", 1951.
    """
    check_positive("scale", scale)
    check_positive("offset", offset)

    def schedule(count: ArrayLike) -> Array:
        return scale / (_count_as_float(count) + offset)

    return schedule


def linear_decay(
    initial_learning_rate: float, final_learning_rate: float, decay_steps: int
) -> Schedule:
    """The course's linear decay until step ``tau``, then constant.

    .. math::
        \\epsilon_k = (1 - \\alpha) \\epsilon_0 + \\alpha \\epsilon_\\tau,
        \\quad \\alpha = \\min(k / \\tau, 1).

    It equals ``optax.linear_schedule(epsilon_0, epsilon_tau, tau)`` at every step
    (the tests check it); this version only adds argument checks. Typical choices are
    ``tau`` of a few hundred passes over the data and ``epsilon_tau ~ epsilon_0 / 100``.

    Args:
        initial_learning_rate: ``epsilon_0 > 0``, the rate at ``k = 0``.
        final_learning_rate: ``epsilon_tau > 0``, the rate from ``k = tau`` on.
        decay_steps: ``tau > 0``, the step at which the decay ends.

    Returns:
        A schedule ``count -> epsilon_k``.

    Example:
        >>> schedule = linear_decay(1.0, 0.1, decay_steps=10)
        >>> [round(float(schedule(k)), 2) for k in (0, 5, 10, 20)]
        [1.0, 0.55, 0.1, 0.1]

    References:
        Goodfellow, Bengio & Courville, "Deep Learning", 2016, section 8.3.1.
    """
    check_positive("initial_learning_rate", initial_learning_rate)
    check_positive("final_learning_rate", final_learning_rate)
    check_positive_int("decay_steps", decay_steps)

    def schedule(count: ArrayLike) -> Array:
        alpha = jnp.clip(_count_as_float(count) / decay_steps, 0.0, 1.0)
        return (1.0 - alpha) * initial_learning_rate + alpha * final_learning_rate

    return schedule


def as_optax_linear_schedule(
    initial_learning_rate: float, final_learning_rate: float, decay_steps: int
) -> optax.Schedule:
    """``optax.linear_schedule`` with the argument names and checks of :func:`linear_decay`.

    Args:
        initial_learning_rate: ``epsilon_0 > 0``.
        final_learning_rate: ``epsilon_tau > 0``.
        decay_steps: ``tau > 0``.

    Returns:
        The optax schedule, equal to :func:`linear_decay` at every step.

    Example:
        >>> schedule = as_optax_linear_schedule(1.0, 0.1, 10)
        >>> round(float(schedule(5)), 2)
        0.55
    """
    check_positive("initial_learning_rate", initial_learning_rate)
    check_positive("final_learning_rate", final_learning_rate)
    check_positive_int("decay_steps", decay_steps)
    return optax.linear_schedule(initial_learning_rate, final_learning_rate, decay_steps)


__all__ = [
    "Schedule",
    "as_optax_linear_schedule",
    "constant",
    "hyperbolic_decay",
    "linear_decay",
]
