"""Second-order and conjugate-direction methods for small problems.

These functions minimize ``loss_fn(params) -> scalar`` for any parameter pytree by
working on the raveled vector ``theta = ravel(params)`` (``jax.flatten_util``). They
build the dense ``n x n`` Hessian (Newton) or Hessian-vector products (conjugate
gradients), so they suit problems with up to a few thousand parameters: the course's
point that they are too costly for large networks is visible in their memory use.

- :func:`newton_method`: ``theta <- theta - (H + lambda I)^{-1} grad J(theta)``;
- :func:`conjugate_gradient`: nonlinear conjugate gradients (Fletcher-Reeves or
  Polak-Ribiere) with an exact quadratic, backtracking (Armijo) or golden-section line
  search.

All loops are ``lax.scan`` / ``lax.while_loop`` / ``lax.fori_loop``: each function
compiles to one program and works under ``jit`` (with ``loss_fn`` and the integer
options static).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax
from jax.flatten_util import ravel_pytree

from jaxdl._checks import check_in_range, check_positive, check_positive_int
from jaxdl.typing import Array, PyTree

_GOLDEN = 0.6180339887498949  # (sqrt(5) - 1) / 2


class NewtonResult(NamedTuple):
    """Output of :func:`newton_method`.

    Attributes:
        params: the final parameters (same tree as the input).
        trajectory: the parameters before each step and at the end, each leaf with a
            leading axis of length ``num_steps + 1``.
        losses: ``[num_steps + 1]`` loss along the trajectory.
        gradient_norms: ``[num_steps + 1]`` Euclidean gradient norm along the trajectory.
    """

    params: PyTree
    trajectory: PyTree
    losses: Array
    gradient_norms: Array


def newton_method(
    loss_fn: Callable[[PyTree], Array],
    params: PyTree,
    num_steps: int,
    damping: float = 0.0,
) -> NewtonResult:
    """Newton's method with the exact Hessian (and optional Levenberg damping).

    The minimizer of the second-order Taylor model of ``J`` around ``theta`` gives

    .. math::
        \\theta \\leftarrow \\theta - (H + \\lambda I)^{-1} \\nabla J(\\theta),
        \\qquad H = \\nabla^2 J(\\theta).

    A quadratic is minimized in one step. Undamped Newton jumps to the nearest critical
    point of any kind (saddle or maximum too); ``damping = lambda > 0`` shortens the
    step and keeps the linear system solvable where ``H`` is singular.

    Args:
        loss_fn: ``loss_fn(params) -> scalar``, twice differentiable.
        params: the starting point, any pytree of float arrays.
        num_steps: number of Newton steps (> 0).
        damping: ``lambda >= 0`` added to the Hessian's diagonal.

    Returns:
        A :class:`NewtonResult`.

    Example:
        >>> import jax.numpy as jnp
        >>> loss = lambda p: (p[0] - 1.0) ** 2 + 10.0 * (p[1] + 2.0) ** 2
        >>> newton_method(loss, jnp.zeros(2), num_steps=1).params
        Array([ 1., -2.], dtype=float32)

    References:
        Nocedal & Wright, "Numerical Optimization", 2nd ed. 2006, chapter 3.
    """
    check_positive_int("num_steps", num_steps)
    check_positive("damping", damping, allow_zero=True)
    _check_float_vector(ravel_pytree(params)[0])
    return _newton_method(loss_fn, params, num_steps, damping)


@functools.partial(jax.jit, static_argnames=("loss_fn", "num_steps"))
def _newton_method(loss_fn, params, num_steps, damping) -> NewtonResult:
    """The compiled body of :func:`newton_method` (one program, whatever the caller)."""
    flat, unravel = ravel_pytree(params)

    def flat_loss(theta: Array) -> Array:
        return loss_fn(unravel(theta))

    value_and_grad = jax.value_and_grad(flat_loss)
    hessian = jax.hessian(flat_loss)
    identity = jnp.eye(flat.shape[0], dtype=flat.dtype)

    def step(theta: Array, _: None) -> tuple[Array, tuple[Array, Array, Array]]:
        loss, grad = value_and_grad(theta)
        H = hessian(theta) + damping * identity
        new_theta = theta - jnp.linalg.solve(H, grad)
        return new_theta, (theta, loss, jnp.linalg.norm(grad))

    final, (points, losses, norms) = lax.scan(step, flat, None, length=num_steps)
    final_loss, final_grad = value_and_grad(final)
    points = jnp.concatenate([points, final[None, :]], axis=0)
    return NewtonResult(
        params=unravel(final),
        trajectory=jax.vmap(unravel)(points),
        losses=jnp.concatenate([losses, final_loss[None]]),
        gradient_norms=jnp.concatenate([norms, jnp.linalg.norm(final_grad)[None]]),
    )


class ConjugateGradientResult(NamedTuple):
    """Output of :func:`conjugate_gradient`.

    Attributes:
        params: the final parameters (same tree as the input).
        trajectory: parameters before each step and at the end (leading axis
            ``num_steps + 1``).
        losses: ``[num_steps + 1]`` loss along the trajectory.
        gradient_norms: ``[num_steps + 1]`` gradient norm along the trajectory.
        directions: ``[num_steps, n]`` the raveled search directions ``d_t``.
        step_sizes: ``[num_steps]`` the line-search step ``eta_t`` along ``d_t``.
    """

    params: PyTree
    trajectory: PyTree
    losses: Array
    gradient_norms: Array
    directions: Array
    step_sizes: Array


_BETAS = ("fletcher_reeves", "polak_ribiere")
_LINE_SEARCHES = ("quadratic", "backtracking", "golden_section")


def conjugate_gradient(
    loss_fn: Callable[[PyTree], Array],
    params: PyTree,
    num_steps: int,
    beta: str = "fletcher_reeves",
    line_search: str = "quadratic",
    *,
    initial_step: float = 1.0,
    shrink: float = 0.5,
    armijo: float = 1e-4,
    line_search_steps: int = 40,
) -> ConjugateGradientResult:
    """Nonlinear conjugate gradients: line searches along mutually conjugate directions.

    With ``g_t = grad J(theta_t)``:

    .. math::
        d_t = -g_t + \\beta_t d_{t-1}, \\qquad
        \\theta_{t+1} = \\theta_t + \\eta_t d_t, \\qquad
        \\eta_t = \\arg\\min_\\eta J(\\theta_t + \\eta d_t),

    with ``beta_FR = g_t.g_t / g_{t-1}.g_{t-1}`` (Fletcher-Reeves) or
    ``beta_PR = max(0, g_t.(g_t - g_{t-1}) / g_{t-1}.g_{t-1})`` (Polak-Ribiere, clipped
    at 0 which restarts with steepest descent). The course writes ``d_t = grad J +
    beta d_{t-1}`` and steps against it; this is the same method with the sign folded
    into ``d``. When a direction is not a descent direction (``g.d >= 0``, possible
    after an inexact line search) it is replaced by ``-g``.

    On a quadratic with Hessian ``H`` and the exact line search, successive directions
    are ``H``-conjugate (``d_i^T H d_j = 0``) and the minimum of a ``k``-dimensional
    problem is reached in at most ``k`` steps.

    Line searches (``line_search``):

    - ``"quadratic"``: ``eta = -g.d / d^T H d`` from one Hessian-vector product; exact
      for quadratics, a one-dimensional Newton step otherwise (``eta = 0`` when the
      curvature along ``d`` is not positive).
    - ``"backtracking"``: start at ``initial_step`` and multiply by ``shrink`` until the
      Armijo condition ``J(theta + eta d) <= J(theta) + c eta g.d`` holds (at most
      ``line_search_steps`` times).
    - ``"golden_section"``: double ``initial_step`` while the loss keeps falling to
      bracket the minimum, then ``line_search_steps`` golden-section reductions
      (assumes ``J`` is unimodal along ``d``).

    Args:
        loss_fn: ``loss_fn(params) -> scalar``.
        params: the starting point, any pytree of float arrays.
        num_steps: number of line searches (> 0).
        beta: ``"fletcher_reeves"`` or ``"polak_ribiere"``.
        line_search: ``"quadratic"``, ``"backtracking"`` or ``"golden_section"``.
        initial_step: first trial step of the inexact searches (> 0).
        shrink: backtracking factor in ``(0, 1)``.
        armijo: sufficient-decrease constant ``c`` in ``(0, 1)``.
        line_search_steps: iteration budget of the inexact searches (> 0).

    Returns:
        A :class:`ConjugateGradientResult`.

    Example:
        >>> import jax.numpy as jnp
        >>> A = jnp.array([[3.0, 1.0], [1.0, 2.0]])
        >>> loss = lambda x: 0.5 * x @ A @ x - x.sum()
        >>> result = conjugate_gradient(loss, jnp.zeros(2), num_steps=2)
        >>> [round(float(v), 4) for v in result.params]
        [0.2, 0.4]

    References:
        Fletcher & Reeves, "Function minimization by conjugate gradients", 1964;
        Polak & Ribiere, 1969; Nocedal & Wright, "Numerical Optimization", chapter 5.
    """
    check_positive_int("num_steps", num_steps)
    if beta not in _BETAS:
        raise ValueError(f"beta must be one of {_BETAS}, got {beta!r}")
    if line_search not in _LINE_SEARCHES:
        raise ValueError(f"line_search must be one of {_LINE_SEARCHES}, got {line_search!r}")
    check_positive("initial_step", initial_step)
    check_in_range("shrink", shrink, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    check_in_range("armijo", armijo, 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    check_positive_int("line_search_steps", line_search_steps)
    _check_float_vector(ravel_pytree(params)[0])
    return _conjugate_gradient(
        loss_fn,
        params,
        num_steps,
        beta,
        line_search,
        initial_step,
        shrink,
        armijo,
        line_search_steps,
    )


@functools.partial(
    jax.jit, static_argnames=("loss_fn", "num_steps", "beta", "line_search", "line_search_steps")
)
def _conjugate_gradient(
    loss_fn,
    params,
    num_steps,
    beta,
    line_search,
    initial_step,
    shrink,
    armijo,
    line_search_steps,
) -> ConjugateGradientResult:
    """The compiled body of :func:`conjugate_gradient`."""
    flat, unravel = ravel_pytree(params)

    def flat_loss(theta: Array) -> Array:
        return loss_fn(unravel(theta))

    value_and_grad = jax.value_and_grad(flat_loss)

    def search(theta: Array, loss: Array, grad: Array, direction: Array) -> Array:
        slope = grad @ direction
        if line_search == "quadratic":
            _, curvature_vector = jax.jvp(jax.grad(flat_loss), (theta,), (direction,))
            curvature = direction @ curvature_vector
            return jnp.where(curvature > 0, -slope / jnp.where(curvature > 0, curvature, 1), 0)
        if line_search == "backtracking":
            return _backtracking(
                flat_loss,
                theta,
                loss,
                slope,
                direction,
                initial_step,
                shrink,
                armijo,
                line_search_steps,
            )
        return _golden_section(flat_loss, theta, direction, initial_step, line_search_steps)

    def step(carry, index):
        theta, previous_grad, previous_direction = carry
        loss, grad = value_and_grad(theta)
        previous_sq = previous_grad @ previous_grad
        safe_sq = jnp.where(previous_sq > 0, previous_sq, 1)
        if beta == "fletcher_reeves":
            b = (grad @ grad) / safe_sq
        else:
            b = jnp.maximum((grad @ (grad - previous_grad)) / safe_sq, 0)
        b = jnp.where((index > 0) & (previous_sq > 0), b, 0)
        direction = -grad + b * previous_direction
        direction = jnp.where(grad @ direction < 0, direction, -grad)
        eta = search(theta, loss, grad, direction).astype(theta.dtype)
        new_theta = theta + eta * direction
        return (new_theta, grad, direction), (theta, loss, jnp.linalg.norm(grad), direction, eta)

    zeros = jnp.zeros_like(flat)
    (final, _, _), (points, losses, norms, directions, etas) = lax.scan(
        step, (flat, zeros, zeros), jnp.arange(num_steps)
    )
    final_loss, final_grad = value_and_grad(final)
    points = jnp.concatenate([points, final[None, :]], axis=0)
    return ConjugateGradientResult(
        params=unravel(final),
        trajectory=jax.vmap(unravel)(points),
        losses=jnp.concatenate([losses, final_loss[None]]),
        gradient_norms=jnp.concatenate([norms, jnp.linalg.norm(final_grad)[None]]),
        directions=directions,
        step_sizes=etas,
    )


def _backtracking(
    flat_loss, theta, loss, slope, direction, initial_step, shrink, armijo, max_steps
) -> Array:
    """Armijo backtracking: the first ``eta = initial_step * shrink^i`` that decreases enough."""

    def insufficient(state):
        eta, i = state
        trial = flat_loss(theta + eta * direction)
        return (trial > loss + armijo * eta * slope) & (i < max_steps)

    def body(state):
        eta, i = state
        return eta * shrink, i + 1

    start = jnp.asarray(initial_step, theta.dtype)
    eta, _ = lax.while_loop(insufficient, body, (start, jnp.zeros([], jnp.int32)))
    return eta


def _golden_section(flat_loss, theta, direction, initial_step, num_iterations) -> Array:
    """Bracket by doubling, then golden-section search of ``J(theta + eta d)`` on the bracket."""

    def along(eta: Array) -> Array:
        return flat_loss(theta + eta * direction)

    def keeps_falling(state):
        upper, i = state
        return (along(2 * upper) < along(upper)) & (i < num_iterations)

    start = jnp.asarray(initial_step, theta.dtype)
    upper, _ = lax.while_loop(
        keeps_falling, lambda s: (2 * s[0], s[1] + 1), (start, jnp.zeros([], jnp.int32))
    )
    low, high = jnp.zeros_like(upper), 2 * upper

    def body(_, bounds):
        low, high = bounds
        left = high - _GOLDEN * (high - low)
        right = low + _GOLDEN * (high - low)
        go_left = along(left) < along(right)
        return jnp.where(go_left, low, left), jnp.where(go_left, right, high)

    low, high = lax.fori_loop(0, num_iterations, body, (low, high))
    return 0.5 * (low + high)


def _check_float_vector(flat: Array) -> None:
    if flat.size == 0:
        raise ValueError("params must hold at least one parameter, got an empty tree")
    if not jnp.issubdtype(flat.dtype, jnp.floating):
        raise TypeError(f"params must have a floating dtype, got {flat.dtype}")


__all__ = [
    "ConjugateGradientResult",
    "NewtonResult",
    "conjugate_gradient",
    "newton_method",
]
