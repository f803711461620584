"""Activation statistics, dead ReLUs, worst mistakes, the overfit-a-small-batch check."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn.inspect import (
    activation_statistics,
    dead_unit_fraction,
    worst_mistakes,
)
from jaxdl.testing import assert_jit_matches_eager
from tests._fixtures import TinyReLUNet


def test_dead_unit_fraction_matches_numpy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 8)) - 0.8
    a[:, 2] = -1.0  # a certainly dead unit
    expected = np.mean(np.all(a <= 0, axis=0))
    assert float(dead_unit_fraction(jnp.asarray(a))) == pytest.approx(expected)
    assert float(dead_unit_fraction(jnp.asarray(a)[None])) == pytest.approx(expected)
    with pytest.raises(ValueError, match="activations must have rank"):
        dead_unit_fraction(jnp.ones(3))


def test_activation_statistics_of_a_relu_network(key):
    x = jax.random.normal(key, (16, 4))
    model = TinyReLUNet()
    variables = jax.jit(model.init)(jax.random.key(1), x)
    stats = activation_statistics(model, variables, x, num_bins=5)
    assert {"hidden_dense/__call__", "output_dense/__call__", "hidden", "__call__"} <= set(stats)
    params = variables["params"]["hidden_dense"]
    z = np.asarray(x) @ np.asarray(params["kernel"]) + np.asarray(params["bias"])
    pre = stats["hidden_dense/__call__"]
    np.testing.assert_allclose(pre.mean, z.mean(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(pre.std, z.std(), rtol=1e-5)
    counts, edges = np.histogram(z, bins=5)
    np.testing.assert_array_equal(pre.histogram_counts, counts)
    np.testing.assert_allclose(pre.histogram_edges, edges, rtol=1e-5, atol=1e-6)
    hidden = stats["hidden"]
    relu = np.maximum(z, 0)
    assert float(hidden.fraction_zero) == pytest.approx(np.mean(relu == 0))
    assert float(hidden.dead_fraction) == pytest.approx(np.mean(np.all(z <= 0, axis=0)))
    assert float(hidden.minimum) == 0.0


def test_biases_far_below_zero_kill_every_relu(key):
    x = jax.random.normal(key, (32, 4))
    model = TinyReLUNet()
    variables = jax.jit(model.init)(jax.random.key(2), x)
    dead = jax.tree_util.tree_map_with_path(
        lambda path, v: v - 100.0 if "hidden_dense" in str(path) and "bias" in str(path) else v,
        variables,
    )
    alive = jax.tree_util.tree_map_with_path(
        lambda path, v: v + 100.0 if "hidden_dense" in str(path) and "bias" in str(path) else v,
        variables,
    )
    assert float(activation_statistics(model, dead, x)["hidden"].dead_fraction) == 1.0
    assert float(activation_statistics(model, alive, x)["hidden"].dead_fraction) == 0.0


def test_activation_statistics_filter_and_errors(key):
    x = jax.random.normal(key, (4, 4))
    model = TinyReLUNet()
    variables = jax.jit(model.init)(jax.random.key(3), x)
    only_dense = activation_statistics(
        model, variables, x, capture=lambda module, method: isinstance(module, nn.Dense)
    )
    assert set(only_dense) == {"hidden_dense/__call__", "output_dense/__call__", "hidden"}
    # unhashable apply arguments still work (compiled without the cache)
    with_rngs = activation_statistics(model, variables, x, rngs={"dropout": jax.random.key(4)})
    np.testing.assert_allclose(with_rngs["hidden"].mean, only_dense["hidden"].mean, rtol=1e-6)
    with pytest.raises(ValueError, match="num_bins must be > 0"):
        activation_statistics(model, variables, x, num_bins=0)
    with pytest.raises(ValueError, match="x must hold at least one example"):
        activation_statistics(model, variables, jnp.ones((0, 4)))


def test_worst_mistakes_matches_a_numpy_ranking(key):
    logits = jax.random.normal(key, (40, 5)) * 3
    labels = jnp.asarray(np.random.default_rng(1).integers(0, 5, size=40), jnp.int32)
    result = worst_mistakes(logits, labels, k=4)
    probs = np.asarray(jax.nn.softmax(logits))
    predicted = probs.argmax(-1)
    wrong = np.flatnonzero(predicted != np.asarray(labels))
    order = wrong[np.argsort(-probs[wrong].max(-1), kind="stable")][:4]
    np.testing.assert_array_equal(result.indices, order)
    np.testing.assert_allclose(result.confidences, probs[order].max(-1), rtol=1e-6)
    np.testing.assert_array_equal(result.predicted, predicted[order])
    np.testing.assert_array_equal(result.labels, np.asarray(labels)[order])
    assert bool(jnp.all(result.valid))
    assert_jit_matches_eager(lambda lg, lb: worst_mistakes(lg, lb, 4), logits, labels)


def test_worst_mistakes_pads_when_there_are_few_mistakes():
    logits = jnp.array([[2.0, 0.0], [0.0, 2.0], [1.0, 0.0]])
    result = worst_mistakes(logits, jnp.array([0, 0, 0]), k=3)
    np.testing.assert_array_equal(result.indices, [1, -1, -1])
    np.testing.assert_array_equal(result.valid, [True, False, False])
    np.testing.assert_array_equal(result.labels, [0, -1, -1])


@pytest.mark.parametrize(
    ("logits", "labels", "k", "error", "match"),
    [
        (jnp.ones((3, 2)), jnp.zeros(3, jnp.int32), 4, ValueError, "k must be at most"),
        (jnp.ones((3, 2)), jnp.zeros(3, jnp.int32), 0, ValueError, "k must be > 0"),
        (jnp.ones((3, 2)), jnp.zeros(3), 1, TypeError, "labels must have an integer dtype"),
        (jnp.ones(3), jnp.zeros(3, jnp.int32), 1, ValueError, "logits must have rank 2"),
        (jnp.ones((3, 2)), jnp.zeros(2, jnp.int32), 1, ValueError, "same number of rows"),
    ],
)
def test_worst_mistakes_bad_input(logits, labels, k, error, match):
    with pytest.raises(error, match=match):
        worst_mistakes(logits, labels, k)
