"""Regularization that acts on the optimizer step: proximal L1 and max-norm projection.

Both are ``optax.GradientTransformation`` s that need the current parameters and go
*last* in a chain, after the learning rate has been applied, because they look at the
parameters the step is about to produce, ``w_new = w + u``, and change the update so
that ``w + u'`` is the regularized point:

- :func:`l1_proximal` soft-thresholds ``w_new`` (the proximal operator of
  ``lr * alpha * ||w||_1``); weights whose magnitude falls below the threshold become
  exactly zero, which a subgradient step ``alpha * sign(w)`` never achieves;
- :func:`max_norm` projects the incoming weight vector of each unit onto the ball
  ``||w|| <= c``.

Which leaves are affected is chosen by parameter path
(:func:`jaxdl.losses.regularizers.mask_by_path`).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import check_positive
from jaxdl.losses.regularizers import NON_WEIGHT_PATTERN, _compile, mask_by_path
from jaxdl.typing import Array, ArrayLike, PyTree


def soft_threshold(x: ArrayLike, threshold: ArrayLike) -> Array:
    """Soft-thresholding ``sign(x) * max(|x| - t, 0)``, the proximal map of ``t * |x|``.

    Args:
        x: any array.
        threshold: ``t >= 0``.

    Returns:
        An array like ``x``; entries with ``|x| <= t`` are exactly 0.

    Example:
        >>> soft_threshold(jnp.array([-3.0, 0.5, 2.0]), 1.0)
        Array([-2.,  0.,  1.], dtype=float32)
    """
    check_positive("threshold", threshold, allow_zero=True)
    x = jnp.asarray(x)
    return jnp.sign(x) * jnp.maximum(jnp.abs(x) - threshold, 0.0).astype(x.dtype)


def _require_params(name: str, params: PyTree | None) -> None:
    if params is None:
        raise ValueError(
            f"{name} needs the current parameters: call tx.update(updates, state, params)"
        )


def l1_proximal(
    learning_rate: float,
    strength: float,
    *,
    include: str | None = None,
    exclude: str | None = NON_WEIGHT_PATTERN,
) -> optax.GradientTransformation:
    """Proximal step for an L1 penalty: soft-threshold the parameters after the update.

    With ``w_half = w + u`` (``u`` already scaled by the learning rate), the new
    parameters are ``prox(w_half) = sign(w_half) * max(|w_half| - lr * alpha, 0)``, i.e.
    ISTA / proximal gradient descent on ``J(w) + alpha * ||w||_1``. Put it last in a chain.

    Args:
        learning_rate: the step size the update was scaled with (``> 0``).
        strength: ``alpha >= 0``, the L1 strength.
        include: regex of thresholded paths (None: all).
        exclude: regex of paths left alone (default: biases and norm scales).

    Returns:
        An ``optax.GradientTransformation`` whose ``update`` needs ``params``.

    Example:
        >>> tx = optax.chain(optax.sgd(0.1), l1_proximal(0.1, 0.01))

    Reference: Beck & Teboulle, "A fast iterative shrinkage-thresholding algorithm", 2009.
    """
    check_positive("strength", strength, allow_zero=True)
    check_positive("learning_rate", learning_rate)
    _compile("include", include)
    _compile("exclude", exclude)
    threshold = strength * learning_rate

    def init_fn(params):
        del params
        return optax.EmptyState()

    def update_fn(updates, state, params=None):
        _require_params("l1_proximal", params)
        mask = mask_by_path(params, include, exclude)

        def one(u, w, selected):
            if not selected:
                return u
            target = soft_threshold(w + u, threshold)
            return (target - w).astype(u.dtype)

        return jax.tree.map(one, updates, params, mask), state

    return optax.GradientTransformation(init_fn, update_fn)


def l1_proximal_sgd(
    learning_rate: float,
    strength: float,
    *,
    include: str | None = None,
    exclude: str | None = NON_WEIGHT_PATTERN,
) -> optax.GradientTransformation:
    """Proximal SGD for ``J(w) + alpha ||w||_1``: an SGD step, then soft-thresholding.

    Args:
        learning_rate: SGD step size ``> 0``.
        strength: L1 strength ``alpha >= 0``.
        include: regex of penalized paths (None: all).
        exclude: regex of unpenalized paths (default: biases and norm scales).

    Returns:
        ``optax.chain(optax.sgd(learning_rate), l1_proximal(learning_rate, strength))``.

    Example:
        >>> tx = l1_proximal_sgd(0.1, 1e-3)
    """
    return optax.chain(
        optax.sgd(learning_rate),
        l1_proximal(learning_rate, strength, include=include, exclude=exclude),
    )


def project_max_norm(
    weights: ArrayLike, max_value: ArrayLike, axis: int | Sequence[int] | None = None
) -> Array:
    """Rescale each weight vector whose L2 norm exceeds ``c`` back onto the sphere of radius c.

    ``w <- w * min(1, c / ||w||)`` with the norm taken over ``axis``. For a dense kernel
    ``[in, out]`` the default (every axis but the last) gives one vector per output
    unit: its incoming weights, as in max-norm dropout training.

    Args:
        weights: array of rank >= 1.
        max_value: the radius ``c > 0``.
        axis: axes of each vector; None means all but the last axis (for rank 1, axis 0).

    Returns:
        The projected array, same shape.

    Example:
        >>> project_max_norm(jnp.array([[3.0, 0.1], [4.0, 0.1]]), 1.0)
        Array([[0.6, 0.1],
               [0.8, 0.1]], dtype=float32)

    Reference: Srivastava et al., "Dropout", JMLR 2014 (max-norm regularization).
    """
    check_positive("max_value", max_value)
    w = jnp.asarray(weights)
    if axis is None:
        axis = tuple(range(w.ndim - 1)) if w.ndim > 1 else (0,)
    norms = jnp.sqrt(jnp.sum(jnp.square(w), axis=axis, keepdims=True))
    scale = jnp.minimum(1.0, max_value / jnp.maximum(norms, jnp.finfo(w.dtype).tiny))
    return (w * scale).astype(w.dtype)


def max_norm(
    max_value: float,
    *,
    axis: int | Sequence[int] | None = None,
    include: str | None = r"(^|/)kernel$",
    exclude: str | None = None,
) -> optax.GradientTransformation:
    """Max-norm constraint: after the update, project unit weight vectors onto ``||w|| <= c``.

    Put it last in a chain; the parameters after ``optax.apply_updates`` are
    ``project_max_norm(w + u, c, axis)`` on the selected leaves.

    Args:
        max_value: radius ``c > 0``.
        axis: as in :func:`project_max_norm` (default: all axes but the last).
        include: regex of constrained paths (default: kernels).
        exclude: regex of paths left alone.

    Returns:
        An ``optax.GradientTransformation`` whose ``update`` needs ``params``.

    Example:
        >>> tx = optax.chain(optax.sgd(0.1), max_norm(3.0))
    """
    check_positive("max_value", max_value)
    _compile("include", include)
    _compile("exclude", exclude)

    def init_fn(params):
        del params
        return optax.EmptyState()

    def update_fn(updates, state, params=None):
        _require_params("max_norm", params)
        mask = mask_by_path(params, include, exclude)

        def one(u, w, selected):
            if not selected:
                return u
            return (project_max_norm(w + u, max_value, axis) - w).astype(u.dtype)

        return jax.tree.map(one, updates, params, mask), state

    return optax.GradientTransformation(init_fn, update_fn)


__all__ = ["l1_proximal", "l1_proximal_sgd", "max_norm", "project_max_norm", "soft_threshold"]
