"""BPTT by hand against autodiff, truncated BPTT, gradient norms and transduction properties."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.nn.rnn_gradients import (
    RNNParams,
    bptt,
    has_finite_memory,
    is_causal,
    output_input_jacobian,
    rnn_forward,
    rnn_loss,
    state_gradient_norms,
)
from jaxdl.nn.rnn_patterns import BidirectionalRNN, ShallowRNN
from jaxdl.testing import assert_grads_close


def test_causality_and_finite_memory_by_gradient(key):
    k_x, k_p = jax.random.split(key)
    x = jax.random.normal(k_x, (1, 5, 2))
    causal = ShallowRNN(num_hidden=3, num_outputs=2)
    params = causal.init(k_p, x)
    fn = lambda s: causal.apply(params, s[None])[0]  # noqa: E731
    assert is_causal(fn, x[0])
    assert not has_finite_memory(fn, x[0], 2)  # an RNN's memory is unbounded
    sens = output_input_jacobian(fn, x[0])
    assert float(sens[4, 0]) > 0 and float(sens[0, 4]) == 0.0
    both = BidirectionalRNN(num_hidden=3, num_outputs=2)
    params_b = both.init(k_p, x)
    assert not is_causal(lambda s: both.apply(params_b, s[None])[0], x[0])
    window = lambda s: s + 0.5 * jnp.concatenate([jnp.zeros((1, 2)), s[:-1]])  # noqa: E731
    assert has_finite_memory(window, x[0], 1) and not has_finite_memory(window, x[0], 0)


def _rnn_params(key, d, h, k, scale=0.5):
    keys = jax.random.split(key, 5)
    shapes = [(h, d), (h, h), (h,), (k, h), (k,)]
    return RNNParams(
        *(scale * jax.random.normal(kk, s) for kk, s in zip(keys, shapes, strict=True))
    )


def test_bptt_by_hand_equals_jax_grad(key):
    k_p, k_x, k_y = jax.random.split(key, 3)
    params = _rnn_params(k_p, 3, 4, 3)
    xs = jax.random.normal(k_x, (6, 3))
    labels = jax.random.randint(k_y, (6,), 0, 3)
    for output, targets in (("softmax", labels), ("tanh", jnp.sin(xs))):
        result = bptt(params, xs, targets, output=output)
        auto = jax.grad(rnn_loss)(params, xs, targets, output=output)
        for name in RNNParams._fields:
            np.testing.assert_allclose(
                getattr(result.grads, name), getattr(auto, name), rtol=1e-4, atol=1e-6
            )
        np.testing.assert_allclose(result.loss, rnn_loss(params, xs, targets, output=output))
        # dL/dh_t from the perturbation trick equals the hand-written recursion.
        step = lambda h, x: jnp.tanh(params.U @ x + params.W @ h + params.b)  # noqa: E731
        if output == "softmax":
            loss_of = lambda hs: (
                -jnp.sum(  # noqa: E731
                    jnp.take_along_axis(
                        jax.nn.log_softmax(hs @ params.V.T + params.c[None]), labels[:, None], 1
                    )
                )
            )
        else:
            loss_of = lambda hs, y=targets: jnp.sum(  # noqa: E731
                jnp.square(y - jnp.tanh(hs @ params.V.T + params.c[None]))
            )
        norms = state_gradient_norms(step, jnp.zeros(4), xs, loss_of)
        np.testing.assert_allclose(norms, jnp.linalg.norm(result.hidden_grads, axis=1), rtol=1e-4)


# The chapter-12 worked example: h_0 = [0, 0], a_h = U x + W h + b, o = tanh(V h + c),
# L = sum_t (y_t - o_t)^2 with inputs [1, 0], [0.5, -0.2], [0, 1] and targets 1, -1, 1.
# The course gives no weights; these are ours (published here):
WORKED_EXAMPLE = RNNParams(
    U=jnp.array([[0.5, -0.3], [0.8, 0.2]]),
    W=jnp.array([[0.1, 0.4], [-0.2, 0.3]]),
    b=jnp.array([0.0, 0.1]),
    V=jnp.array([[1.0, -1.0]]),
    c=jnp.array([0.0]),
)


def test_chapter_12_worked_example_by_hand_and_by_autodiff():
    params = jax.tree.map(lambda a: np.asarray(a, np.float64), WORKED_EXAMPLE)
    xs = np.array([[1.0, 0.0], [0.5, -0.2], [0.0, 1.0]])
    ys = np.array([[1.0], [-1.0], [1.0]])
    # Forward pass written out step by step in NumPy.
    h, hs, os = np.zeros(2), [], []
    for x in xs:
        h = np.tanh(params.U @ x + params.W @ h + params.b)
        hs.append(h)
        os.append(np.tanh(params.V @ h + params.c))
    loss = float(np.sum((ys - np.array(os)) ** 2))
    # Backward pass written out step by step.
    dW, dU, db, dV, dc = (
        np.zeros_like(p) for p in (params.W, params.U, params.b, params.V, params.c)
    )
    grad_h_next = np.zeros(2)
    for t in (2, 1, 0):
        g_o = -2 * (ys[t] - os[t]) * (1 - os[t] ** 2)
        dV += np.outer(g_o, hs[t])
        dc += g_o
        grad_h = params.V.T @ g_o
        if t < 2:
            grad_h += params.W.T @ ((1 - hs[t + 1] ** 2) * grad_h_next)
        delta = (1 - hs[t] ** 2) * grad_h
        h_prev = hs[t - 1] if t > 0 else np.zeros(2)
        dW += np.outer(delta, h_prev)
        dU += np.outer(delta, xs[t])
        db += delta
        grad_h_next = grad_h
    result = bptt(
        WORKED_EXAMPLE, jnp.asarray(xs, jnp.float32), jnp.asarray(ys, jnp.float32), output="tanh"
    )
    np.testing.assert_allclose(result.loss, loss, rtol=1e-5)
    for name, expected in zip(RNNParams._fields, (dU, dW, db, dV, dc), strict=True):
        np.testing.assert_allclose(getattr(result.grads, name), expected, rtol=1e-4, atol=1e-6)
    assert_grads_close(
        lambda p: rnn_loss(p, jnp.asarray(xs), jnp.asarray(ys), output="tanh"), params, rtol=1e-6
    )


def test_truncated_bptt_stops_gradients_at_chunk_boundaries(key):
    k_p, k_x = jax.random.split(key)
    params = _rnn_params(k_p, 2, 3, 1, scale=0.8)
    xs = jax.random.normal(k_x, (6, 2))

    def last_output(xs, truncate):
        return rnn_forward(params, xs, truncate=truncate)[1][-1, 0]

    full = jax.grad(last_output)(xs, None)
    truncated = jax.grad(last_output)(xs, 3)  # chunks {0,1,2}, {3,4,5}
    np.testing.assert_array_equal(truncated[:3], 0.0)
    np.testing.assert_allclose(truncated[3:], full[3:], rtol=1e-6)
    assert float(jnp.max(jnp.abs(full[:3]))) > 0
    np.testing.assert_allclose(jax.grad(last_output)(xs, 6), full, rtol=1e-6)
    np.testing.assert_allclose(
        rnn_forward(params, xs, truncate=2)[1], rnn_forward(params, xs)[1]
    )  # the forward pass is unchanged
