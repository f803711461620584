"""Back-propagation through time by hand, truncated BPTT, gradient norms and transductions.

* :func:`bptt`: BPTT written out for the shallow tanh RNN (:func:`rnn_forward`,
  :func:`rnn_loss`), equal to ``jax.grad``.
* Truncated BPTT: :func:`rnn_forward` with ``truncate=k`` stops the gradient through the
  state every ``k`` steps.
* :func:`state_gradient_norms`: ``||dL/dh_t||`` for any transition, showing vanishing and
  exploding gradients.
* The course's transduction properties checked by gradients on small systems:
  :func:`output_input_jacobian`, :func:`is_causal`, :func:`has_finite_memory` (causal,
  finite memory ``k``, algebraic = memory 0).

Reference: Goodfellow, Bengio & Courville, *Deep Learning*, sec. 10.2.2 (2016); Williams &
Peng, "An efficient gradient-based algorithm for on-line training of recurrent network
trajectories" (1990); Pascanu, Mikolov & Bengio, ICML 2013.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int, check_rank
from jaxdl.nn.recurrent import unroll as _unroll
from jaxdl.typing import Array, PyTree

__all__ = [
    "BPTTGrads",
    "RNNParams",
    "bptt",
    "has_finite_memory",
    "is_causal",
    "output_input_jacobian",
    "rnn_forward",
    "rnn_loss",
    "state_gradient_norms",
]


# --------------------------------------------------------------------------- transductions


def output_input_jacobian(fn: Callable[[Array], Array], inputs: Array) -> Array:
    """Sensitivity ``S[t, s] = ||d o_t / d x_s||_F`` of a transduction ``[T, D] -> [T', K]``.

    The course calls a transduction *causal* when ``o_t`` depends on ``x_1..x_t`` only,
    of *finite memory k* when it depends on ``x_{t-k}..x_t`` only, and *algebraic* when
    ``k = 0``; on a small system these are read off this matrix (zero above the diagonal,
    zero below the k-th subdiagonal).

    Args:
        fn: the transduction on one sequence, ``[T, D] -> [T', K]``.
        inputs: one input sequence ``[T, D]``.

    Returns:
        ``[T', T]`` Frobenius norms of the Jacobian blocks.

    Example:
        >>> import jax.numpy as jnp
        >>> s = output_input_jacobian(lambda x: jnp.cumsum(x, axis=0), jnp.ones((3, 1)))
        >>> (s > 0).astype(int).tolist()
        [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    check_rank("inputs", inputs, 2)
    jac = jax.jacrev(fn)(inputs)  # [T', K, T, D]
    jac = jnp.reshape(jac, jac.shape[:1] + (-1,) + jac.shape[2:])
    return jnp.sqrt(jnp.sum(jnp.square(jac), axis=(1, 3)))


def is_causal(fn: Callable[[Array], Array], inputs: Array, *, atol: float = 1e-7) -> bool:
    """Whether ``o_t`` of ``fn`` has no gradient with respect to any later ``x_s`` (s > t).

    Args:
        fn: the transduction on one sequence, ``[T, D] -> [T, K]``.
        inputs: one input sequence ``[T, D]``.
        atol: gradients below this count as zero.

    Example:
        >>> import jax.numpy as jnp
        >>> is_causal(lambda x: jnp.cumsum(x, 0), jnp.ones((4, 2)))
        True
        >>> is_causal(lambda x: jnp.cumsum(x[::-1], 0)[::-1], jnp.ones((4, 2)))
        False
    """
    sens = output_input_jacobian(fn, inputs)
    return bool(jnp.all(jnp.triu(sens, k=1) <= atol))


def has_finite_memory(
    fn: Callable[[Array], Array], inputs: Array, k: int, *, atol: float = 1e-7
) -> bool:
    """Whether ``fn`` is causal with finite memory ``k``: ``o_t`` depends on ``x_{t-k..t}`` only.

    ``k = 0`` is the course's *algebraic* transduction (no memory at all).

    Example:
        >>> import jax.numpy as jnp
        >>> moving_sum = lambda x: x + jnp.concatenate([jnp.zeros((1, 1)), x[:-1]])
        >>> has_finite_memory(moving_sum, jnp.ones((5, 1)), 1)
        True
        >>> has_finite_memory(moving_sum, jnp.ones((5, 1)), 0)
        False
    """
    check_positive_int("k", k, allow_zero=True)
    sens = output_input_jacobian(fn, inputs)
    outside = jnp.triu(sens, k=1) + jnp.tril(sens, k=-k - 1)
    return bool(jnp.all(outside <= atol))


# --------------------------------------------------------------------------- BPTT by hand


class RNNParams(NamedTuple):
    """Weights of the shallow tanh RNN: ``a_t = U x_t + W h_{t-1} + b``, ``o_t = V h_t + c``.

    Shapes: ``U [H, D]``, ``W [H, H]``, ``b [H]``, ``V [K, H]``, ``c [K]`` (column-vector
    convention of the course).
    """

    U: Array
    W: Array
    b: Array
    V: Array
    c: Array


class BPTTGrads(NamedTuple):
    """What :func:`bptt` returns: the loss, the parameter gradients and ``dL/dh_t``."""

    loss: Array
    grads: RNNParams
    hidden_grads: Array


def _output(o_pre: Array, output: str) -> Array:
    if output == "softmax":
        return jax.nn.softmax(o_pre, axis=-1)
    if output == "tanh":
        return jnp.tanh(o_pre)
    if output == "linear":
        return o_pre
    raise ValueError(f"output must be 'softmax', 'tanh' or 'linear', got {output!r}")


def rnn_forward(
    params: RNNParams,
    xs: Array,
    *,
    h0: Array | None = None,
    truncate: int | None = None,
    unroll: int = 1,
) -> tuple[Array, Array]:
    """Forward pass of the shallow tanh RNN on one sequence.

    ``a_t = U x_t + W h_{t-1} + b``, ``h_t = tanh(a_t)``, ``o_t = V h_t + c`` (pre-activation
    output), ``h_0 = 0`` unless given. With ``truncate=k`` the gradient through ``h_{t-1}``
    is stopped at every ``t`` divisible by ``k`` (truncated BPTT over chunks of ``k``
    steps; the forward values are unchanged).

    Args:
        params: :class:`RNNParams`.
        xs: inputs ``[T, D]``.
        h0: initial state ``[H]``.
        truncate: chunk length ``k >= 1`` of truncated BPTT, or ``None`` (full BPTT).
        unroll: time steps per scan iteration.

    Returns:
        ``(hs [T, H], os [T, K])``.

    Example:
        >>> import jax.numpy as jnp
        >>> p = RNNParams(jnp.eye(2), jnp.zeros((2, 2)), jnp.zeros(2), jnp.eye(2), jnp.zeros(2))
        >>> hs, os = rnn_forward(p, jnp.ones((3, 2)))
        >>> hs.shape, os.shape
        ((3, 2), (3, 2))
    """
    check_rank("xs", xs, 2)
    if truncate is not None:
        check_positive_int("truncate", truncate)
    h = jnp.zeros(params.W.shape[0], xs.dtype) if h0 is None else h0

    def step(h_prev, x_t, t):
        if truncate is not None:
            h_prev = jnp.where(t % truncate == 0, jax.lax.stop_gradient(h_prev), h_prev)
        h_t = jnp.tanh(params.U @ x_t + params.W @ h_prev + params.b)
        return h_t, (h_t, params.V @ h_t + params.c)

    _, (hs, os) = _unroll(step, h, xs, unroll=unroll, with_time=True)
    return hs, os


def rnn_loss(
    params: RNNParams,
    xs: Array,
    targets: Array,
    *,
    output: str = "softmax",
    truncate: int | None = None,
) -> Array:
    """Loss of the shallow RNN summed over time.

    ``output="softmax"``: ``L = -sum_t log softmax(o_t)[y_t]`` (integer ``targets [T]``).
    ``output="tanh"`` / ``"linear"``: ``L = sum_t ||y_t - act(o_t)||^2`` (``targets [T, K]``).

    Example:
        >>> import jax.numpy as jnp
        >>> p = RNNParams(jnp.eye(2), jnp.zeros((2, 2)), jnp.zeros(2), jnp.zeros((3, 2)),
        ...               jnp.zeros(3))
        >>> round(float(rnn_loss(p, jnp.ones((4, 2)), jnp.zeros(4, jnp.int32))), 4)  # 4 log 3
        4.3944
    """
    _, os = rnn_forward(params, xs, truncate=truncate)
    if output == "softmax":
        log_p = jax.nn.log_softmax(os, axis=-1)
        return -jnp.sum(jnp.take_along_axis(log_p, targets[:, None], axis=-1))
    return jnp.sum(jnp.square(targets - _output(os, output)))


def bptt(params: RNNParams, xs: Array, targets: Array, *, output: str = "softmax") -> BPTTGrads:
    """Back-propagation through time written out by hand for the shallow tanh RNN.

    With ``g_o(t) = dL/do_t`` (``softmax(o_t) - e_{y_t}`` for softmax + NLL;
    ``-2 (y_t - yhat_t) * act'(o_t)`` for a squared error), going backwards from ``t = T``:

        dL/dh_T = V^T g_o(T)
        dL/dh_t = V^T g_o(t) + W^T diag(1 - h_{t+1}^2) dL/dh_{t+1}

    and, with ``delta_t = diag(1 - h_t^2) dL/dh_t``, the parameter gradients

        dL/dc = sum_t g_o(t),     dL/dV = sum_t g_o(t) h_t^T,
        dL/db = sum_t delta_t,    dL/dW = sum_t delta_t h_{t-1}^T,   dL/dU = sum_t delta_t x_t^T.

    Args:
        params: :class:`RNNParams`.
        xs: inputs ``[T, D]``.
        targets: integer labels ``[T]`` (softmax) or values ``[T, K]`` (tanh / linear).
        output: ``"softmax"`` (NLL), ``"tanh"`` or ``"linear"`` (squared error).

    Returns:
        :class:`BPTTGrads` ``(loss, grads, hidden_grads [T, H])``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> p = RNNParams(jnp.ones((2, 1)), 0.5 * jnp.eye(2), jnp.zeros(2), jnp.ones((1, 2)),
        ...               jnp.zeros(1))
        >>> xs, ys = jnp.ones((3, 1)), jnp.ones((3, 1))
        >>> by_hand = bptt(p, xs, ys, output="tanh").grads
        >>> auto = jax.grad(rnn_loss)(p, xs, ys, output="tanh")
        >>> bool(jnp.allclose(by_hand.W, auto.W, atol=1e-6))
        True

    Reference: Goodfellow et al., Deep Learning, sec. 10.2.2 (eq. 10.17-10.28).
    """
    check_rank("xs", xs, 2)
    hs, os = rnn_forward(params, xs)
    if output == "softmax":
        log_p = jax.nn.log_softmax(os, axis=-1)
        loss = -jnp.sum(jnp.take_along_axis(log_p, targets[:, None], axis=-1))
        g_o = jnp.exp(log_p) - jax.nn.one_hot(targets, os.shape[-1], dtype=os.dtype)
    else:
        yhat = _output(os, output)
        loss = jnp.sum(jnp.square(targets - yhat))
        derivative = 1.0 - jnp.square(yhat) if output == "tanh" else jnp.ones_like(yhat)
        g_o = -2.0 * (targets - yhat) * derivative
    from_output = g_o @ params.V  # [T, H]: V^T g_o(t)

    # backwards over t = T..1; the carry is dL/dh_{t+1}, and h_{t+1} comes from hs.
    h_next = jnp.concatenate([hs[1:], jnp.zeros_like(hs[:1])], axis=0)

    def back_step(grad_next, inputs):
        out_t, h_after = inputs
        grad_t = out_t + params.W.T @ ((1.0 - jnp.square(h_after)) * grad_next)
        return grad_t, grad_t

    _, hidden_grads = jax.lax.scan(
        back_step, jnp.zeros_like(hs[0]), (from_output, h_next), reverse=True
    )
    delta = (1.0 - jnp.square(hs)) * hidden_grads  # [T, H]
    h_prev = jnp.concatenate([jnp.zeros_like(hs[:1]), hs[:-1]], axis=0)
    grads = RNNParams(
        U=delta.T @ xs,
        W=delta.T @ h_prev,
        b=jnp.sum(delta, axis=0),
        V=g_o.T @ hs,
        c=jnp.sum(g_o, axis=0),
    )
    return BPTTGrads(loss, grads, hidden_grads)


def state_gradient_norms(
    transition: Callable[[PyTree, Array], PyTree],
    initial_state: PyTree,
    inputs: Array,
    loss_fn: Callable[[PyTree], Array],
    readout: Callable[[PyTree], PyTree] | None = None,
) -> Array:
    """Norms ``||dL/dh_t||`` of the loss gradient with respect to every state ``h_t``.

    For the state-space model ``h_t = f(h_{t-1}, x_t)``, ``o_t = g(h_t)`` and a loss of the
    outputs, the total derivative of ``L`` with respect to ``h_t`` (through ``o_t`` and all
    later states) is found by adding a zero perturbation ``e_t`` to each state and
    differentiating with respect to it. Vanishing gradients show as norms that shrink
    geometrically going back from ``T``; exploding ones as norms that grow.

    Args:
        transition: ``f``: ``(state, x_t) -> state`` (e.g. a bound flax cell's carry update).
        initial_state: ``h_0`` (a pytree; the norm sums over its leaves).
        inputs: time-major inputs ``[T, ...]``.
        loss_fn: outputs ``[T, ...] -> scalar``.
        readout: ``g``: ``state -> output`` (default: the state itself).

    Returns:
        ``[T]`` norms, ``t = 1..T``.

    Example:
        >>> import jax.numpy as jnp
        >>> step = lambda h, x: 0.5 * h + x
        >>> state_gradient_norms(step, jnp.zeros(1), jnp.ones((3, 1)),
        ...                      lambda o: o[-1, 0]).tolist()
        [0.25, 0.5, 1.0]
    """
    readout = readout or (lambda state: state)
    length = jax.tree.leaves(inputs)[0].shape[0]
    zeros = jax.tree.map(
        lambda s: jnp.zeros((length,) + jnp.shape(s), jnp.result_type(s)), initial_state
    )

    def loss_of(perturbations):
        def body(state, xs):
            x_t, e_t = xs
            state = jax.tree.map(jnp.add, transition(state, x_t), e_t)
            return state, readout(state)

        _, outs = jax.lax.scan(body, initial_state, (inputs, perturbations))
        return loss_fn(outs)

    grads = jax.grad(loss_of)(zeros)
    squares = [jnp.sum(jnp.square(g), axis=tuple(range(1, g.ndim))) for g in jax.tree.leaves(grads)]
    return jnp.sqrt(sum(squares))
