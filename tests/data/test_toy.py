"""Toy generators: geometry with zero noise, statistics with noise, jit and errors."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import data


def _keys(key, n):
    return jax.random.split(key, n)


xor = jax.jit(data.xor, static_argnums=1)
moons = jax.jit(data.moons, static_argnums=1)
spirals = jax.jit(data.spirals, static_argnums=(1, 2))
blobs = jax.jit(data.blobs, static_argnums=(1, 2), static_argnames=("dim", "box"))
linearly_separable = jax.jit(data.linearly_separable, static_argnums=(1, 2))
gaussian_mixture_2d = jax.jit(data.gaussian_mixture_2d, static_argnums=(1, 2))


def _assert_jit_matches_call(fn, key, *args, static_argnums):
    """jit(fn) equals the plain call with the same key (the RNG is counter-based)."""
    plain = fn(jax.random.clone(key), *args)
    jitted = jax.jit(fn, static_argnums=static_argnums)(key, *args)
    for got, want in zip(jax.tree.leaves(jitted), jax.tree.leaves(plain), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_xor_labels_and_noise(key):
    clean_key, noisy_key = _keys(key, 2)
    x, y = xor(clean_key, 64)
    assert x.shape == (64, 2) and y.dtype == jnp.int32
    corners = np.asarray(x).astype(int)
    np.testing.assert_array_equal(y, corners[:, 0] ^ corners[:, 1])
    assert set(map(tuple, corners.tolist())) == {(0, 0), (0, 1), (1, 0), (1, 1)}
    x_noisy, y_noisy = xor(noisy_key, 4000, 0.1)
    residual = np.asarray(x_noisy) - np.round(np.asarray(x_noisy))
    # Jitter std within 5 standard errors of 0.1 (std of a sample std ~ sigma / sqrt(2n)).
    assert abs(residual.std() - 0.1) < 5 * 0.1 / math.sqrt(2 * 8000)
    assert abs(float(jnp.mean(y_noisy)) - 0.5) < 5 * 0.5 / math.sqrt(4000)


def test_moons_lie_on_their_half_circles(key):
    x, y = moons(key, 101, 0.0)
    x, y = np.asarray(x), np.asarray(y)
    assert np.bincount(y).tolist() == [51, 50]
    outer, inner = x[y == 0], x[y == 1]
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, atol=1e-5)
    assert np.all(outer[:, 1] >= -1e-6)
    np.testing.assert_allclose(np.hypot(inner[:, 0] - 1, inner[:, 1] - 0.5), 1.0, atol=1e-5)
    assert np.all(inner[:, 1] <= 0.5 + 1e-6)


@pytest.mark.parametrize("num_classes", [2, 3])
def test_spirals_follow_their_arms(key, num_classes):
    x, y = spirals(key, 90, num_classes, 0.0, 0.75)
    x, y = np.asarray(x, np.float64), np.asarray(y)
    assert np.bincount(y).tolist() == [90 // num_classes] * num_classes
    radius = np.hypot(x[:, 0], x[:, 1])
    assert np.all(radius <= 1 + 1e-6)
    expected = 2 * np.pi * (y / num_classes + 0.75 * radius)
    gap = np.angle(np.exp(1j * (np.arctan2(x[:, 1], x[:, 0]) - expected)))
    far = radius > 1e-2  # the angle is ill-conditioned at the centre
    np.testing.assert_allclose(gap[far], 0.0, atol=1e-3)


def test_blobs_statistics(key):
    centers = jnp.array([[0.0, 0.0], [6.0, -2.0], [-4.0, 5.0]])
    x, y = jax.jit(data.blobs, static_argnums=1)(key, 3000, centers, 0.5)
    x, y = np.asarray(x), np.asarray(y)
    for k in range(3):
        members = x[y == k]
        assert len(members) == 1000
        tolerance = 5 * 0.5 / math.sqrt(len(members))
        np.testing.assert_allclose(members.mean(0), centers[k], atol=tolerance)
        np.testing.assert_allclose(members.std(0), 0.5, atol=5 * 0.5 / math.sqrt(2 * 1000))


def test_blobs_random_centres_in_box(key):
    x, y = blobs(key, 40, 4, 0.0, dim=3, box=(-2.0, 2.0))
    assert x.shape == (40, 3) and int(y.max()) == 3
    assert float(jnp.abs(x).max()) <= 2.0


def test_linearly_separable_margin_and_perceptron_bound(key):
    dataset = linearly_separable(key, 200, 3, 0.2)
    x, y, w_star = (np.asarray(a, np.float64) for a in dataset)
    assert float(np.linalg.norm(w_star)) == pytest.approx(1.0, abs=1e-6)
    assert set(np.unique(y).tolist()) <= {-1, 1}
    margins = y * (x @ w_star)
    assert margins.min() >= 0.2 - 1e-6
    # Novikoff: the perceptron makes at most (R / gamma)^2 mistakes.
    radius = np.linalg.norm(x, axis=1).max()
    w = np.zeros(3)
    mistakes = 0
    for _ in range(100):
        wrong = 0
        for xi, yi in zip(x, y, strict=True):
            if yi * (w @ xi) <= 0:
                w += yi * xi
                wrong += 1
        mistakes += wrong
        if wrong == 0:
            break
    assert wrong == 0
    assert mistakes <= (radius / margins.min()) ** 2


def test_gaussian_mixture_ring(key):
    x, mode = gaussian_mixture_2d(key, 4000, 8, 2.0, 0.05)
    x, mode = np.asarray(x), np.asarray(mode)
    centers = np.asarray(data.gaussian_mixture_2d_centers(8, 2.0))
    np.testing.assert_allclose(np.hypot(centers[:, 0], centers[:, 1]), 2.0, rtol=1e-6)
    counts = np.bincount(mode, minlength=8)
    # Multinomial counts: each within 5 standard deviations of n/8.
    assert np.all(np.abs(counts - 500) < 5 * math.sqrt(4000 * (1 / 8) * (7 / 8)))
    offsets = x - centers[mode]
    np.testing.assert_allclose(offsets.mean(0), 0.0, atol=5 * 0.05 / math.sqrt(4000))
    np.testing.assert_allclose(offsets.std(0), 0.05, rtol=0.05)


def test_generators_jit_and_determinism(key):
    moons_key, blobs_key, other_key = _keys(key, 3)
    _assert_jit_matches_call(data.moons, moons_key, 32, 0.1, static_argnums=(1,))
    first = blobs(jax.random.clone(blobs_key), 10)
    again = blobs(blobs_key, 10)
    np.testing.assert_array_equal(first[0], again[0])
    other = blobs(other_key, 10)
    assert not np.allclose(first[0], other[0])


def test_toy_errors(key):
    with pytest.raises(ValueError, match="num_samples must be > 0"):
        data.moons(key, 0)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        data.xor(key, 4, noise=-0.1)
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        data.spirals(key, 10, num_classes=1)
    with pytest.raises(ValueError, match="centers must have rank 2"):
        data.blobs(key, 10, centers=jnp.zeros(3))
    with pytest.raises(ValueError, match="box must satisfy low < high"):
        data.blobs(key, 10, centers=2, box=(1.0, 1.0))
    with pytest.raises(ValueError, match="margin must be > 0"):
        data.linearly_separable(key, 10, margin=0.0)
    with pytest.raises(TypeError, match="num_modes must be an int"):
        data.gaussian_mixture_2d(key, 10, num_modes=2.5)
