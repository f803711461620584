"""Gradient transformations optax lacks, in the course's exact form.

Each ``scale_by_*`` returns an ``optax.GradientTransformation`` that rescales the
incoming gradient without the learning rate or the minus sign; the aliases in
:mod:`jaxdl.optim.alias` chain it with ``optax.scale_by_learning_rate``, the way
optax's own ``alias.py`` builds its optimizers.

- :func:`scale_by_course_adagrad`: AdaGrad with the stabilizer outside the square root
  and a zero initial accumulator (optax's ``scale_by_rss`` adds ``eps`` inside the root
  and starts the accumulator at 0.1);
- :func:`scale_by_delta_bar_delta`: Jacobs' per-parameter learning rates.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import check_in_range, check_positive
from jaxdl.typing import PyTree


class ScaleByCourseAdagradState(NamedTuple):
    """State of :func:`scale_by_course_adagrad`.

    Attributes:
        sum_of_squares: ``r``, the running sum of squared gradients (params' tree).
    """

    sum_of_squares: PyTree


def scale_by_course_adagrad(delta: float = 1e-7) -> optax.GradientTransformation:
    """Divide each gradient coordinate by the root of its summed squared history.

    .. math::
        r \\leftarrow r + g \\odot g, \\qquad
        u = \\frac{g}{\\delta + \\sqrt{r}}

    with ``r = 0`` at the start. Multiplying ``u`` by ``-epsilon`` gives the course's
    AdaGrad step. optax's ``scale_by_rss`` instead computes ``g / sqrt(r + eps)`` with
    ``r`` starting at 0.1, so its first steps are smaller and it is not the course's
    variant.

    Args:
        delta: ``delta > 0``, the small constant that keeps the division finite.

    Returns:
        An ``optax.GradientTransformation`` with state :class:`ScaleByCourseAdagradState`.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> tx = optax.chain(scale_by_course_adagrad(), optax.scale(-0.1))
        >>> params = jnp.array([1.0, -2.0])
        >>> updates, _ = tx.update(jnp.array([2.0, -4.0]), tx.init(params))
        >>> [round(float(u), 4) for u in updates]  # the first step is -epsilon * sign(g)
        [-0.1, 0.1]

    References:
        Duchi, Hazan & Singer, "Adaptive subgradient methods for online learning and
        stochastic optimization", JMLR 2011.
    """
    check_positive("delta", delta)

    def init_fn(params: PyTree) -> ScaleByCourseAdagradState:
        return ScaleByCourseAdagradState(sum_of_squares=optax.tree.zeros_like(params))

    def update_fn(updates, state, params=None):
        del params
        sum_of_squares = jax.tree.map(lambda g, r: r + g * g, updates, state.sum_of_squares)
        updates = jax.tree.map(lambda g, r: g / (delta + jnp.sqrt(r)), updates, sum_of_squares)
        return updates, ScaleByCourseAdagradState(sum_of_squares=sum_of_squares)

    return optax.GradientTransformation(init_fn, update_fn)


class ScaleByDeltaBarDeltaState(NamedTuple):
    """State of :func:`scale_by_delta_bar_delta`.

    Attributes:
        learning_rates: ``epsilon``, one positive rate per parameter (params' tree).
        bar_delta: ``bar_delta``, exponential average of past gradients (params' tree).
    """

    learning_rates: PyTree
    bar_delta: PyTree


def scale_by_delta_bar_delta(
    learning_rate: float,
    increment: float = 1e-3,
    decrement: float = 0.1,
    averaging: float = 0.7,
) -> optax.GradientTransformation:
    """Per-parameter learning rates adapted by the sign agreement of successive gradients.

    With ``g`` the new gradient and ``bar_delta`` the average of the previous ones,
    for each parameter:

    .. math::
        \\epsilon \\leftarrow \\begin{cases}
            \\epsilon + \\kappa & \\bar\\delta\\, g > 0 \\\\
            (1 - \\phi)\\, \\epsilon & \\bar\\delta\\, g < 0 \\\\
            \\epsilon & \\text{otherwise}
        \\end{cases}, \\qquad
        u = \\epsilon \\odot g, \\qquad
        \\bar\\delta \\leftarrow (1 - \\theta)\\, g + \\theta\\, \\bar\\delta

    Rates grow additively while the gradient keeps its sign and shrink geometrically
    when it flips. The rate adapted at this step is the one applied (``u`` uses the new
    ``epsilon``). The rule assumes exact (full-batch) gradients: minibatch noise flips
    signs at random and drives the rates down. Multiply ``u`` by ``-1`` for the step.

    Args:
        learning_rate: ``epsilon_0 > 0``, every parameter's initial rate.
        increment: ``kappa > 0``, added to a rate when the signs agree.
        decrement: ``phi`` in ``(0, 1)``, the fraction a rate loses when the signs differ.
        averaging: ``theta`` in ``[0, 1)``, the weight of the past in ``bar_delta``.

    Returns:
        An ``optax.GradientTransformation`` with state :class:`ScaleByDeltaBarDeltaState`.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> tx = scale_by_delta_bar_delta(0.1, increment=0.05)
        >>> state = tx.init(jnp.zeros(2))
        >>> _, state = tx.update(jnp.array([1.0, 1.0]), state)
        >>> _, state = tx.update(jnp.array([1.0, -1.0]), state)
        >>> state.learning_rates.round(3)
        Array([0.15, 0.09], dtype=float32)

    References:
        Jacobs, "Increased rates of convergence through learning rate adaptation",
        Neural Networks 1(4), 1988.
    """
    if callable(learning_rate):
        raise TypeError("learning_rate must be a number for delta_bar_delta, got a schedule")
    check_positive("learning_rate", learning_rate)
    check_positive("increment", increment)
    check_in_range("decrement", decrement, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    check_in_range("averaging", averaging, 0.0, 1.0, high_inclusive=False)

    def init_fn(params: PyTree) -> ScaleByDeltaBarDeltaState:
        return ScaleByDeltaBarDeltaState(
            learning_rates=optax.tree.full_like(params, learning_rate),
            bar_delta=optax.tree.zeros_like(params),
        )

    def adapt(rate, bar, g):
        # Signs, not the product: the product of two small gradients (1e-20 each)
        # underflows to 0 in float32 and would read as "no sign information".
        agreement = jnp.sign(bar) * jnp.sign(g)
        grown = rate + increment
        shrunk = rate * (1.0 - decrement)
        return jnp.where(agreement > 0, grown, jnp.where(agreement < 0, shrunk, rate))

    def update_fn(updates, state, params=None):
        del params
        rates = jax.tree.map(adapt, state.learning_rates, state.bar_delta, updates)
        new_updates = jax.tree.map(lambda r, g: r * g, rates, updates)
        bar_delta = jax.tree.map(
            lambda g, b: (1.0 - averaging) * g + averaging * b, updates, state.bar_delta
        )
        return new_updates, ScaleByDeltaBarDeltaState(learning_rates=rates, bar_delta=bar_delta)

    return optax.GradientTransformation(init_fn, update_fn)


__all__ = [
    "ScaleByCourseAdagradState",
    "ScaleByDeltaBarDeltaState",
    "scale_by_course_adagrad",
    "scale_by_delta_bar_delta",
]
