"""The noise primitives of jaxdl.sampling.noise: statistics, keys, jit/vmap, errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.data.augment import target_noise
from jaxdl.sampling.noise import (
    flip_labels,
    gaussian_noise,
    mask_random_spans,
    masking_noise,
    salt_and_pepper_noise,
)
from jaxdl.testing import assert_grads_close

# --------------------------------------------------------------------- corruptions


def test_masking_noise_statistics(key):
    x = jnp.ones((200, 50))
    rate = 0.3
    corrupted = masking_noise(key, x, rate)
    zeroed = float(jnp.mean(corrupted == 0.0))
    n = x.size
    assert abs(zeroed - rate) < 4 * np.sqrt(rate * (1 - rate) / n)
    # Kept entries are untouched (no rescaling), unlike dropout.
    assert set(np.unique(np.asarray(corrupted)).tolist()) <= {0.0, 1.0}


def test_gaussian_noise_statistics(key):
    x = jnp.full((100, 100), 2.0)
    noisy = gaussian_noise(key, x, 0.5)
    residual = np.asarray(noisy - x, dtype=np.float64)
    n = residual.size
    assert abs(residual.mean()) < 4 * 0.5 / np.sqrt(n)
    assert abs(residual.std() - 0.5) < 4 * 0.5 / np.sqrt(2 * n)


def test_salt_and_pepper_statistics(key):
    x = jnp.full((100, 100), 0.5)
    corrupted = np.asarray(salt_and_pepper_noise(key, x, 0.4))
    n = x.size
    for value, probability in ((0.0, 0.2), (1.0, 0.2), (0.5, 0.6)):
        fraction = np.mean(corrupted == value)
        assert abs(fraction - probability) < 4 * np.sqrt(probability * (1 - probability) / n)


def test_corruptions_are_keyed(key):
    x = jnp.ones((4, 10))
    first = masking_noise(jax.random.key(7), x, 0.5)
    np.testing.assert_array_equal(first, masking_noise(jax.random.key(7), x, 0.5))
    assert not np.array_equal(first, masking_noise(key, x, 0.5))


def test_corruption_errors(key):
    with pytest.raises(ValueError, match=r"rate must lie in \[0.0, 1.0\)"):
        masking_noise(key, jnp.ones(3), 1.0)
    with pytest.raises(ValueError, match="std must be >= 0"):
        gaussian_noise(key, jnp.ones(3), -0.1)
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        masking_noise(key, jnp.ones(3, jnp.int32), 0.1)
    with pytest.raises(ValueError, match="rate must lie in"):
        salt_and_pepper_noise(key, jnp.ones(3), 1.5)


# ----------------------------------------------------- Gaussian noise and label flips


def test_gaussian_input_noise_statistics(key):
    x = jnp.full((200, 50), 3.0)
    key, zero_key = jax.random.split(key)
    noisy = gaussian_noise(key, x, 0.5)
    delta = np.asarray(noisy - x).ravel()
    n = delta.size  # 10_000 draws: standard errors 0.005 (mean) and ~0.0035 (std)
    assert abs(delta.mean()) < 4 * 0.5 / np.sqrt(n)
    assert abs(delta.std() - 0.5) < 4 * 0.5 / np.sqrt(2 * n)
    assert noisy.dtype == x.dtype
    np.testing.assert_array_equal(gaussian_noise(zero_key, x, 0.0), x)


def test_gaussian_noise_is_differentiable_in_x(key):
    x = jnp.array([0.5, -1.0, 2.0])
    assert_grads_close(lambda z: jnp.sum(gaussian_noise(jax.random.clone(key), z, 0.3) ** 2), x)


def test_gaussian_target_noise_and_dispatch(key):
    k1, k2 = jax.random.split(key)
    y = jnp.zeros(4000)
    noisy = gaussian_noise(k1, y, 2.0)
    assert abs(float(noisy.std()) - 2.0) < 4 * 2.0 / np.sqrt(2 * 4000)
    np.testing.assert_array_equal(target_noise(k2, y, 0.0), y)


def test_flip_labels_rate_and_uniform_other_class(key):
    labels = jnp.zeros(20000, jnp.int32)
    noisy = np.asarray(flip_labels(key, labels, 4, 0.3))
    flipped = noisy != 0
    se = np.sqrt(0.3 * 0.7 / labels.size)
    assert abs(flipped.mean() - 0.3) < 4 * se
    counts = np.bincount(noisy[flipped], minlength=4)
    assert counts[0] == 0  # a flipped label always changes
    share = counts[1:] / flipped.sum()  # each other class 1/3
    assert np.all(np.abs(share - 1 / 3) < 4 * np.sqrt((1 / 3) * (2 / 3) / flipped.sum()))
    assert noisy.dtype == np.int32


def test_noise_argument_errors(key):
    with pytest.raises(ValueError, match="std must be >= 0"):
        gaussian_noise(key, jnp.ones(3), -0.1)
    with pytest.raises(ValueError, match="std must be >= 0"):
        gaussian_noise(key, jnp.ones(3), -1.0)
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        gaussian_noise(key, jnp.ones(3, jnp.int32), 0.1)
    with pytest.raises(ValueError, match=r"rate must lie in \[0.0, 1.0\]"):
        flip_labels(key, jnp.array([0, 1]), 2, 1.5)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        flip_labels(key, jnp.array([0, 2]), 2, 0.1)
    with pytest.raises(ValueError, match="num_classes must be >= 2"):
        flip_labels(key, jnp.array([0, 0]), 1, 0.1)


# ------------------------------------------------------------------------ span masks


def test_mask_random_spans_hides_contiguous_spans(key):
    x = jnp.arange(1.0, 301.0).reshape(30, 10)
    masked, mask = mask_random_spans(key, x, span_length=3, num_spans=1, mask_value=-1.0)
    mask = np.asarray(mask)
    assert np.all(mask.sum(-1) == 3)
    for row in mask:  # one contiguous run of length 3
        idx = np.flatnonzero(row)
        assert idx[-1] - idx[0] == 2
    np.testing.assert_array_equal(np.asarray(masked)[mask], -1.0)
    np.testing.assert_array_equal(np.asarray(masked)[~mask], np.asarray(x)[~mask])
    starts = np.argmax(mask, axis=-1)
    assert len(np.unique(starts)) > 3  # per-example randomness


def test_mask_random_spans_start_positions_are_uniform(key):
    _, mask = mask_random_spans(key, jnp.zeros((2000, 6)), span_length=2)
    starts = np.argmax(np.asarray(mask), axis=-1)
    freq = np.bincount(starts, minlength=5) / 2000  # 5 possible starts
    assert np.all(np.abs(freq - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 2000))


def test_mask_random_spans_batch_axes_jit_and_errors(key):
    x = jnp.ones((2, 3, 8))
    k1, k2 = jax.random.split(key)
    masked, mask = mask_random_spans(k1, x, 2, num_spans=2)
    assert masked.shape == x.shape and mask.shape == x.shape
    assert np.all((np.asarray(mask).sum(-1) >= 2) & (np.asarray(mask).sum(-1) <= 4))
    eager = mask_random_spans(jax.random.clone(k2), x, 2)
    jitted = jax.jit(lambda k, z: mask_random_spans(k, z, 2))(jax.random.clone(k2), x)
    np.testing.assert_array_equal(jitted[1], eager[1])
    with pytest.raises(ValueError, match="span_length must be <= the number of features 8"):
        mask_random_spans(key, x, 9)
    with pytest.raises(ValueError, match="num_spans must be > 0"):
        mask_random_spans(key, x, 2, num_spans=0)


# ------------------------------------------------------------- every primitive at once

PRIMITIVES = {
    "gaussian": lambda k, x: gaussian_noise(k, x, 0.3),
    "masking": lambda k, x: masking_noise(k, x, 0.4),
    "salt_and_pepper": lambda k, x: salt_and_pepper_noise(k, x, 0.4),
    "spans": lambda k, x: mask_random_spans(k, x, 2)[0],
}


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_noise_jit_equals_eager_and_vmap_equals_loop(key, name):
    fn = PRIMITIVES[name]
    x = jax.random.uniform(jax.random.key(5), (3, 4, 6))
    eager = fn(jax.random.clone(key), x[0])
    np.testing.assert_allclose(jax.jit(fn)(jax.random.clone(key), x[0]), eager, rtol=1e-6)
    keys = jax.random.split(jax.random.clone(key), 3)
    batched = jax.vmap(fn)(jax.random.clone(keys), x)
    looped = jnp.stack([fn(jax.random.clone(keys[i]), x[i]) for i in range(3)])
    np.testing.assert_allclose(batched, looped, rtol=1e-6)
    assert eager.shape == x[0].shape and eager.dtype == x.dtype


@pytest.mark.parametrize("name", sorted(PRIMITIVES))
def test_noise_reusing_a_key_is_an_error(key, name):
    # The conftest turns on jax_debug_key_reuse: a primitive consumes its key once.
    fn = PRIMITIVES[name]
    x = jnp.ones((4, 6))
    fn(key, x)
    with pytest.raises(Exception, match="(?i)reuse|consumed"):
        fn(key, x)


def test_flip_labels_jit_and_vmap(key):
    labels = jnp.arange(12).reshape(3, 4) % 3
    keys = jax.random.split(key, 3)
    batched = jax.vmap(lambda k, y: flip_labels(k, y, 3, 0.5))(jax.random.clone(keys), labels)
    looped = jnp.stack(
        [flip_labels(jax.random.clone(keys[i]), labels[i], 3, 0.5) for i in range(3)]
    )
    np.testing.assert_array_equal(batched, looped)
