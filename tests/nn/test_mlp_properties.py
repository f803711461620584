"""Invariants of the MLP on random architectures (hypothesis).

For random depths, widths, hidden activations and output units: the output shape, the
range of the output unit, the parameter count, that the output unit is applied to the
logits, and that examples are processed independently (row i of a batch is the network
applied to example i alone). Each example compiles one function (init and applies
together), on small widths.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.nn import MLP
from jaxdl.nn.mlp import count_params, mlp_num_params
from jaxdl.testing import strategies as jst


def build(config):
    return MLP(features=config.features, activation=list(config.activations), output=config.output)


@settings(max_examples=8)  # each example compiles a new network
@given(jst.mlp_configs(max_hidden_layers=3, max_width=5), st.sampled_from([1, 4]), jst.keys())
def test_mlp_shapes_ranges_and_row_independence(config, batch, key):
    model = build(config)
    init_key, data_key = jax.random.split(key)

    @jax.jit
    def run(init_key, data_key):
        x = jax.random.normal(data_key, (batch, config.num_inputs))
        variables = model.init(init_key, x)
        outputs = model.apply(variables, x)
        logits = model.apply(variables, x, return_logits=True)
        last_alone = model.apply(variables, x[-1])  # one example, no batch axis
        return variables, outputs, logits, last_alone

    variables, outputs, logits, last_alone = run(init_key, data_key)
    num_outputs = config.features[-1]
    assert outputs.shape == logits.shape == (batch, num_outputs)
    assert outputs.dtype == jnp.float32 and bool(jnp.all(jnp.isfinite(outputs)))
    assert count_params(variables) == mlp_num_params((config.num_inputs, *config.features))
    np.testing.assert_allclose(last_alone, outputs[-1], rtol=1e-5, atol=1e-6)
    if config.output == "softmax":
        assert bool(jnp.all(outputs >= 0.0))
        np.testing.assert_allclose(outputs.sum(-1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(outputs, jax.nn.softmax(logits), rtol=1e-5, atol=1e-7)
    elif config.output == "sigmoid":
        assert bool(jnp.all((outputs >= 0.0) & (outputs <= 1.0)))
        np.testing.assert_allclose(outputs, jax.nn.sigmoid(logits), rtol=1e-5, atol=1e-7)
    else:
        np.testing.assert_array_equal(outputs, logits)


@settings(max_examples=4)
@given(jst.mlp_configs(max_hidden_layers=2, max_width=4, output_units=("linear",)), jst.keys())
def test_mlp_leading_axes_are_batch_axes(config, key):
    """Extra leading axes are mapped over: apply on [2, 3, n] equals vmap of apply on [3, n]."""
    model = build(config)
    init_key, data_key = jax.random.split(key)

    @jax.jit
    def run(init_key, data_key):
        x = jax.random.normal(data_key, (2, 3, config.num_inputs))
        variables = model.init(init_key, x[0])
        return model.apply(variables, x), jax.vmap(lambda xi: model.apply(variables, xi))(x)

    stacked, mapped = run(init_key, data_key)
    assert stacked.shape == (2, 3, config.features[-1])
    np.testing.assert_allclose(stacked, mapped, rtol=1e-5, atol=1e-6)
