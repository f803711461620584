"""Positional encodings (the course's table), learned positions, tied token embeddings."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn.embeddings import (
    LearnedPositionalEmbedding,
    SinusoidalPositionalEncoding,
    TokenEmbedding,
    sinusoidal_positional_encoding,
)

# The course's table: d = 4, n = 100, positions k = 0..3 (two decimals).
COURSE_TABLE = [
    [0.0, 1.0, 0.0, 1.0],
    [0.84, 0.54, 0.10, 1.0],
    [0.91, -0.42, 0.20, 0.98],
    [0.14, -0.99, 0.30, 0.96],
]


def test_course_table_d4_n100():
    table = sinusoidal_positional_encoding(4, 4, base=100.0)
    np.testing.assert_allclose(np.asarray(table), COURSE_TABLE, atol=0.006)


@pytest.mark.parametrize("features", [6, 7])
def test_formula_against_numpy_and_rotation_property(features):
    n, positions = 37.0, 9
    table = np.asarray(sinusoidal_positional_encoding(positions, features, base=n))
    for k in range(positions):
        for j in range(features):
            omega = 1.0 / n ** ((j - j % 2) / features)
            expected = np.sin(k * omega) if j % 2 == 0 else np.cos(k * omega)
            assert table[k, j] == pytest.approx(expected, abs=1e-6)
    # PE(k + 1) is a fixed rotation of PE(k) in every (sin, cos) pair.
    even = features - features % 2
    pairs = table[:, :even].reshape(positions, -1, 2)
    omega = 1.0 / n ** (np.arange(0, even, 2) / features)
    c, s = np.cos(omega), np.sin(omega)
    rotated = np.stack(
        [pairs[:-1, :, 0] * c + pairs[:-1, :, 1] * s, pairs[:-1, :, 1] * c - pairs[:-1, :, 0] * s],
        axis=-1,
    )
    np.testing.assert_allclose(rotated, pairs[1:], atol=1e-5)


def test_sinusoidal_layer_adds_the_table_with_an_offset():
    layer = SinusoidalPositionalEncoding(max_length=10, base=100.0)
    x = jnp.ones((2, 3, 4))
    out = layer.apply({}, x, 4)
    np.testing.assert_allclose(out[0], 1.0 + sinusoidal_positional_encoding(10, 4, 100.0)[4:7])


def test_sequences_longer_than_the_table_are_refused():
    with pytest.raises(ValueError, match="longer than the positional table .max_length=4."):
        SinusoidalPositionalEncoding(max_length=4).apply({}, jnp.ones((1, 5, 2)))
    layer = LearnedPositionalEmbedding(max_length=4)
    with pytest.raises(ValueError, match="length 6, longer than the positional table"):
        layer.init(jax.random.key(0), jnp.ones((1, 6, 2)))


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="base must be > 0"):
        sinusoidal_positional_encoding(3, 4, base=0.0)
    with pytest.raises(TypeError, match="features must be an int"):
        sinusoidal_positional_encoding(3, 4.0)


def test_learned_positions_are_a_trainable_table(key):
    layer = LearnedPositionalEmbedding(max_length=6)
    x = jnp.zeros((2, 4, 3))
    params = layer.init(key, x)
    table = params["params"]["embedding"]
    np.testing.assert_array_equal(layer.apply(params, x, 2)[1], table[2:6])
    grad = jax.grad(lambda p: layer.apply(p, x).sum())(params)["params"]["embedding"]
    np.testing.assert_array_equal(grad[:4], 2.0)  # two sequences use each of the first rows
    np.testing.assert_array_equal(grad[4:], 0.0)


def test_token_embedding_lookup_tied_output_and_vocabulary_check(key):
    layer = TokenEmbedding(vocab_size=5, features=3)
    tokens = jnp.array([[0, 4, 2]])
    params = layer.init(key, tokens)
    table = params["params"]["embedding"]
    h = layer.apply(params, tokens)
    np.testing.assert_array_equal(h[0], table[jnp.array([0, 4, 2])])
    logits = layer.apply(params, h, method=TokenEmbedding.attend)
    np.testing.assert_allclose(logits, h @ table.T, rtol=1e-6)
    with pytest.raises(
        ValueError, match=r"tokens must be token ids in \[0, 5\), got values in \[0, 5\]"
    ):
        layer.apply(params, jnp.array([[0, 5]]))
    with pytest.raises(TypeError, match="tokens must have an integer dtype"):
        layer.apply(params, jnp.array([[0.0, 1.0]]))
