"""Contracts of the dropout sampler on random shapes and keep probabilities (hypothesis).

The kept fraction is checked against its binomial law (5 standard deviations of the
fraction, on thousands of units, with derandomized keys); the values against the two
training rules; the inverted rule keeps the mean; a broadcast axis shares one mask value.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from jaxdl.sampling.dropout import dropout, dropout_inference
from jaxdl.testing import strategies as jst

UNITS = 4096  # a trailing axis of this many units gives the statistics their sample size

small_shapes = jst.shapes(min_rank=0, max_rank=2, max_side=3)
keep_probabilities = st.floats(0.1, 0.95)


@functools.partial(jax.jit, static_argnames=("rule", "broadcast_axes"))
def _dropout(key, x, keep, rule="inverted", broadcast_axes=()):
    return dropout(key, x, keep, rule=rule, broadcast_axes=broadcast_axes)


def _binomial_tolerance(p, n):
    return 5.0 * np.sqrt(p * (1.0 - p) / n) + 1.0 / n


@given(jst.keys(), small_shapes, keep_probabilities, st.sampled_from(["inverted", "classic"]))
def test_kept_fraction_and_values_follow_the_rule(key, shape, keep, rule):
    x = jnp.full((*shape, UNITS), 3.0)
    h = np.asarray(_dropout(key, x, jnp.float32(keep), rule=rule))
    assert h.shape == x.shape and h.dtype == np.float32
    kept = h != 0.0
    scale = 3.0 / np.float32(keep) if rule == "inverted" else 3.0
    np.testing.assert_allclose(h[kept], scale, rtol=1e-6)  # kept units: x / p or x
    fraction = kept.mean()
    assert abs(fraction - keep) <= _binomial_tolerance(keep, kept.size), (fraction, keep)


@given(
    jst.keys(),
    jst.float_arrays(shape=small_shapes, min_value=-2.0, max_value=2.0),
    keep_probabilities,
)
def test_inverted_rule_keeps_the_expected_activation(key, x, keep):
    """E[dropout(x)] = x for the inverted rule, matching dropout_inference (the identity)."""
    samples = _dropout(key, jnp.broadcast_to(x[..., None], (*x.shape, UNITS)), jnp.float32(keep))
    mean = np.asarray(samples).mean(axis=-1)
    spread = np.abs(np.asarray(x)) * np.sqrt((1.0 - keep) / keep) / np.sqrt(UNITS)
    assert np.all(np.abs(mean - np.asarray(x)) <= 5.0 * spread + 1e-5)
    np.testing.assert_array_equal(dropout_inference(x, keep, rule="inverted"), x)
    np.testing.assert_allclose(
        dropout_inference(x, keep, rule="classic"),
        np.asarray(x) * np.float32(keep),
        rtol=1e-6,
        atol=1e-30,
    )


@given(jst.keys(), st.sampled_from([(0,), (1,), (0, 1)]), keep_probabilities)
def test_broadcast_axes_share_one_mask_value(key, axes, keep):
    x = jnp.ones((3, 4, 256))
    h = np.asarray(_dropout(key, x, jnp.float32(keep), broadcast_axes=axes)) != 0.0
    reference = h[tuple(slice(0, 1) if axis in axes else slice(None) for axis in range(3))]
    np.testing.assert_array_equal(h, np.broadcast_to(reference, h.shape))


@given(jst.keys(), small_shapes)
def test_keep_probability_one_is_the_identity(key, shape):
    x = jnp.arange(int(np.prod(shape)), dtype=jnp.float32).reshape(shape)
    np.testing.assert_array_equal(_dropout(key, x, jnp.float32(1.0)), x)
