"""Convolution, pooling and the cost model against SciPy, PyTorch and the course's numbers."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.signal
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.nn import conv as C
from jaxdl.testing import assert_grads_close

RNG = np.random.default_rng(0)


def _rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


# ---------------------------------------------------------------- SciPy: the definitions


@pytest.mark.parametrize("kernel_shape", [(3, 3), (2, 4)])
def test_convolve_and_correlate_match_scipy_2d(kernel_shape):
    image, kernel = _rand(7, 8), _rand(*kernel_shape)
    x, k = image[None, :, :, None], kernel[:, :, None, None]
    for padding, mode in (("valid", "valid"), ("zero", "same"), ("full", "full")):
        np.testing.assert_allclose(
            C.convolve(x, k, padding=padding)[0, :, :, 0],
            scipy.signal.convolve(image, kernel, mode=mode, method="direct"),
            rtol=1e-5,
            atol=1e-5,
            err_msg=f"convolve {padding}",
        )
        if padding != "zero" or all(s % 2 for s in kernel_shape):  # scipy centres even "same"
            np.testing.assert_allclose(
                C.cross_correlate(x, k, padding=padding)[0, :, :, 0],
                scipy.signal.correlate(image, kernel, mode=mode, method="direct"),
                rtol=1e-5,
                atol=1e-5,
                err_msg=f"correlate {padding}",
            )


def test_convolve_1d_and_3d_match_scipy_and_flip_relation():
    for shape, kshape in (((9,), (3,)), ((5, 4, 6), (2, 3, 2))):
        image, kernel = _rand(*shape), _rand(*kshape)
        x, k = image[None, ..., None], kernel[..., None, None]
        np.testing.assert_allclose(
            C.convolve(x, k)[0, ..., 0],
            scipy.signal.convolve(image, kernel, mode="valid", method="direct"),
            rtol=1e-5,
            atol=1e-5,
        )
    # multi-channel, strided, dilated: convolution is correlation with the flipped kernel
    x, k = _rand(2, 9, 8, 4), _rand(3, 2, 2, 6)
    kwargs = dict(strides=(2, 1), dilation=(1, 2), groups=2, padding=((1, 0), (2, 1)))
    np.testing.assert_allclose(
        C.convolve(x, k, **kwargs),
        C.cross_correlate(x, np.flip(k, axis=(0, 1)), **kwargs),
        rtol=1e-5,
        atol=1e-5,
    )


# ---------------------------------------------------------------- PyTorch, same weights

TORCH_CONV = {
    1: torch.nn.functional.conv1d,
    2: torch.nn.functional.conv2d,
    3: torch.nn.functional.conv3d,
}


def _to_torch(x):
    return torch.from_numpy(np.moveaxis(np.asarray(x), -1, 1).copy())


def _from_torch(y):
    return np.moveaxis(y.detach().numpy(), 1, -1)


@pytest.mark.parametrize(
    ("spatial", "kernel_size", "strides", "padding", "dilation", "groups"),
    [
        ((11,), (3,), 2, 1, 2, 1),
        ((7, 9), (3, 2), (2, 1), "zero", 1, 2),
        ((7, 9), (3, 3), (1, 2), "replicate", (2, 1), 1),
        ((7, 9), (2, 3), 1, ((2, 0), (1, 3)), 1, 3),
        ((5, 6, 7), (3, 2, 3), (1, 2, 2), "valid", (1, 2, 1), 1),
        ((5, 6, 5), (3, 3, 3), 1, "replicate", 1, 2),
    ],
)
def test_conv_matches_torch(spatial, kernel_size, strides, padding, dilation, groups):
    n = len(spatial)
    c_in, c_out = 2 * groups, 3 * groups
    x = _rand(2, *spatial, c_in)
    kernel = _rand(*kernel_size, c_in // groups, c_out)
    ours = C.cross_correlate(
        x, kernel, strides=strides, padding=padding, dilation=dilation, groups=groups
    )
    pads = C.padding_amounts(padding, kernel_size, dilation)
    xt = _to_torch(x)
    flat = [p for pair in reversed(pads) for p in pair]  # torch's F.pad: last axis first
    xt = torch.nn.functional.pad(
        xt, flat, mode="replicate" if padding == "replicate" else "constant"
    )
    wt = torch.from_numpy(np.moveaxis(kernel, (-1, -2), (0, 1)).copy())
    theirs = TORCH_CONV[n](xt, wt, stride=strides, dilation=dilation, groups=groups)
    np.testing.assert_allclose(ours, _from_torch(theirs), rtol=1e-4, atol=1e-4)
    assert ours.shape[1:-1] == C.conv_output_shape(
        spatial, kernel_size, strides=strides, padding=padding, dilation=dilation
    )


def test_conv_module_is_flax_conv_plus_flip_and_replicate():
    x = jnp.asarray(_rand(2, 6, 7, 3))
    layer = C.Conv(features=4, kernel_size=(3, 2), strides=(1, 2), padding="zero")
    variables = jax.jit(layer.init)(jax.random.key(0), x)
    reference = nn.Conv(4, (3, 2), strides=(1, 2), padding="SAME")
    np.testing.assert_allclose(
        jax.jit(layer.apply)(variables, x),
        jax.jit(reference.apply)({"params": variables["params"]["conv"]}, x),
        rtol=1e-5,
        atol=1e-5,
    )
    params = variables["params"]["conv"]
    for flip, fn in ((True, C.convolve), (False, C.cross_correlate)):
        layer = C.Conv(4, (3, 2), padding="replicate", flip=flip, dilation=(1, 2))
        np.testing.assert_allclose(
            jax.jit(layer.apply)(variables, x),
            fn(x, params["kernel"], padding="replicate", dilation=(1, 2))
            + params["bias"].reshape(1, 1, 1, -1),
            rtol=1e-5,
            atol=1e-5,
        )


def test_pooling_matches_torch():
    x = _rand(2, 7, 8, 3)
    xt = _to_torch(x)
    F = torch.nn.functional
    cases = [
        (C.max_pool(x, (3, 3), strides=2), F.max_pool2d(xt, 3, stride=2)),
        (
            C.max_pool(x, (3, 2), strides=(2, 1), padding=1),
            F.max_pool2d(xt, (3, 2), (2, 1), padding=1),
        ),
        (C.avg_pool(x, (2, 2)), F.avg_pool2d(xt, 2)),
        (C.avg_pool(x, (3, 3), strides=2, padding=1), F.avg_pool2d(xt, 3, 2, padding=1)),
        (
            C.avg_pool(x, (3, 3), strides=2, padding=1, count_include_pad=False),
            F.avg_pool2d(xt, 3, 2, padding=1, count_include_pad=False),
        ),
    ]
    for ours, theirs in cases:
        np.testing.assert_allclose(ours, _from_torch(theirs), rtol=1e-5, atol=1e-5)
    x1 = _rand(1, 9, 2)
    np.testing.assert_allclose(
        C.max_pool(x1, (2,), strides=3, padding=1),
        _from_torch(F.max_pool1d(_to_torch(x1), 2, 3, padding=1)),
    )
    x3 = _rand(1, 4, 5, 6, 2)
    np.testing.assert_allclose(
        C.avg_pool(x3, (2, 2, 3), strides=(2, 1, 3)),
        _from_torch(F.avg_pool3d(_to_torch(x3), (2, 2, 3), (2, 1, 3))),
        rtol=1e-5,
        atol=1e-6,
    )
    # replicate padding: the border value, never a zero or -inf
    ramp = jnp.arange(4.0).reshape(1, 4, 1)
    np.testing.assert_allclose(
        C.avg_pool(ramp, (3,), 1, "replicate")[0, :, 0], [1 / 3, 1, 2, 8 / 3]
    )
    assert C.global_avg_pool(x).shape == (2, 3)
    np.testing.assert_allclose(C.global_max_pool(x), x.max(axis=(1, 2)))


def test_locally_connected_tied_equals_convolution_and_counts_params():
    x = jnp.asarray(_rand(2, 6, 5, 2))
    layer = C.LocallyConnected(features=3, kernel_size=(3, 2), padding="replicate")
    variables = jax.jit(layer.init)(jax.random.key(0), x)
    kernel_shape = variables["params"]["conv"]["kernel"].shape
    assert kernel_shape == (6, 5, 2 * 3 * 2, 3)
    assert sum(v.size for v in jax.tree.leaves(variables)) == C.locally_connected_num_params(
        (6, 5), (3, 2), 2, 3
    )
    shared = _rand(3, 2, 2, 3)
    bias = _rand(3)
    tied = {
        "params": {
            "conv": {
                "kernel": C.tie_locally_connected_kernel(shared, (6, 5)),
                "bias": jnp.broadcast_to(bias, (6, 5, 3)),
            }
        }
    }
    apply = jax.jit(layer.apply)
    np.testing.assert_allclose(
        apply(tied, x),
        C.cross_correlate(x, shared, padding="replicate") + bias.reshape(1, 1, 1, -1),
        rtol=1e-5,
        atol=1e-5,
    )
    # a constant image: the tied layer answers the same everywhere, the untied one does not
    flat = jnp.ones_like(x)
    tied_out, untied_out = np.asarray(apply(tied, flat)), np.asarray(apply(variables, flat))
    np.testing.assert_allclose(tied_out, np.broadcast_to(tied_out[:, :1, :1], tied_out.shape))
    assert np.ptp(untied_out[0, :, :, 0]) > 0.1


# ---------------------------------------------------------------- gradients


def test_gradients_float64():
    x = jnp.asarray(RNG.standard_normal((1, 6, 5, 2)))
    kernel = jnp.asarray(RNG.standard_normal((2, 3, 2, 2)))

    def loss(params):
        y = C.convolve(
            params["x"], params["k"], strides=(2, 1), dilation=(1, 2), padding="replicate"
        )
        y = C.max_pool(jnp.tanh(y), (2, 2), strides=1, padding="zero")
        return jnp.sum(C.avg_pool(y, (2, 1), padding=1) ** 2)

    assert_grads_close(
        loss, {"x": x, "k": kernel}, mode="directions", num_samples=4, key=jax.random.key(0)
    )


# ---------------------------------------------------------------- properties


@settings(max_examples=8)
@given(shift=st.tuples(st.integers(0, 4), st.integers(0, 4)), seed=st.integers(0, 2**16))
def test_convolution_is_translation_equivariant(shift, seed):
    rng = np.random.default_rng(seed)
    big, kernel = rng.standard_normal((1, 14, 14, 2)), rng.standard_normal((3, 3, 2, 2))
    a, b = shift
    x = big[:, 4:14, 4:14]  # the image
    moved = big[:, 4 - a : 14 - a, 4 - b : 14 - b]  # the same scene moved by (a, b)
    y, y_moved = C.convolve(x, kernel), C.convolve(moved, kernel)
    np.testing.assert_allclose(y_moved[:, a:, b:], y[:, : 8 - a, : 8 - b], rtol=1e-4, atol=1e-4)
    p, p_moved = C.max_pool(x, (3, 3), strides=1), C.max_pool(moved, (3, 3), strides=1)
    np.testing.assert_allclose(p_moved[:, a:, b:], p[:, : 8 - a, : 8 - b])


@settings(max_examples=8)
@given(
    position=st.tuples(st.integers(0, 11), st.integers(0, 11)),
    shift=st.tuples(st.integers(-1, 1), st.integers(-1, 1)),
)
def test_pooling_is_approximately_translation_invariant(position, shift):
    # One detected feature moved by at most a pixel: a 4x4 stride-4 max-pool changes at most
    # the cells the feature leaves and enters; global pooling does not change at all.
    def image(i, j):
        return jnp.zeros((1, 12, 12, 1)).at[0, i % 12, j % 12, 0].set(1.0)

    (i, j), (a, b) = position, shift
    x, moved = image(i, j), image(i + a, j + b)
    changed = np.sum(np.asarray(C.max_pool(x, (4, 4))) != np.asarray(C.max_pool(moved, (4, 4))))
    same_cell = (i // 4, j // 4) == (((i + a) % 12) // 4, ((j + b) % 12) // 4)
    assert changed == (0 if same_cell else 2)
    np.testing.assert_array_equal(C.global_max_pool(x), C.global_max_pool(moved))
    np.testing.assert_allclose(C.global_avg_pool(x), C.global_avg_pool(moved))


# ---------------------------------------------------------------- the course's numbers


def test_course_cost_comparison_and_shape_facts():
    cost = C.conv_cost((320, 280), (2, 1))
    assert cost.output_shape == (319, 280)
    assert (cost.conv_floats, cost.dense_floats, cost.sparse_floats) == (2, 8_003_072_000, 178_640)
    assert cost.conv_ops == 267_960 and cost.dense_ops > 16e9
    # the sparse matrix of the convolution, built explicitly on a small input, has the counts
    small = C.conv_cost((5, 4), (2, 1))
    dense = np.zeros((4 * 4, 5 * 4))
    for r in range(4):
        for c in range(4):
            dense[r * 4 + c, r * 4 + c] = 1.0
            dense[r * 4 + c, (r + 1) * 4 + c] = 2.0
    assert (np.count_nonzero(dense), dense.size) == (small.sparse_floats, small.dense_floats)
    x = _rand(1, 5, 4, 1)
    np.testing.assert_allclose(
        (dense @ x.reshape(-1)).reshape(4, 4),
        C.cross_correlate(x, np.array([1.0, 2.0], np.float32).reshape(2, 1, 1, 1))[0, ..., 0],
        rtol=1e-5,
    )
    assert C.num_inputs(224, 224, 3) == 150_528
    dilated = C.dilate_kernel(jnp.array([1.0, 2.0, 3.0]), 2)
    assert dilated.shape == (5,) and dilated[1] == dilated[3] == 0
    assert int(jnp.count_nonzero(dilated)) == 3
    # dilated convolution == convolution with the zero-filled kernel
    x1 = _rand(1, 9, 1)
    np.testing.assert_allclose(
        C.cross_correlate(x1, np.array([1.0, 2.0, 3.0], np.float32).reshape(3, 1, 1), dilation=2),
        C.cross_correlate(x1, np.asarray(dilated).reshape(5, 1, 1)),
        rtol=1e-5,
    )
    # the slides: 28x28 with 5x5 -> 24x24; 3 filters: 75 weights and 1,728 hidden units
    layer = C.Conv(features=3, kernel_size=(5, 5), use_bias=False)
    shapes = jax.eval_shape(layer.init, jax.random.key(0), jnp.zeros((1, 28, 28, 1)))
    assert shapes["params"]["conv"]["kernel"].size == 75
    out = jax.eval_shape(lambda v, x: layer.apply(v, x), shapes, jnp.zeros((1, 28, 28, 1)))
    assert out.shape[1:3] == (24, 24) and np.prod(out.shape[1:]) == 1_728
    assert C.conv_output_size(28, 5, stride=2) == 12 and C.conv_output_size(12, 3, stride=2) == 5
    assert C.conv_output_size(10, 3, padding="zero") == 10
    assert C.conv_output_size(10, 3, padding=(2, 0), dilation=2, stride=3) == 3


def test_clear_errors():
    x, k = jnp.ones((1, 4, 4, 2)), jnp.ones((5, 3, 2, 1))
    with pytest.raises(ValueError, match=r"spans 5 positions .* larger than the padded input"):
        C.cross_correlate(x, k)
    assert C.cross_correlate(x, k, padding="zero").shape == (1, 4, 4, 1)  # zero padding fits
    with pytest.raises(ValueError, match="strides must be > 0, got 0"):
        C.convolve(x, jnp.ones((3, 3, 2, 1)), strides=0)
    with pytest.raises(ValueError, match="dilation must be > 0, got -1"):
        C.convolve(x, jnp.ones((3, 3, 2, 1)), dilation=(1, -1))
    with pytest.raises(ValueError, match="channel mismatch: x has 2 channels"):
        C.convolve(x, jnp.ones((3, 3, 3, 1)))
    with pytest.raises(ValueError, match="channel mismatch"):
        C.Conv(features=3, kernel_size=(3, 3), groups=2).init(jax.random.key(0), x)
    with pytest.raises(ValueError, match="padding must be one of"):
        C.max_pool(x, (2, 2), padding="same")
    with pytest.raises(ValueError, match="larger than the padded input"):
        C.max_pool(x, (5, 1))
