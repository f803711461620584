"""Tolerances scaled to the data, for guards on floating results (private).

A guard such as ``jnp.where(std > 0, ...)`` never fires on a float32 result: the mean
of thirteen 7.0s is 7.0000005 in float32, so the spread of a constant column comes out
near 1e-7 instead of 0. These helpers compare against the rounding error the
computation can make on data of that size and scale instead of against zero.

Example:
    >>> import jax.numpy as jnp
    >>> column = jnp.full((13, 1), 7.0)
    >>> float(refined_mean(column)[0])
    7.0
    >>> bool(negligible_variance(jnp.var(column, axis=0), refined_mean(column))[0])
    True
"""

from __future__ import annotations

import jax.numpy as jnp

from jaxdl.typing import Array, ArrayLike

__all__ = ["negligible_variance", "refined_mean", "rounding_eps"]


def rounding_eps(x: ArrayLike) -> float:
    """Machine epsilon of ``x``'s floating dtype (float32 for anything else)."""
    dtype = jnp.result_type(x)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.float32
    return float(jnp.finfo(dtype).eps)


def refined_mean(x: Array, axis: int = 0) -> Array:
    """The mean over ``axis`` with one correction pass, ``m + mean(x - m)``.

    The correction removes most of the rounding error of the first pass; a constant
    column comes back as its value exactly in the common case.
    """
    first = jnp.mean(x, axis=axis, keepdims=True)
    correction = jnp.mean(x - first, axis=axis, keepdims=True)
    return jnp.squeeze(first + correction, axis=axis)


def negligible_variance(variance: Array, mean: Array) -> Array:
    """Where a variance, computed around :func:`refined_mean`, is only rounding error.

    Around the refined mean the deviations of a constant column are a few units in the
    last place of the value, so its float variance is at most about ``(eps |mean|)^2``
    (not 0); a real spread of more than a few ulps is kept. The test is
    ``var <= (4 eps |mean|)^2`` with ``eps`` the machine epsilon of the data's dtype
    (scikit-learn's ``_is_constant_feature`` uses ``n eps`` around a plain float64 mean).

    Args:
        variance: per-feature (population) variances, any shape.
        mean: the matching means, same shape.

    Returns:
        A bool array of ``variance``'s shape.
    """
    eps = rounding_eps(variance)
    return variance <= jnp.square(4.0 * eps * jnp.abs(mean))
