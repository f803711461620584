"""Property tests of the hypothesis strategies: every drawn value is valid."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.nn.activations import ACTIVATIONS, get_activation
from jaxdl.testing import assert_grads_close
from jaxdl.testing import strategies as jst


@given(jst.shapes(min_rank=1, max_rank=3, min_side=2, max_side=4))
def test_shapes_respect_bounds(shape):
    assert 1 <= len(shape) <= 3
    assert all(2 <= side <= 4 for side in shape)


@given(jst.float_arrays(dtype=jst.float_dtypes(include_half=True), min_value=-3.0, max_value=2.0))
def test_float_arrays_are_finite_and_in_range(x):
    assert isinstance(x, jax.Array)
    assert x.dtype in (jnp.float32, jnp.float16, jnp.bfloat16)
    values = np.asarray(x, dtype=np.float64)
    assert np.all(np.isfinite(values))
    assert np.all((values >= -3.0) & (values <= 2.0))


@given(jst.float_arrays(shape=(2, 3), min_value=0.1, max_value=0.3, as_jax=False))
def test_float_arrays_fixed_shape_unrepresentable_bounds(x):
    assert isinstance(x, np.ndarray) and x.shape == (2, 3) and x.dtype == np.float32
    assert np.all((x >= 0.1) & (x <= 0.3))


@settings(max_examples=5)
@given(jst.float_arrays(shape=(3,), dtype=np.float64, as_jax=False))
def test_float_arrays_float64(x):
    assert x.dtype == np.float64 and np.all(np.isfinite(x))


@settings(max_examples=5)
@given(jst.keys())
def test_keys_are_typed_and_usable(key):
    assert jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    assert jax.random.uniform(key, (2,)).shape == (2,)


@given(st.data())
def test_activation_names(data):
    name = data.draw(jst.activation_names())
    assert name in ACTIVATIONS and name not in ("step", "sign", "logistic", "identity")
    any_name = data.draw(jst.activation_names(differentiable_only=False, include_aliases=True))
    assert any_name in ACTIVATIONS


@given(jst.mlp_configs(max_hidden_layers=3, max_width=5))
def test_mlp_configs_are_consistent(config):
    assert 1 <= config.num_inputs <= 5
    assert len(config.activations) == len(config.features) - 1 <= 3
    assert all(1 <= width <= 5 for width in config.features[:-1])
    assert config.output in jst.OUTPUT_UNITS
    if config.output == "softmax":
        assert config.features[-1] >= 2


@settings(max_examples=4)
@given(jst.mlp_configs(max_inputs=3, max_hidden_layers=2, max_width=3, max_outputs=2), jst.keys())
def test_mlp_configs_give_checkable_networks(config, key):
    """The intended use: draw an architecture, build it, check its gradients."""
    sizes = (config.num_inputs, *config.features)
    layer_keys = jax.random.split(key, len(sizes))
    params = [
        (jax.random.normal(k, (n_in, n_out)) / n_in, jnp.zeros(n_out))
        for k, n_in, n_out in zip(layer_keys[1:], sizes[:-1], sizes[1:], strict=True)
    ]
    x = jax.random.normal(layer_keys[0], (2, config.num_inputs))
    activations = [get_activation(name) for name in config.activations]

    def loss(params, x):
        h = x
        for (w, b), phi in zip(params[:-1], activations, strict=True):
            h = phi(h @ w + b[None, :])
        w, b = params[-1]
        return jnp.sum(jax.nn.log_softmax(h @ w + b[None, :]) ** 2)

    # Kinks of relu / leaky_relu are measure-zero for Gaussian data; tolerate 1e-4.
    assert_grads_close(loss, params, x, rtol=1e-4)


@given(st.integers(1, 6).flatmap(lambda k: st.tuples(st.just(k), jst.probability_vectors(k))))
def test_probability_vectors(k_and_p):
    k, p = k_and_p
    assert p.shape == (k,) and p.dtype == jnp.float32
    assert bool(jnp.all(p > 0))
    np.testing.assert_allclose(float(jnp.sum(p)), 1.0, rtol=1e-5)


@given(jst.probability_vectors(jst.shapes(1, 1, 2, 4).map(lambda s: s[0]), min_probability=0.0))
def test_probability_vectors_length_strategy_and_zero_floor(p):
    assert 2 <= p.shape[0] <= 4
    assert bool(jnp.all(p >= 0))
    np.testing.assert_allclose(float(jnp.sum(p)), 1.0, rtol=1e-5)


def test_strategy_errors():
    with pytest.raises(ValueError, match="max_rank must be >= min_rank=2, got 1"):
        jst.shapes(min_rank=2, max_rank=1)
    with pytest.raises(ValueError, match="max_side must be >= min_side=3, got 2"):
        jst.shapes(min_side=3, max_side=2)
    with pytest.raises(ValueError, match="max_value must be >= min_value=1.0, got 0.0"):
        jst.float_arrays(min_value=1.0, max_value=0.0)
    with pytest.raises(ValueError, match="output_units must be a non-empty subset"):
        jst.mlp_configs(output_units=("tanh",))
    with pytest.raises(ValueError, match="softmax output needs max_outputs >= 2"):
        jst.mlp_configs(max_outputs=1)
    with pytest.raises(ValueError, match=r"min_probability must lie in \[0, 1\), got 1.0"):
        jst.probability_vectors(3, min_probability=1.0)
    with pytest.raises(ValueError, match="k must be > 0"):
        jst.probability_vectors(0)


def test_float_arrays_rejects_integer_dtype():
    with pytest.raises(TypeError, match="dtype must be a floating dtype, got int32"):
        jst.float_arrays(shape=(2,), dtype=np.int32)


@given(st.data())
def test_float_arrays_rejects_drawn_integer_dtype(data):
    with pytest.raises(TypeError, match="dtype must be a floating dtype, got int8"):
        data.draw(jst.float_arrays(shape=(2,), dtype=st.just(np.dtype(np.int8))))


def test_package_does_not_import_hypothesis():
    """jaxdl.testing stays importable without the hypothesis test extra."""
    import subprocess
    import sys

    code = (
        "import sys; import jaxdl.testing; "
        "assert 'hypothesis' not in sys.modules, 'hypothesis was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@given(st.data())
def test_class_labels(data):
    k = data.draw(st.integers(1, 5))
    y = data.draw(jst.class_labels(k, shape=jst.shapes(min_rank=1, max_rank=2, min_side=0)))
    assert isinstance(y, jax.Array) and y.dtype == jnp.int32
    assert bool(jnp.all((y >= 0) & (y < k)))
    drawn_k = data.draw(jst.class_labels(st.integers(2, 3), shape=(6,), as_jax=False))
    assert isinstance(drawn_k, np.ndarray) and drawn_k.shape == (6,) and drawn_k.max() < 3
    with pytest.raises(ValueError, match="num_classes"):
        jst.class_labels(0, shape=(2,))
