"""Optimization diagnostics: gradient-norm traces, Hessian spectra, critical points.

- :func:`gradient_norm_trace` runs an optimizer inside one ``lax.scan`` and records the
  loss and the global gradient norm at every step: plotting the norm shows whether
  training approaches a critical point (often it does not, even when the loss falls);
- :func:`hessian_matrix`, :func:`hessian_eigenvalues` and :func:`condition_number`
  measure curvature: a large ratio of extreme eigenvalues is the long, thin valley in
  which gradient descent zig-zags;
- :func:`classify_critical_point` reads the Hessian's signature at a point of
  vanishing gradient: all eigenvalues positive is a minimum, all negative a maximum,
  mixed signs a saddle, and a zero eigenvalue without mixed signs leaves the
  second-order test undecided (degenerate).

The Hessian functions build the dense ``n x n`` matrix of the raveled parameters, so
they are meant for small models and toy surfaces.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax
from jax import lax
from jax.flatten_util import ravel_pytree

from jaxdl._checks import check_positive, check_positive_int
from jaxdl.typing import Array, PyTree


class GradientNormTrace(NamedTuple):
    """Output of :func:`gradient_norm_trace`.

    Attributes:
        params: parameters after the last step.
        opt_state: optimizer state after the last step.
        losses: ``[num_steps]`` loss before each step.
        gradient_norms: ``[num_steps]`` global gradient norm before each step.
    """

    params: PyTree
    opt_state: Any
    losses: Array
    gradient_norms: Array


def gradient_norm_trace(
    loss_fn: Callable[..., Array],
    params: PyTree,
    optimizer: optax.GradientTransformation,
    num_steps: int | None = None,
    batches: PyTree | None = None,
) -> GradientNormTrace:
    """Train with ``optimizer`` inside ``lax.scan``, recording ``||grad J||`` per step.

    Kept as its own loop rather than a :func:`jaxdl.training.fit` call: it is a course
    diagnostic of an optimizer on a function of the parameters (toy surfaces, full-batch
    objectives), it needs the gradient norm of every step (``fit`` logs epoch means), and
    the optim room comes before training in the layer order.

    .. math::
        \\lVert g_t \\rVert = \\sqrt{\\textstyle\\sum_{\\text{leaves}} \\sum_i g_{t,i}^2}

    Args:
        loss_fn: ``loss_fn(params) -> scalar`` (full batch) or, with ``batches``,
            ``loss_fn(params, batch) -> scalar``.
        params: initial parameters (any pytree).
        optimizer: an ``optax.GradientTransformation``.
        num_steps: number of steps; required without ``batches``.
        batches: a pytree whose leaves have a leading axis ``[num_steps, ...]``: step
            ``t`` uses the ``t``-th slice.

    Returns:
        A :class:`GradientNormTrace`.

    Example:
        >>> import jax.numpy as jnp, optax
        >>> trace = gradient_norm_trace(
        ...     lambda p: jnp.sum(p**2), jnp.ones(2), optax.sgd(0.25), num_steps=3)
        >>> trace.gradient_norms.round(4)
        Array([2.8284, 1.4142, 0.7071], dtype=float32)
    """
    if batches is None:
        if num_steps is None:
            raise ValueError("num_steps must be given when batches is None, got None")
        check_positive_int("num_steps", num_steps)
        length = num_steps
    else:
        leading = {jnp.shape(leaf)[0] for leaf in jax.tree.leaves(batches)}
        if len(leading) != 1:
            raise ValueError(
                f"batches must share one leading (step) axis, got lengths {sorted(leading)}"
            )
        length = leading.pop()
        if num_steps is not None and num_steps != length:
            raise ValueError(f"num_steps must equal the batches' length {length}, got {num_steps}")
    return _gradient_norm_trace(loss_fn, optimizer, params, batches, length)


@functools.partial(jax.jit, static_argnames=("loss_fn", "optimizer", "length"))
def _gradient_norm_trace(loss_fn, optimizer, params, batches, length) -> GradientNormTrace:
    """The compiled body of :func:`gradient_norm_trace`: one scan over the steps."""
    value_and_grad = jax.value_and_grad(loss_fn)

    def step(carry, batch):
        p, opt_state = carry
        loss, grads = value_and_grad(p) if batches is None else value_and_grad(p, batch)
        updates, opt_state = optimizer.update(grads, opt_state, p)
        p = optax.apply_updates(p, updates)
        return (p, opt_state), (loss, optax.tree.norm(grads))

    (params, opt_state), (losses, norms) = lax.scan(
        step, (params, optimizer.init(params)), batches, length=length
    )
    return GradientNormTrace(
        params=params, opt_state=opt_state, losses=losses, gradient_norms=norms
    )


def hessian_matrix(loss_fn: Callable[[PyTree], Array], params: PyTree) -> Array:
    """The dense Hessian ``H_ij = d^2 J / d theta_i d theta_j`` of the raveled parameters.

    Args:
        loss_fn: ``loss_fn(params) -> scalar``.
        params: the point (any pytree); leaves are raveled in ``ravel_pytree`` order.

    Returns:
        ``[n, n]`` symmetric matrix, ``n`` the number of parameters.

    Example:
        >>> import jax.numpy as jnp
        >>> hessian_matrix(lambda p: p[0] ** 2 + 3 * p[0] * p[1], jnp.zeros(2))
        Array([[2., 3.],
               [3., 0.]], dtype=float32)
    """
    if ravel_pytree(params)[0].size == 0:
        raise ValueError("params must hold at least one parameter, got an empty tree")
    return _hessian_matrix(loss_fn, params)


@functools.partial(jax.jit, static_argnames="loss_fn")
def _hessian_matrix(loss_fn, params) -> Array:
    flat, unravel = ravel_pytree(params)
    return jax.hessian(lambda theta: loss_fn(unravel(theta)))(flat)


@functools.partial(jax.jit, static_argnames="loss_fn")
def _hessian_eigenvalues(loss_fn, params) -> Array:
    H = _hessian_matrix(loss_fn, params)
    return jnp.linalg.eigvalsh(0.5 * (H + H.T))


def hessian_eigenvalues(loss_fn: Callable[[PyTree], Array], params: PyTree) -> Array:
    """Eigenvalues of the Hessian at ``params``, in ascending order.

    Each eigenvalue is the curvature (second directional derivative) along its
    eigenvector; their signs decide the kind of a critical point.

    Args:
        loss_fn: ``loss_fn(params) -> scalar``.
        params: the point (any pytree).

    Returns:
        ``[n]`` real eigenvalues, ascending.

    Example:
        >>> import jax.numpy as jnp
        >>> hessian_eigenvalues(lambda p: p[0] ** 2 - 2 * p[1] ** 2, jnp.zeros(2))
        Array([-4.,  2.], dtype=float32)
    """
    if ravel_pytree(params)[0].size == 0:
        raise ValueError("params must hold at least one parameter, got an empty tree")
    return _hessian_eigenvalues(loss_fn, params)


def condition_number(
    loss_fn: Callable[[PyTree], Array], params: PyTree, relative_tolerance: float = 1e-6
) -> Array:
    """Ratio of the largest to the smallest nonzero Hessian eigenvalue (in magnitude).

    .. math::
        \\kappa(H) = \\frac{\\max_i |\\lambda_i|}{\\min_{i: |\\lambda_i| > \\tau} |\\lambda_i|},
        \\qquad \\tau = \\text{relative\\_tolerance} \\cdot \\max_i |\\lambda_i|

    Gradient descent on a quadratic needs a rate below ``2 / lambda_max`` and then
    progresses along the flattest direction at speed ``~ lambda_min / lambda_max``, so
    its iteration count grows with ``kappa``.

    Args:
        loss_fn: ``loss_fn(params) -> scalar``.
        params: the point.
        relative_tolerance: eigenvalues below this fraction of the largest count as zero.

    Returns:
        A scalar ``>= 1``; ``inf`` when the Hessian is zero.

    Example:
        >>> import jax.numpy as jnp
        >>> condition_number(lambda p: 0.5 * (p[0] ** 2 + 50 * p[1] ** 2), jnp.ones(2))
        Array(50., dtype=float32)
    """
    check_positive("relative_tolerance", relative_tolerance)
    magnitudes = jnp.abs(hessian_eigenvalues(loss_fn, params))
    return _condition_number(magnitudes, relative_tolerance)


@jax.jit
def _condition_number(magnitudes: Array, relative_tolerance: float) -> Array:
    largest = jnp.max(magnitudes)
    nonzero = magnitudes > relative_tolerance * largest
    smallest = jnp.min(jnp.where(nonzero, magnitudes, jnp.inf))
    return jnp.where(largest > 0, largest / smallest, jnp.inf)


CRITICAL_POINT_KINDS: tuple[str, ...] = (
    "not_critical",
    "minimum",
    "maximum",
    "saddle",
    "degenerate",
)
"""Names of the codes returned in :attr:`CriticalPoint.kind` (index = code)."""


class CriticalPoint(NamedTuple):
    """Output of :func:`classify_critical_point`.

    Attributes:
        kind: int32 code, an index into :data:`CRITICAL_POINT_KINDS`.
        gradient_norm: ``||grad J||`` at the point.
        eigenvalues: ``[n]`` Hessian eigenvalues, ascending.
    """

    kind: Array
    gradient_norm: Array
    eigenvalues: Array


def classify_critical_point(
    loss_fn: Callable[[PyTree], Array],
    params: PyTree,
    gradient_tolerance: float = 1e-5,
    eigenvalue_tolerance: float = 1e-6,
) -> CriticalPoint:
    """Tell a minimum, maximum, saddle or degenerate point by the Hessian's signature.

    With ``lambda_i`` the Hessian eigenvalues, a point with
    ``||grad J|| <= gradient_tolerance`` is a

    - minimum if every ``lambda_i > eigenvalue_tolerance``;
    - maximum if every ``lambda_i < -eigenvalue_tolerance``;
    - saddle if some are above ``eigenvalue_tolerance`` and some below its negative;
    - degenerate otherwise (a near-zero eigenvalue and no mixed signs: the second-order
      test cannot decide, e.g. ``x^4`` or a flat region).

    A larger gradient gives ``not_critical``. Works under ``jit``; use
    :func:`critical_point_name` for the name.

    Args:
        loss_fn: ``loss_fn(params) -> scalar``.
        params: the point (any pytree).
        gradient_tolerance: largest gradient norm of a critical point (>= 0).
        eigenvalue_tolerance: eigenvalues within this of zero count as zero (>= 0).

    Returns:
        A :class:`CriticalPoint`.

    Example:
        >>> import jax.numpy as jnp
        >>> point = classify_critical_point(lambda p: p[0] ** 2 - p[1] ** 2, jnp.zeros(2))
        >>> critical_point_name(point.kind)
        'saddle'
    """
    check_positive("gradient_tolerance", gradient_tolerance, allow_zero=True)
    check_positive("eigenvalue_tolerance", eigenvalue_tolerance, allow_zero=True)
    if ravel_pytree(params)[0].size == 0:
        raise ValueError("params must hold at least one parameter, got an empty tree")
    return _classify(loss_fn, params, gradient_tolerance, eigenvalue_tolerance)


@functools.partial(jax.jit, static_argnames="loss_fn")
def _classify(loss_fn, params, gradient_tolerance, eigenvalue_tolerance) -> CriticalPoint:
    grads = jax.grad(loss_fn)(params)
    gradient_norm = optax.tree.norm(grads)
    eigenvalues = _hessian_eigenvalues(loss_fn, params)
    any_positive = jnp.any(eigenvalues > eigenvalue_tolerance)
    any_negative = jnp.any(eigenvalues < -eigenvalue_tolerance)
    all_positive = jnp.all(eigenvalues > eigenvalue_tolerance)
    all_negative = jnp.all(eigenvalues < -eigenvalue_tolerance)
    kind = jnp.select(
        [
            gradient_norm > gradient_tolerance,
            all_positive,
            all_negative,
            any_positive & any_negative,
        ],
        [jnp.int32(0), jnp.int32(1), jnp.int32(2), jnp.int32(3)],
        default=jnp.int32(4),
    )
    return CriticalPoint(kind=kind, gradient_norm=gradient_norm, eigenvalues=eigenvalues)


def critical_point_name(kind: Array | int) -> str:
    """The name of a :attr:`CriticalPoint.kind` code (outside ``jit``).

    Args:
        kind: an integer code.

    Returns:
        One of :data:`CRITICAL_POINT_KINDS`.

    Example:
        >>> critical_point_name(1)
        'minimum'
    """
    code = int(kind)
    if not 0 <= code < len(CRITICAL_POINT_KINDS):
        raise ValueError(f"kind must lie in [0, {len(CRITICAL_POINT_KINDS)}), got {code}")
    return CRITICAL_POINT_KINDS[code]


__all__ = [
    "CRITICAL_POINT_KINDS",
    "CriticalPoint",
    "GradientNormTrace",
    "classify_critical_point",
    "condition_number",
    "critical_point_name",
    "gradient_norm_trace",
    "hessian_eigenvalues",
    "hessian_matrix",
]
