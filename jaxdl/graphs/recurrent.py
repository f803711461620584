"""Recurrent graph networks: Scarselli's fixed-point GNN and the gated GNN (GGNN).

**Scarselli et al. (2009).** One shared transition is iterated until the node states stop
changing, ``h_v = sum_{u -> v} f(h_u, x_v, x_u)``; Banach's theorem guarantees a unique
fixed point ``h*`` when the map is a contraction. Here ``f(h_u, x_v, x_u) = c_v tanh(h_u W +
x_u S + x_v R + b)`` with ``c_v = 1`` (the course's sum) or ``c_v = 1/deg(v)`` (a mean, the
default). Since ``|tanh'| <= 1``, the map's Lipschitz constant in the max norm is at most
``rho = ||W||_1`` (largest column abs sum) for the mean, and ``max_deg * rho`` for the sum;
:func:`contraction_penalty` adds ``strength * relu(rho - mu)^2`` to the loss to keep it below
``mu < 1`` (Scarselli's penalty on the Jacobian's norm, in a bound that needs no Jacobian).
The iteration is a ``lax.while_loop`` with a tolerance; the gradient through ``h*`` is
implicit (:func:`fixed_point`, a ``custom_vjp``): with ``J = dT/dh`` at ``h*``, the adjoint
``w = g + w J`` is itself a fixed point, and ``dL/dtheta = w dT/dtheta`` (the
Almeida-Pineda recurrent backpropagation). A map that fails to converge within
``max_iterations`` is reported (``FixedPointInfo.converged``); :func:`check_converged`
raises a clear error for callers.

**Gated GNN (Li et al. 2016),** with the GRU update of course chapter 11:
``a_v = sum_{u -> v} h_u W_a``, ``z = sigmoid(a W_z + h U_z)``, ``r = sigmoid(a W_r + h U_r)``,
``c = tanh(a W + (r * h) U)``, ``h <- (1 - z) * h + z * c``, from ``h^(1) = [x_v, 0]``. The
gate ``z`` opens towards the *candidate*: chapter 13 (and ``flax.linen.GRUCell``) write the
GRU with the opposite convention, ``h <- z * h + (1 - z) * c`` (``z`` keeps the old state);
:func:`ggnn_gru_update` and its test pin the two down.

Reference: Scarselli et al., "The graph neural network model" (IEEE TNN 2009); Almeida
(1987), Pineda (1987); Li et al., "Gated graph sequence neural networks" (ICLR 2016).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_positive, check_positive_int, is_concrete
from jaxdl.graphs.graph import Graph, course_example_graph, degrees
from jaxdl.graphs.message_passing import _check_nodes, propagate
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, PyTree


class FixedPointInfo(NamedTuple):
    """What the fixed-point iteration did.

    Attributes:
        residual: ``max |h_k - h_{k-1}|`` at the last iteration.
        iterations: iterations run.
        converged: ``residual <= tolerance`` (False: the map did not converge in
            ``max_iterations``; the states are then not a fixed point).
    """

    residual: Array
    iterations: Array
    converged: Array


class FixedPointError(RuntimeError):
    """The fixed-point iteration did not converge (the transition is not a contraction)."""


def _iterate(
    step: Callable[[Array], Array], h0: Array, tolerance: float, max_iterations: int
) -> tuple[Array, Array, Array]:
    def cond(carry):
        _, residual, i = carry
        return (residual > tolerance) & (i < max_iterations)

    def body(carry):
        h, _, i = carry
        h_new = step(h)
        return h_new, jnp.max(jnp.abs(h_new - h)).astype(h.dtype), i + 1

    init = (h0, jnp.asarray(jnp.inf, h0.dtype), jnp.asarray(0, jnp.int32))
    return jax.lax.while_loop(cond, body, init)


@partial(jax.custom_vjp, nondiff_argnums=(0, 4, 5))
def fixed_point(
    transition: Callable[[PyTree, Array, PyTree], Array],
    params: PyTree,
    inputs: PyTree,
    h0: Array,
    tolerance: float = 1e-5,
    max_iterations: int = 200,
) -> tuple[Array, Array, Array]:
    """Iterate ``h <- T(params, h, inputs)`` to a fixed point; implicit gradients.

    The forward pass is a ``lax.while_loop`` that stops when ``max |h_k - h_{k-1}| <=
    tolerance`` or after ``max_iterations``. The backward pass differentiates the fixed-point
    equation ``h* = T(h*)`` rather than the iterations: the adjoint ``w = g + w dT/dh``
    (another fixed point, iterated the same way) gives ``dL/dparams = w dT/dparams`` and
    ``dL/dinputs = w dT/dinputs``; ``h0`` gets no gradient.

    Args:
        transition: ``T(params, h, inputs) -> h`` (a pure function; pass every array it
            needs through ``params`` or ``inputs``, closing over none).
        params: the differentiable parameters (a pytree).
        inputs: further arguments (a pytree; integer leaves get no gradient).
        h0: the starting state.
        tolerance: the stopping threshold on the max-norm step.
        max_iterations: the iteration budget.

    Returns:
        ``(h, residual, iterations)``.

    Example:
        >>> t = lambda p, h, x: p * h + x  # contraction for |p| < 1: h* = x / (1 - p)
        >>> h, residual, iterations = fixed_point(t, 0.5, 1.0, jnp.zeros(()), 1e-6, 100)
        >>> round(float(h), 4), round(float(jax.grad(lambda p: fixed_point(t, p, 1.0,
        ...     jnp.zeros(()), 1e-6, 100)[0])(0.5)), 3)  # d/dp x/(1-p) = 4
        (2.0, 4.0)
    """
    return _iterate(lambda h: transition(params, h, inputs), h0, tolerance, max_iterations)


def _fixed_point_fwd(transition, params, inputs, h0, tolerance, max_iterations):
    out = _iterate(lambda h: transition(params, h, inputs), h0, tolerance, max_iterations)
    return out, (params, inputs, out[0], h0)


def _fixed_point_bwd(transition, tolerance, max_iterations, residuals, cotangents):
    params, inputs, h_star, h0 = residuals
    g = cotangents[0]
    _, vjp_h = jax.vjp(lambda h: transition(params, h, inputs), h_star)
    w, _, _ = _iterate(lambda w: g + vjp_h(w)[0], g, tolerance, max_iterations)
    _, vjp_pi = jax.vjp(lambda p, i: transition(p, h_star, i), params, inputs)
    grad_params, grad_inputs = vjp_pi(w)
    return grad_params, grad_inputs, jnp.zeros_like(h0)


fixed_point.defvjp(_fixed_point_fwd, _fixed_point_bwd)


def unrolled_fixed_point(
    transition: Callable[[PyTree, Array, PyTree], Array],
    params: PyTree,
    inputs: PyTree,
    h0: Array,
    num_iterations: int,
) -> Array:
    """``num_iterations`` applications of ``T`` (a ``fori_loop``), differentiated by backprop.

    The reference the implicit gradient of :func:`fixed_point` is tested against.

    Example:
        >>> t = lambda p, h, x: p * h + x
        >>> round(float(unrolled_fixed_point(t, 0.5, 1.0, jnp.zeros(()), 60)), 4)
        2.0
    """
    check_positive_int("num_iterations", num_iterations)
    return jax.lax.fori_loop(0, num_iterations, lambda _, h: transition(params, h, inputs), h0)


def check_converged(info: FixedPointInfo, tolerance: float | None = None) -> None:
    """Raise :class:`FixedPointError` unless the (concrete) ``info`` says it converged.

    Example:
        >>> check_converged(FixedPointInfo(jnp.array(1e-7), jnp.array(12), jnp.array(True)))
        >>> check_converged(FixedPointInfo(jnp.array(0.8), jnp.array(50), jnp.array(False)))
        Traceback (most recent call last):
        ...
        jaxdl.graphs.recurrent.FixedPointError: fixed-point iteration did not converge: ...
    """
    if not is_concrete(info.converged):
        return
    converged = np.asarray(info.converged)
    if not bool(np.all(converged)):
        residual = float(np.max(np.asarray(info.residual)))
        iterations = int(np.max(np.asarray(info.iterations)))
        bound = "" if tolerance is None else f" > tolerance {tolerance}"
        raise FixedPointError(
            "fixed-point iteration did not converge: residual "
            f"{residual:.3g}{bound} after {iterations} iterations; the transition is not a "
            "contraction (raise the contraction penalty's strength, lower mu, or use "
            "aggregation='mean')"
        )


def _scarselli_transition(params: dict, h: Array, inputs: tuple) -> Array:
    x_proj, graph, scale = inputs
    # edge u -> v: tanh(h_u W + x_u S + b + x_v R)
    sender = jnp.take(h @ params["W"] + x_proj, graph.senders, axis=0, mode="clip")
    receiver = jnp.take(params["x_receiver"], graph.receivers, axis=0, mode="clip")
    edge_messages = jnp.tanh(sender + receiver)
    weights = jnp.where(graph.edge_mask, graph.weights, 0).astype(h.dtype)
    total = jax.ops.segment_sum(
        edge_messages * weights[:, None], graph.receivers, num_segments=graph.num_nodes
    )
    return jnp.where(graph.node_mask[:, None], total * scale[:, None], 0)


def lipschitz_bound(kernel: Array) -> Array:
    """``||W||_1``: the largest column abs sum, the max-norm Lipschitz bound of ``h -> h W``.

    Example:
        >>> float(lipschitz_bound(jnp.array([[0.5, -0.1], [0.25, 0.2]])))
        0.75
    """
    return jnp.max(jnp.sum(jnp.abs(kernel), axis=0))


def contraction_penalty(kernel: Array, mu: float = 0.9, strength: float = 1.0) -> Array:
    """``strength * relu(||W||_1 - mu)^2``: zero while the transition contracts by ``mu``.

    Example:
        >>> float(contraction_penalty(jnp.array([[0.5]]), mu=0.9)), float(
        ...     contraction_penalty(jnp.array([[1.9]]), mu=0.9))
        (0.0, 1.0)
    """
    check_positive("strength", strength, allow_zero=True)
    return strength * jnp.square(jax.nn.relu(lipschitz_bound(kernel) - mu))


class ScarselliGNN(nn.Module):
    """Scarselli's recurrent GNN: node states at the fixed point of a shared transition.

    ``h_v = c_v sum_{u -> v} tanh(h_u W + x_u S + x_v R + b)``, iterated from 0 until
    ``max |dh| <= tolerance``. Returns ``(h*, FixedPointInfo)``; the contraction penalty of
    the transition is :func:`contraction_penalty` on ``params["W"]``.

    Attributes:
        features: state size ``H``.
        aggregation: ``"mean"`` (``c_v = 1/deg v``, contractive when ``||W||_1 < 1``) or
            ``"sum"`` (the course's form, ``c_v = 1``).
        tolerance: stopping threshold.
        max_iterations: iteration budget (non-convergence is reported, not hidden).
        implicit: gradients by implicit differentiation (True) or by backprop through
            ``max_iterations`` unrolled steps (False; the reference).
        kernel_scale: the init std of ``W`` relative to ``1/sqrt(H)``.

    Example:
        >>> g = course_example_graph()
        >>> model = ScarselliGNN(features=4)
        >>> params = model.init(jax.random.key(0), jnp.ones((5, 2)), g)
        >>> h, info = model.apply(params, jnp.ones((5, 2)), g)
        >>> h.shape, bool(info.converged)
        ((5, 4), True)
    """

    features: int
    aggregation: str = "mean"
    tolerance: float = 1e-5
    max_iterations: int = 100
    implicit: bool = True
    kernel_scale: float = 0.25

    @nn.compact
    def __call__(self, x: Array, graph: Graph) -> tuple[Array, FixedPointInfo]:
        _check_nodes(x, graph, "x")
        if self.aggregation not in ("mean", "sum"):
            raise ValueError(f"aggregation must be 'mean' or 'sum', got {self.aggregation!r}")
        h_size = self.features
        kernel = self.param(
            "W", nn.initializers.normal(self.kernel_scale / np.sqrt(h_size)), (h_size, h_size)
        )
        x_sender = nn.Dense(h_size, name="sender")(x)  # x_u S + b
        x_receiver = nn.Dense(h_size, use_bias=False, name="receiver")(x)  # x_v R
        if self.aggregation == "mean":
            deg = degrees(graph).astype(x.dtype)
            scale = jnp.where(deg > 0, 1.0 / jnp.maximum(deg, 1e-12), 0)
        else:
            scale = jnp.ones((graph.num_nodes,), x.dtype)
        params = {"W": kernel.astype(x.dtype), "x_receiver": x_receiver}
        inputs = (x_sender, graph, scale)
        h0 = jnp.zeros((graph.num_nodes, h_size), x.dtype)
        transition = _scarselli_transition
        if self.implicit:
            h, residual, iterations = fixed_point(
                transition, params, inputs, h0, self.tolerance, self.max_iterations
            )
        else:
            h = unrolled_fixed_point(transition, params, inputs, h0, self.max_iterations)
            residual = jnp.max(jnp.abs(transition(params, h, inputs) - h))
            iterations = jnp.asarray(self.max_iterations, jnp.int32)
        info = FixedPointInfo(residual, iterations, residual <= self.tolerance)
        return h, info


def ggnn_gru_update(h: Array, candidate: Array, z: Array) -> Array:
    """The chapter-11 GRU update ``h' = (1 - z) * h + z * c`` (``z = 1`` takes the candidate).

    Chapter 13 (and ``flax.linen.GRUCell``) write ``h' = z * h + (1 - z) * c``: the same
    update with ``z`` replaced by ``1 - z``.

    Example:
        >>> ggnn_gru_update(jnp.array([1.0]), jnp.array([3.0]), jnp.array([0.25])).tolist()
        [1.5]
    """
    return (1 - z) * h + z * candidate


class GatedGNN(nn.Module):
    """Gated graph neural network with the chapter-11 GRU update, ``num_steps`` rounds.

    Attributes:
        features: state size ``H`` (``>=`` the node feature size; ``h^(1) = [x, 0]``).
        num_steps: propagation rounds (shared weights; a ``fori_loop``).

    Example:
        >>> g = course_example_graph()
        >>> model = GatedGNN(features=4, num_steps=3)
        >>> params = model.init(jax.random.key(0), jnp.ones((5, 2)), g)
        >>> model.apply(params, jnp.ones((5, 2)), g).shape
        (5, 4)
    """

    features: int
    num_steps: int = 4

    @nn.compact
    def __call__(self, x: Array, graph: Graph) -> Array:
        _check_nodes(x, graph, "x")
        check_positive_int("num_steps", self.num_steps)
        f, h_size = x.shape[1], self.features
        if f > h_size:
            raise ValueError(
                f"features must be >= the node feature size {f} (h^(1) = [x, 0]), got {h_size}"
            )
        init = nn.initializers.lecun_normal()
        p = {
            name: self.param(name, init, (h_size, h_size)).astype(x.dtype)
            for name in ("W_a", "W_z", "U_z", "W_r", "U_r", "W", "U")
        }
        b = {
            name: self.param(name, nn.initializers.zeros, (h_size,)).astype(x.dtype)
            for name in ("b_a", "b_z", "b_r", "b")
        }
        mask = graph.node_mask[:, None]

        def step(_, h):
            a = propagate(h @ p["W_a"] + b["b_a"][None, :], graph, "sum")
            z = jax.nn.sigmoid(a @ p["W_z"] + h @ p["U_z"] + b["b_z"][None, :])
            r = jax.nn.sigmoid(a @ p["W_r"] + h @ p["U_r"] + b["b_r"][None, :])
            c = jnp.tanh(a @ p["W"] + (r * h) @ p["U"] + b["b"][None, :])
            return jnp.where(mask, ggnn_gru_update(h, c, z), 0)

        h0 = jnp.pad(x, ((0, 0), (0, h_size - f)))
        return jax.lax.fori_loop(0, self.num_steps, step, jnp.where(mask, h0, 0))


_EXAMPLE = course_example_graph()
for _name, _make in (
    ("ScarselliGNN", lambda: ScarselliGNN(features=3)),
    ("GatedGNN", lambda: GatedGNN(features=3, num_steps=2)),
):
    register_model(
        ModelSpec(
            name=_name,
            make=_make,
            input_shape=(5, 2),
            batched=False,
            apply_kwargs={"graph": _EXAMPLE},
        )
    )
