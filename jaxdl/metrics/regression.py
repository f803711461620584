"""Regression metrics, equal to scikit-learn's with ``multioutput="uniform_average"``.

Arguments come as ``(targets, predictions)``, as scikit-learn's ``(y_true, y_pred)``
and every metric of :mod:`jaxdl.metrics` (the true values first). Inputs are
``[N]`` (one output) or ``[N, D]`` (``D`` outputs, each scored and then averaged).
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxdl._checks import check_floating, check_rank, check_shape
from jaxdl._numerics import negligible_variance, refined_mean
from jaxdl.typing import Array, ArrayLike

__all__ = ["mean_absolute_error", "mean_squared_error", "r2_score", "root_mean_squared_error"]


def _inputs(targets: ArrayLike, predictions: ArrayLike) -> tuple[Array, Array]:
    predictions = jnp.asarray(predictions)
    targets = jnp.asarray(targets)
    check_floating("predictions", predictions)
    check_floating("targets", targets)
    check_rank("targets", targets, (1, 2))
    check_shape("predictions", predictions, targets.shape)
    if targets.shape[0] == 0:
        raise ValueError(f"targets must hold at least one example, got shape {targets.shape}")
    if targets.ndim == 1:
        return predictions[:, None], targets[:, None]
    return predictions, targets


def mean_squared_error(targets: ArrayLike, predictions: ArrayLike) -> Array:
    """Mean squared error ``(1 / ND) sum_n sum_d (yhat_nd - y_nd)^2``.

    Args:
        targets: same shape.
        predictions: ``[N]`` or ``[N, D]`` float predictions.

    Returns:
        Scalar MSE.

    Example:
        >>> mean_squared_error(jnp.array([1.0, 4.0]), jnp.array([1.0, 2.0]))
        Array(2., dtype=float32)
    """
    predictions, targets = _inputs(targets, predictions)
    return jnp.mean(jnp.square(predictions - targets))


def root_mean_squared_error(targets: ArrayLike, predictions: ArrayLike) -> Array:
    """Root mean squared error, per output then averaged: ``(1/D) sum_d sqrt(MSE_d)``.

    Args:
        targets: same shape.
        predictions: ``[N]`` or ``[N, D]`` float predictions.

    Returns:
        Scalar RMSE (in the units of the targets).

    Example:
        >>> root_mean_squared_error(jnp.array([1.0, 4.0]), jnp.array([1.0, 2.0]))
        Array(1.4142135, dtype=float32)
    """
    predictions, targets = _inputs(targets, predictions)
    return jnp.mean(jnp.sqrt(jnp.mean(jnp.square(predictions - targets), axis=0)))


def mean_absolute_error(targets: ArrayLike, predictions: ArrayLike) -> Array:
    """Mean absolute error ``(1 / ND) sum_n sum_d |yhat_nd - y_nd|``.

    Args:
        targets: same shape.
        predictions: ``[N]`` or ``[N, D]`` float predictions.

    Returns:
        Scalar MAE.

    Example:
        >>> mean_absolute_error(jnp.array([1.0, 4.0]), jnp.array([1.0, 2.0]))
        Array(1., dtype=float32)
    """
    predictions, targets = _inputs(targets, predictions)
    return jnp.mean(jnp.abs(predictions - targets))


def r2_score(targets: ArrayLike, predictions: ArrayLike) -> Array:
    """Coefficient of determination ``R^2 = 1 - SS_res / SS_tot``, averaged over outputs.

    ``SS_res = sum_n (y_n - yhat_n)^2`` and ``SS_tot = sum_n (y_n - ybar)^2``. For a
    constant target (``SS_tot`` within rounding error of 0 at the targets' scale) the
    score is 1 for a fit within rounding error and 0 otherwise (scikit-learn's
    ``force_finite=True``). 1 is perfect, 0 is the mean predictor,
    negative is worse than the mean.

    Args:
        targets: same shape.
        predictions: ``[N]`` or ``[N, D]`` float predictions.

    Returns:
        Scalar ``R^2``.

    Example:
        >>> r2_score(jnp.array([1.0, 2.0, 4.0]), jnp.array([1.0, 2.0, 3.0]))
        Array(0.78571427, dtype=float32)
    """
    predictions, targets = _inputs(targets, predictions)
    n = targets.shape[0]
    residual = jnp.sum(jnp.square(targets - predictions), axis=0)
    mean = refined_mean(targets, axis=0)
    spread = jnp.sum(jnp.square(targets - mean[None]), axis=0)
    # Float spreads and residuals of a constant column are rounding error, not 0: the
    # guards compare them against the rounding error at the targets' scale.
    constant = negligible_variance(spread / n, mean)
    perfect = negligible_variance(residual / n, mean)
    ratio = residual / jnp.where(constant, jnp.ones_like(spread), spread)
    score = jnp.where(constant, jnp.where(perfect, 1.0, 0.0), 1.0 - ratio)
    return jnp.mean(score)
