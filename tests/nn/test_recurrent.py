"""Recurrent cells and the unroll against PyTorch, flax and NumPy transcriptions."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl.nn.recurrent import (
    GRUCell,
    LSTMCell,
    gru_params_from_torch,
    lstm_params_from_torch,
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


def test_course_gru_gradients_pass_the_float64_checker(key):
    # the library form is pinned to PyTorch and flax above; the course form is ours alone
    k_x, k_p = jax.random.split(key)
    x = jax.random.normal(k_x, (1, 4, 2))
    layer = nn.RNN(GRUCell(features=3, form="course"))
    params = layer.init(k_p, x)["params"]

    def loss(params, x):
        return jnp.sum(jnp.sin(layer.apply({"params": params}, x)))

    assert_grads_close(loss, params, x, mode="directions", num_samples=4, key=k_p, rtol=1e-5)


# ---------------------------------------------------------------- unroll and masks


def test_unroll_masks_carry_the_state_and_reverse_runs_backwards():
    xs = jnp.arange(1.0, 5.0)
    mask = jnp.array([True, False, True, True])
    final, outs = unroll(lambda h, x: (h + x, h + x), jnp.array(0.0), xs, mask=mask)
    assert float(final) == 1 + 3 + 4
    np.testing.assert_array_equal(outs, [1.0, 0.0, 4.0, 8.0])
    _, rev = unroll(lambda h, x: (h + x, h + x), jnp.array(0.0), xs, reverse=True)
    np.testing.assert_array_equal(rev, [10.0, 9.0, 7.0, 4.0])
    # a time-dependent transition reads t: h_t = h_{t-1} + t * x_t
    _, timed = unroll(
        lambda h, x, t: (h + t.astype(x.dtype) * x,) * 2, jnp.array(0.0), xs, with_time=True
    )
    np.testing.assert_array_equal(timed, [0.0, 2.0, 8.0, 20.0])
    with pytest.raises(ValueError, match="mask must have the 4 time steps"):
        unroll(lambda h, x: (h, x), jnp.array(0.0), xs, mask=mask[:3])
