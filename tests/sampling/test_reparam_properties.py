"""Contracts of the reparametrized samplers on random shapes and parameters (hypothesis).

Statistics are checked with tolerances from the sample size (5 standard errors, with
derandomized keys): the normal's sample mean and spread, the Gumbel-max, categorical and
Bernoulli frequencies against their probabilities; and the reparametrization itself:
``dz/dmean = 1`` and ``dz/dstd = eps`` for a fixed key.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from jaxdl.sampling import reparam
from jaxdl.testing import strategies as jst

NUM_SAMPLES = 4096
param_shapes = jst.shapes(min_rank=0, max_rank=2, max_side=3)


def _frequency_tolerance(p, n=NUM_SAMPLES):
    return 5.0 * np.sqrt(p * (1.0 - p) / n) + 1.0 / n


@jax.jit
def _normal_samples(key, mean, std):
    mean = jnp.broadcast_to(mean, (NUM_SAMPLES, *mean.shape))
    return reparam.normal(key, mean, std)


@st.composite
def normal_parameters(draw):
    shape = draw(param_shapes)
    mean = draw(jst.float_arrays(shape=shape, min_value=-5.0, max_value=5.0))
    std = draw(jst.float_arrays(shape=shape, min_value=0.1, max_value=3.0))
    return mean, std


@given(jst.keys(), normal_parameters())
def test_normal_sample_mean_and_spread(key, params):
    mean, std = params
    z = np.asarray(_normal_samples(key, mean, std), np.float64)
    assert z.shape == (NUM_SAMPLES, *mean.shape)
    mean64, std64 = np.asarray(mean, np.float64), np.asarray(std, np.float64)
    assert np.all(np.abs(z.mean(0) - mean64) <= 5.0 * std64 / np.sqrt(NUM_SAMPLES))
    # the sample standard deviation has standard error std / sqrt(2 n)
    assert np.all(np.abs(z.std(0) - std64) <= 5.0 * std64 / np.sqrt(2 * NUM_SAMPLES))


@jax.jit
def _normal_jacobians(key, mean, std):
    def draw(m, s):
        return reparam.normal(jax.random.clone(key), m, s)

    z = draw(mean, std)
    d_mean = jax.grad(lambda m: jnp.sum(draw(m, std)))(mean)
    d_std = jax.grad(lambda s: jnp.sum(draw(mean, s)))(std)
    return z, d_mean, d_std


@given(jst.keys(), normal_parameters())
def test_normal_is_reparametrized(key, params):
    """For a fixed key z = mean + std * eps: dz/dmean = 1 and dz/dstd = eps = (z - mean) / std."""
    mean, std = params
    z, d_mean, d_std = _normal_jacobians(key, mean, std)
    np.testing.assert_array_equal(d_mean, np.ones(mean.shape))
    eps = (np.asarray(z, np.float64) - np.asarray(mean, np.float64)) / np.asarray(std, np.float64)
    np.testing.assert_allclose(d_std, eps, rtol=1e-4, atol=1e-4)


@functools.partial(jax.jit, static_argnames="sampler")
def _draws(key, parameters, sampler):
    return getattr(reparam, sampler)(key, parameters, (NUM_SAMPLES,))


@st.composite
def categorical_distributions(draw):
    k = draw(st.integers(2, 5))
    return draw(jst.probability_vectors(k, min_probability=0.05))


@given(jst.keys(), categorical_distributions())
def test_gumbel_max_frequencies_are_the_softmax(key, p):
    """argmax(logits + Gumbel noise) ~ softmax(logits): logits are log p plus any constant."""
    logits = jnp.log(p) + 3.0
    x = np.asarray(_draws(key, logits, "gumbel_max"))
    assert x.shape == (NUM_SAMPLES,) and x.dtype == np.int32
    frequencies = np.bincount(x, minlength=p.shape[0]) / NUM_SAMPLES
    expected = np.asarray(jax.nn.softmax(logits), np.float64)
    assert np.all(np.abs(frequencies - expected) <= _frequency_tolerance(expected)), (
        frequencies,
        expected,
    )


@given(jst.keys(), categorical_distributions())
def test_categorical_frequencies_are_the_probabilities(key, p):
    x = np.asarray(_draws(key, p, "categorical"))
    assert x.min() >= 0 and x.max() < p.shape[0]
    frequencies = np.bincount(x, minlength=p.shape[0]) / NUM_SAMPLES
    expected = np.asarray(p, np.float64)
    assert np.all(np.abs(frequencies - expected) <= _frequency_tolerance(expected)), (
        frequencies,
        expected,
    )


@given(jst.keys(), st.floats(0.0, 1.0))
def test_bernoulli_frequency_is_the_probability(key, probability):
    x = np.asarray(_draws(key, jnp.float32(probability), "bernoulli"))
    assert set(np.unique(x)) <= {0.0, 1.0}
    p = float(np.float32(probability))
    assert abs(x.mean() - p) <= _frequency_tolerance(p)


@jax.jit
def _relaxed(key, logits, temperature):
    soft = reparam.gumbel_softmax(jax.random.clone(key), logits, temperature)
    hard = reparam.gumbel_softmax(key, logits, temperature, hard=True)
    return soft, hard


@given(
    jst.keys(),
    jst.float_arrays(
        shape=st.sampled_from([(2,), (3, 4), (2, 2, 5)]), min_value=-4.0, max_value=4.0
    ),
    st.floats(0.1, 5.0),
)
def test_gumbel_softmax_lies_on_the_simplex_and_hard_is_its_argmax(key, logits, temperature):
    soft, hard = _relaxed(key, logits, jnp.float32(temperature))
    soft, hard = np.asarray(soft), np.asarray(hard)
    assert soft.shape == hard.shape == logits.shape
    assert np.all(soft >= 0.0)
    np.testing.assert_allclose(soft.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(hard.sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(hard.argmax(-1), soft.argmax(-1))  # same noise, same argmax
    assert set(np.unique(np.round(hard, 5))) <= {0.0, 1.0}
