"""Recurrent cells, design patterns, losses and BPTT against PyTorch, NumPy and autodiff."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl.nn.recurrent import (
    BidirectionalRNN,
    EncoderDecoder,
    GRUCell,
    LSTMCell,
    OutputRecurrentRNN,
    RNNParams,
    SequenceClassifier,
    ShallowRNN,
    VectorToSequence,
    bptt,
    gru_params_from_torch,
    has_finite_memory,
    is_causal,
    lstm_params_from_torch,
    make_sequence_classification_loss,
    make_transduction_loss,
    output_input_jacobian,
    rnn_forward,
    rnn_loss,
    state_gradient_norms,
    unroll,
)
from jaxdl.testing import assert_grads_close

B, T, D, H = 2, 5, 3, 4


def _np_sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def _torch_numpy(t):
    return t.detach().numpy().astype(np.float32)


# ---------------------------------------------------------------- cells against references


def test_lstm_equals_torch_lstm_with_mapped_gates():
    torch.manual_seed(0)
    reference = torch.nn.LSTM(D, H, batch_first=True)
    x = np.random.default_rng(0).normal(size=(B, T, D)).astype(np.float32)
    expected, _ = reference(torch.from_numpy(x))
    params = lstm_params_from_torch(
        *(_torch_numpy(getattr(reference, n)) for n in ("weight_ih_l0", "weight_hh_l0")),
        *(_torch_numpy(getattr(reference, n)) for n in ("bias_ih_l0", "bias_hh_l0")),
    )
    ours = nn.RNN(LSTMCell(features=H)).apply({"params": {"cell": params}}, jnp.asarray(x))
    np.testing.assert_allclose(ours, _torch_numpy(expected), rtol=1e-5, atol=1e-6)


def test_library_gru_equals_torch_gru_and_flax_gru_cell():
    torch.manual_seed(1)
    reference = torch.nn.GRU(D, H, batch_first=True)
    x = np.random.default_rng(1).normal(size=(B, T, D)).astype(np.float32)
    expected, _ = reference(torch.from_numpy(x))
    params = gru_params_from_torch(
        *(_torch_numpy(getattr(reference, n)) for n in ("weight_ih_l0", "weight_hh_l0")),
        *(_torch_numpy(getattr(reference, n)) for n in ("bias_ih_l0", "bias_hh_l0")),
    )
    variables = {"params": {"cell": params}}
    ours = nn.RNN(GRUCell(features=H, form="library")).apply(variables, jnp.asarray(x))
    np.testing.assert_allclose(ours, _torch_numpy(expected), rtol=1e-5, atol=1e-6)
    flax_gru = nn.RNN(nn.GRUCell(features=H)).apply(variables, jnp.asarray(x))  # same names
    np.testing.assert_allclose(ours, flax_gru, rtol=1e-6, atol=1e-6)


def _course_gru_numpy(p, x, act):
    """h_t = z h + (1 - z) act(U x + b + W (r h)), one step per t, in NumPy."""
    h = np.zeros((x.shape[0], H), np.float64)
    out = []
    for t in range(x.shape[1]):
        xt = x[:, t]
        r = _np_sigmoid(xt @ p["ir"]["kernel"] + p["ir"]["bias"] + h @ p["hr"]["kernel"])
        z = _np_sigmoid(xt @ p["iz"]["kernel"] + p["iz"]["bias"] + h @ p["hz"]["kernel"])
        n = act(xt @ p["in"]["kernel"] + p["in"]["bias"] + (r * h) @ p["hn"]["kernel"])
        h = z * h + (1 - z) * n
        out.append(h)
    return np.stack(out, axis=1)


def test_course_gru_equals_numpy_transcription_and_differs_from_library_form(key):
    x = jax.random.normal(key, (B, T, D))
    layer = nn.RNN(GRUCell(features=H, form="course"))
    variables = layer.init(jax.random.key(2), x)
    p = jax.tree.map(np.asarray, variables["params"]["cell"])
    np.testing.assert_allclose(
        layer.apply(variables, x), _course_gru_numpy(p, np.asarray(x), _np_sigmoid), atol=1e-5
    )
    # Same weights in the library form (tanh candidate, reset after W, b_n = 0):
    library = nn.RNN(GRUCell(features=H, form="library"))
    lib_params = {**variables["params"]["cell"], "hn": {**p["hn"], "bias": np.zeros(H)}}
    course_tanh = nn.RNN(GRUCell(features=H, candidate_activation="tanh"))
    a = course_tanh.apply(variables, x)
    b = library.apply({"params": {"cell": lib_params}}, x)
    assert float(jnp.max(jnp.abs(a - b))) > 1e-3  # r * (W h) != W (r * h)
    # ... and with the reset gate held open (r = 1) the two forms coincide.
    open_gate = {**lib_params, "ir": {"kernel": 0 * p["ir"]["kernel"], "bias": np.full(H, 40.0)}}
    open_gate["hr"] = {"kernel": 0 * p["hr"]["kernel"]}
    a = course_tanh.apply({"params": {"cell": open_gate}}, x)
    b = library.apply({"params": {"cell": open_gate}}, x)
    np.testing.assert_allclose(a, b, atol=1e-6)


VARIANTS = {
    "vanilla": {},
    "peephole": {"peephole": True},
    "NIG": {"input_gate": False},
    "NFG": {"forget_gate": False},
    "NOG": {"output_gate": False},
    "NIAF": {"input_activation": False},
    "NOAF": {"output_activation": False},
}


def _lstm_step_numpy(p, peep, c, h, x, v):
    a = x @ p["input"]["kernel"] + p["input"]["bias"] + h @ p["hidden"]["kernel"]
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=-1)
    if v.get("peephole"):
        a_i, a_f = a_i + peep[0] * c, a_f + peep[1] * c
    i = _np_sigmoid(a_i) if v.get("input_gate", True) else 1.0
    f = _np_sigmoid(a_f) if v.get("forget_gate", True) else 1.0
    g = np.tanh(a_g) if v.get("input_activation", True) else a_g
    c_t = f * c + i * g
    if v.get("peephole"):
        a_o = a_o + peep[2] * c_t
    o = _np_sigmoid(a_o) if v.get("output_gate", True) else 1.0
    return c_t, o * (np.tanh(c_t) if v.get("output_activation", True) else c_t)


def test_lstm_variants_equal_their_numpy_equations(key):
    k_x, k_c, k_h, k_p, k_peep = jax.random.split(key, 5)
    x = np.asarray(jax.random.normal(k_x, (B, D)))
    c = np.asarray(jax.random.normal(k_c, (B, H)))
    h = np.asarray(jax.random.normal(k_h, (B, H)))
    peep = np.asarray(jax.random.normal(k_peep, (3, H)))
    outputs = {}
    for name, options in VARIANTS.items():
        cell = LSTMCell(features=H, **options)
        params = cell.init(k_p, (jnp.asarray(c), jnp.asarray(h)), jnp.asarray(x))["params"]
        if options.get("peephole"):
            params = {**params, "peephole": jnp.asarray(peep)}
        (c_t, h_t), out = cell.apply({"params": params}, (jnp.asarray(c), jnp.asarray(h)), x)
        p = jax.tree.map(np.asarray, params)
        c_ref, h_ref = _lstm_step_numpy(p, peep, c, h, x, options)
        np.testing.assert_allclose(c_t, c_ref, rtol=1e-5, atol=1e-5, err_msg=name)
        np.testing.assert_allclose(h_t, h_ref, rtol=1e-5, atol=1e-5, err_msg=name)
        outputs[name] = np.asarray(h_t)
    for name in VARIANTS:  # every switch changes the cell
        if name != "vanilla":
            assert np.max(np.abs(outputs[name] - outputs["vanilla"])) > 1e-4, name


def test_lstm_gradients_pass_the_float64_checker(key):
    k_x, k_p = jax.random.split(key)
    x = jax.random.normal(k_x, (1, 4, 2))
    layer = nn.RNN(LSTMCell(features=3, peephole=True))
    params = layer.init(k_p, x)["params"]
    params = jax.tree.map(lambda p: p + 0.3, params)  # peepholes away from zero

    def loss(params, x):
        return jnp.sum(jnp.sin(layer.apply({"params": params}, x)))

    assert_grads_close(loss, params, x, mode="directions", num_samples=4, key=k_p, rtol=1e-5)


# ---------------------------------------------------------------- unroll, masks, transductions


def test_unroll_masks_carry_the_state_and_reverse_runs_backwards():
    xs = jnp.arange(1.0, 5.0)
    mask = jnp.array([True, False, True, True])
    final, outs = unroll(lambda h, x: (h + x, h + x), jnp.array(0.0), xs, mask=mask)
    assert float(final) == 1 + 3 + 4
    np.testing.assert_array_equal(outs, [1.0, 0.0, 4.0, 8.0])
    _, rev = unroll(lambda h, x: (h + x, h + x), jnp.array(0.0), xs, reverse=True)
    np.testing.assert_array_equal(rev, [10.0, 9.0, 7.0, 4.0])
    with pytest.raises(ValueError, match="mask must have the 4 time steps"):
        unroll(lambda h, x: (h, x), jnp.array(0.0), xs, mask=mask[:3])


def test_padding_masks_match_the_unpadded_sequences(key):
    x = jax.random.normal(key, (2, 6, 3))
    mask = jnp.array([[1] * 6, [1] * 4 + [0] * 2], bool)
    model = SequenceClassifier(num_hidden=4, num_outputs=3, cell="lstm")
    params = model.init(jax.random.key(3), x)
    padded = model.apply(params, x, mask=mask)
    short = model.apply(params, x[1:, :4])
    np.testing.assert_allclose(padded[1], short[0], atol=1e-6)
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(2, 6\)"):
        model.apply(params, x, mask=mask[:, :5])


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


# ---------------------------------------------------------------- patterns and losses


def test_teacher_forcing_equals_free_running_fed_its_own_outputs(key):
    k_x, k_p = jax.random.split(key)
    x = jax.random.normal(k_x, (B, T, D))
    model = OutputRecurrentRNN(num_hidden=6, num_outputs=3)
    params = model.init(k_p, x)
    free = model.apply(params, x)
    own = jnp.argmax(free, -1)
    forced = model.apply(params, x, own, teacher_forcing=True)
    np.testing.assert_allclose(forced, free, atol=1e-5)
    other = (own + 1) % 3
    assert float(jnp.max(jnp.abs(model.apply(params, x, other, teacher_forcing=True) - free))) > 0
    with pytest.raises(ValueError, match="teacher_forcing=True needs targets"):
        model.apply(params, x, teacher_forcing=True)


def test_encoder_decoder_and_vector_to_sequence_forcing_is_consistent(key):
    k_x, k_p, k_v = jax.random.split(key, 3)
    x = jax.random.normal(k_x, (B, T, D))
    model = EncoderDecoder(num_hidden=6, num_classes=4, output_length=3, cell="simple")
    params = model.init(k_p, x)
    free = model.apply(params, x)
    forced = model.apply(params, x, jnp.argmax(free, -1), teacher_forcing=True)
    np.testing.assert_allclose(forced, free, atol=1e-5)
    with pytest.raises(ValueError, match="teacher_forcing=True needs targets"):
        model.apply(params, x, teacher_forcing=True)
    v2s = VectorToSequence(num_hidden=5, num_outputs=2, length=4)
    vp = v2s.init(k_v, x[:, 0])
    free = v2s.apply(vp, x[:, 0])
    np.testing.assert_allclose(v2s.apply(vp, x[:, 0], free, teacher_forcing=True), free, atol=1e-5)


def test_transduction_loss_is_the_nll_summed_over_valid_steps(key):
    k_x, k_p = jax.random.split(key)
    x = jax.random.normal(k_x, (B, T, D))
    y = jnp.array([[0, 1, 2, 0, 1], [2, 2, 1, 0, 0]])
    mask = jnp.array([[1] * 5, [1] * 3 + [0] * 2], bool)
    model = ShallowRNN(num_hidden=4, num_outputs=3)
    params = model.init(k_p, x)["params"]
    loss_fn = make_transduction_loss(model)
    metrics = loss_fn.evaluate(params, {}, (x, y, mask))
    log_p = np.asarray(jax.nn.log_softmax(model.apply({"params": params}, x, mask=mask)))
    nll = [-sum(log_p[b, t, y[b, t]] for t in range(T) if mask[b, t]) for b in range(B)]
    np.testing.assert_allclose(metrics["loss"], np.mean(nll), rtol=1e-5)
    changed = y.at[1, 4].set(1)  # a padded target does not count
    np.testing.assert_allclose(
        loss_fn.evaluate(params, {}, (x, changed, mask))["loss"], metrics["loss"]
    )
    classify = make_sequence_classification_loss(SequenceClassifier(num_hidden=4, num_outputs=3))
    with pytest.raises(ValueError, match="labels must have shape"):
        classify.evaluate(
            SequenceClassifier(4, 3).init(k_p, x)["params"], {}, (x, jnp.zeros((3,), jnp.int32))
        )
    with pytest.raises(ValueError, match="teacher_forcing=True needs a model"):
        make_transduction_loss(model, teacher_forcing=True)


# ---------------------------------------------------------------- BPTT


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
