"""The course's optimizers as ``optax.GradientTransformation`` aliases.

Each alias chains gradient transformations like optax's ``alias.py``. Where optax's
update is the course's update it is used directly (the tests step both side by side);
where it differs the course's ``scale_by_*`` from :mod:`jaxdl.optim.transforms` is
used and the docstring says what differs.

- plain SGD ``theta -= epsilon_k g`` and clipping are ``optax.sgd``, ``optax.clip`` and
  ``optax.clip_by_global_norm`` themselves (no wrapper here).
- ``momentum``: ``v = alpha v - epsilon_k g; theta += v``; equals
  ``optax.sgd(momentum=alpha)`` for a constant rate only.
- ``nesterov``: the look-ahead form of ``g = grad J(theta + alpha v)``; equals
  ``optax.sgd(momentum=alpha, nesterov=True)`` for a constant rate only.
- ``adagrad``: ``r += g^2; theta -= epsilon g / (delta + sqrt(r))``; differs from
  ``optax.adagrad`` (stabilizer placement, initial accumulator).
- ``rmsprop``: ``r = rho r + (1 - rho) g^2; theta -= epsilon g / sqrt(delta + r)``; this is
  ``optax.rmsprop``.
- ``adam``: bias-corrected moments, ``theta -= epsilon s_hat / (sqrt(r_hat) + delta)``;
  this is ``optax.adam``.
- ``delta_bar_delta``: per-parameter rates (Jacobs 1988); not in optax.

Every learning rate may be a number or a schedule (see :mod:`jaxdl.optim.schedules`);
:func:`with_schedule_logging` keeps the current rate in the optimizer state, where
:func:`jaxdl.optim.current_learning_rate` reads it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import optax

from jaxdl._checks import check_in_range, check_positive
from jaxdl.optim.transforms import scale_by_course_adagrad, scale_by_delta_bar_delta

ScalarOrSchedule = float | optax.Schedule


def _check_learning_rate(learning_rate: ScalarOrSchedule) -> None:
    if not callable(learning_rate):
        check_positive("learning_rate", learning_rate)


def _check_decay(name: str, value: float) -> None:
    check_in_range(name, value, 0.0, 1.0, high_inclusive=False)


def momentum(
    learning_rate: ScalarOrSchedule, momentum: float = 0.9
) -> optax.GradientTransformation:
    """SGD with (heavy-ball) momentum in the course's form.

    .. math::
        v \\leftarrow \\alpha v - \\epsilon_k g, \\qquad \\theta \\leftarrow \\theta + v

    Built as ``chain(scale_by_learning_rate, trace(alpha))``: the velocity accumulates
    already-scaled steps. optax's ``sgd(learning_rate, momentum=alpha)`` accumulates raw
    gradients and scales the sum by the current rate; the two agree for a constant rate
    and differ under a schedule (optax rescales the whole history by today's rate).

    Args:
        learning_rate: ``epsilon > 0`` or a schedule.
        momentum: ``alpha`` in ``[0, 1)``; common choices 0.5, 0.9, 0.99.

    Returns:
        An ``optax.GradientTransformation``; the trace in its state is the velocity ``v``.

    Example:
        >>> import jax.numpy as jnp
        >>> tx = momentum(0.1, momentum=0.5)
        >>> state = tx.init(jnp.zeros(1))
        >>> u1, state = tx.update(jnp.ones(1), state)
        >>> u2, state = tx.update(jnp.ones(1), state)
        >>> u2  # alpha * (-0.1) - 0.1
        Array([-0.15], dtype=float32)

    References:
        Polyak, "Some methods of speeding up the convergence of iteration methods", 1964.
    """
    _check_learning_rate(learning_rate)
    _check_decay("momentum", momentum)
    return optax.chain(optax.scale_by_learning_rate(learning_rate), optax.trace(decay=momentum))


def nesterov(
    learning_rate: ScalarOrSchedule, momentum: float = 0.9
) -> optax.GradientTransformation:
    """Nesterov momentum as a transformation, in the look-ahead parameterization.

    The course evaluates the gradient at the interim point ``theta + alpha v``. Writing
    the algorithm in ``phi = theta + alpha v`` (the parameters this transformation holds)
    gives an update that only needs the gradient at ``phi``:

    .. math::
        v \\leftarrow \\alpha v - \\epsilon_k \\nabla J(\\phi), \\qquad
        \\phi \\leftarrow \\phi + \\alpha v - \\epsilon_k \\nabla J(\\phi).

    Starting from ``v = 0`` (so ``phi_0 = theta_0``), the ``phi`` sequence equals the
    interim points of :func:`jaxdl.optim.exact_nesterov`, which implements the course's
    text literally (and whose ``theta`` is ``phi - alpha v``). optax's
    ``sgd(learning_rate, momentum=alpha, nesterov=True)`` is the same update for a
    constant rate; under a schedule optax rescales the accumulated gradients by the
    current rate while this alias keeps past steps at the rate they were taken with.

    Args:
        learning_rate: ``epsilon > 0`` or a schedule.
        momentum: ``alpha`` in ``[0, 1)``.

    Returns:
        An ``optax.GradientTransformation``.

    Example:
        >>> import jax.numpy as jnp
        >>> tx = nesterov(0.1, momentum=0.5)
        >>> updates, _ = tx.update(jnp.ones(1), tx.init(jnp.zeros(1)))
        >>> updates  # alpha * v_new - epsilon g = 0.5 * (-0.1) - 0.1
        Array([-0.15], dtype=float32)

    References:
        Nesterov 1983; Sutskever, Martens, Dahl & Hinton, ICML 2013.
    """
    _check_learning_rate(learning_rate)
    _check_decay("momentum", momentum)
    return optax.chain(
        optax.scale_by_learning_rate(learning_rate),
        optax.trace(decay=momentum, nesterov=True),
    )


def adagrad(learning_rate: ScalarOrSchedule, delta: float = 1e-7) -> optax.GradientTransformation:
    """AdaGrad as in the course: rates shrink with the summed squared gradients.

    .. math::
        r \\leftarrow r + g \\odot g, \\qquad
        \\theta \\leftarrow \\theta - \\frac{\\epsilon}{\\delta + \\sqrt{r}} \\odot g

    Differs from ``optax.adagrad``, which divides by ``sqrt(r + eps)`` and starts ``r``
    at 0.1 (so optax's first step is much shorter than ``epsilon``); see
    :func:`jaxdl.optim.transforms.scale_by_course_adagrad`.

    Args:
        learning_rate: ``epsilon > 0`` or a schedule.
        delta: ``delta > 0``, about ``1e-7``.

    Returns:
        An ``optax.GradientTransformation``.

    Example:
        >>> import jax.numpy as jnp
        >>> tx = adagrad(0.5)
        >>> updates, _ = tx.update(jnp.array([3.0]), tx.init(jnp.zeros(1)))
        >>> updates.round(4)
        Array([-0.5], dtype=float32)

    References:
        Duchi, Hazan & Singer, JMLR 2011.
    """
    _check_learning_rate(learning_rate)
    check_positive("delta", delta)
    return optax.chain(scale_by_course_adagrad(delta), optax.scale_by_learning_rate(learning_rate))


def rmsprop(
    learning_rate: ScalarOrSchedule, decay_rate: float = 0.9, delta: float = 1e-6
) -> optax.GradientTransformation:
    """RMSProp: AdaGrad with an exponential moving average of squared gradients.

    .. math::
        r \\leftarrow \\rho r + (1 - \\rho) g \\odot g, \\qquad
        \\theta \\leftarrow \\theta - \\frac{\\epsilon}{\\sqrt{\\delta + r}} \\odot g

    with ``r = 0`` at the start. This is exactly ``optax.rmsprop(learning_rate,
    decay=rho, eps=delta)`` (stabilizer inside the root, zero initial scale, no
    centering, no momentum), which this alias returns.

    Args:
        learning_rate: ``epsilon > 0`` or a schedule.
        decay_rate: ``rho`` in ``[0, 1)``, the memory of the moving average.
        delta: ``delta > 0``, about ``1e-6``.

    Returns:
        An ``optax.GradientTransformation``.

    Example:
        >>> import jax.numpy as jnp
        >>> tx = rmsprop(0.01, decay_rate=0.9)
        >>> updates, _ = tx.update(jnp.array([2.0]), tx.init(jnp.zeros(1)))
        >>> updates.round(4)  # -0.01 * 2 / sqrt(0.1 * 4)
        Array([-0.0316], dtype=float32)

    References:
        Tieleman & Hinton, "Lecture 6.5 - RMSProp", COURSERA: Neural Networks for
        Machine Learning, 2012.
    """
    _check_learning_rate(learning_rate)
    _check_decay("decay_rate", decay_rate)
    check_positive("delta", delta)
    return optax.rmsprop(
        learning_rate, decay=decay_rate, eps=delta, initial_scale=0.0, eps_in_sqrt=True
    )


def adam(
    learning_rate: ScalarOrSchedule,
    first_moment_decay: float = 0.9,
    second_moment_decay: float = 0.999,
    delta: float = 1e-8,
) -> optax.GradientTransformation:
    """Adam: momentum and RMSProp-style scaling with bias-corrected moments.

    .. math::
        s \\leftarrow \\rho_1 s + (1-\\rho_1) g, \\quad
        r \\leftarrow \\rho_2 r + (1-\\rho_2) g \\odot g, \\quad
        \\hat s = \\frac{s}{1-\\rho_1^t}, \\quad \\hat r = \\frac{r}{1-\\rho_2^t}, \\quad
        \\theta \\leftarrow \\theta - \\epsilon \\frac{\\hat s}{\\sqrt{\\hat r} + \\delta}

    Exactly ``optax.adam(learning_rate, b1=rho1, b2=rho2, eps=delta)``. Note: the bias
    correction mixes an int32 step count with floats, so under JAX's strict dtype
    promotion it needs ``jax.numpy_dtype_promotion("standard")``.

    Args:
        learning_rate: ``epsilon > 0`` or a schedule (0.001 is the usual start).
        first_moment_decay: ``rho1`` in ``[0, 1)``.
        second_moment_decay: ``rho2`` in ``[0, 1)``.
        delta: ``delta > 0``.

    Returns:
        An ``optax.GradientTransformation``.

    Example:
        >>> import jax.numpy as jnp
        >>> tx = adam(0.001)
        >>> updates, _ = tx.update(jnp.array([5.0]), tx.init(jnp.zeros(1)))
        >>> updates.round(6)  # the first step has size epsilon (the learning rate)
        Array([-0.001], dtype=float32)

    References:
        Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015.
    """
    _check_learning_rate(learning_rate)
    _check_decay("first_moment_decay", first_moment_decay)
    _check_decay("second_moment_decay", second_moment_decay)
    check_positive("delta", delta)
    return optax.adam(learning_rate, b1=first_moment_decay, b2=second_moment_decay, eps=delta)


def delta_bar_delta(
    learning_rate: float,
    increment: float = 1e-3,
    decrement: float = 0.1,
    averaging: float = 0.7,
) -> optax.GradientTransformation:
    """Jacobs' delta-bar-delta: a learning rate per parameter, for full-batch training.

    ``theta <- theta - epsilon_i g_i`` with each ``epsilon_i`` grown by ``kappa`` while
    the gradient's sign agrees with its running average and multiplied by ``1 - phi``
    when it disagrees; see :func:`jaxdl.optim.transforms.scale_by_delta_bar_delta`.

    Args:
        learning_rate: ``epsilon_0 > 0``, every parameter's initial rate (a number).
        increment: ``kappa > 0``.
        decrement: ``phi`` in ``(0, 1)``.
        averaging: ``theta`` in ``[0, 1)``.

    Returns:
        An ``optax.GradientTransformation``.

    Example:
        >>> import jax.numpy as jnp
        >>> tx = delta_bar_delta(0.1)
        >>> updates, _ = tx.update(jnp.array([1.0]), tx.init(jnp.zeros(1)))
        >>> updates
        Array([-0.1], dtype=float32)

    References:
        Jacobs, "Increased rates of convergence through learning rate adaptation",
        Neural Networks, 1988.
    """
    return optax.chain(
        scale_by_delta_bar_delta(learning_rate, increment, decrement, averaging),
        optax.scale(-1.0),
    )


def with_schedule_logging(
    optimizer: Callable[..., optax.GradientTransformation], **hyperparameters: Any
) -> optax.GradientTransformationExtraArgs:
    """Build ``optimizer(**hyperparameters)`` with its hyperparameters kept in its state.

    A thin wrapper over ``optax.inject_hyperparams``: numeric hyperparameters become
    arrays in the state (schedules are evaluated at every step), so the rate in use can
    be logged with :func:`jaxdl.optim.current_learning_rate` or changed between steps.

    Args:
        optimizer: a factory such as :func:`adam` or ``optax.sgd`` taking keyword
            arguments.
        **hyperparameters: its arguments, e.g. ``learning_rate=linear_decay(...)``.

    Returns:
        An ``optax.GradientTransformationExtraArgs`` whose state is an
        ``optax.InjectStatefulHyperparamsState``.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxdl.optim.hyperparams import current_learning_rate
        >>> from jaxdl.optim.schedules import hyperbolic_decay
        >>> tx = with_schedule_logging(optax.sgd, learning_rate=hyperbolic_decay(1.0))
        >>> params = jnp.zeros(1)
        >>> state = tx.init(params)
        >>> for _ in range(2):
        ...     _, state = tx.update(jnp.ones(1), state, params)
        >>> float(current_learning_rate(state))  # the rate of the 2nd update, 1 / 2
        0.5
    """
    if "learning_rate" in hyperparameters:
        _check_learning_rate(hyperparameters["learning_rate"])
    return optax.inject_hyperparams(optimizer)(**hyperparameters)


__all__ = [
    "adagrad",
    "adam",
    "delta_bar_delta",
    "momentum",
    "nesterov",
    "rmsprop",
    "with_schedule_logging",
]
