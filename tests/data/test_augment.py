"""Tests for keyed data augmentation and noise injection."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.data.augment import (
    fast_gradient_sign,
    original_vs_distorted_pairs,
    random_crop,
    random_flip_left_right,
    random_flip_up_down,
    random_translate,
    target_noise,
    translate,
)
from jaxdl.sampling.noise import flip_labels
from jaxdl.testing import assert_grads_close


def _assert_jit_matches_call(fn, key, images):
    """jit(fn) equals fn called without an outer jit (same key, cloned)."""
    eager = fn(jax.random.clone(key), images)
    jitted = jax.jit(fn)(jax.random.clone(key), images)
    np.testing.assert_allclose(jitted, eager, rtol=1e-6)


def _images(key, n=64, h=5, w=6, c=2):
    return jax.random.normal(key, (n, h, w, c))


# ------------------------------------------------------------------------ noise


def test_target_noise_dispatches_integers_to_flips(key):
    labels = jnp.arange(6) % 3
    np.testing.assert_array_equal(target_noise(key, labels, 0.0, num_classes=3), labels)
    np.testing.assert_array_equal(
        target_noise(jax.random.key(3), labels, 0.5, num_classes=3),
        flip_labels(jax.random.key(3), labels, 3, 0.5),
    )
    with pytest.raises(ValueError, match="num_classes is required"):
        target_noise(key, labels, 0.1)


# ----------------------------------------------------------------------- flips


@pytest.mark.parametrize(("fn", "axis"), [(random_flip_left_right, -2), (random_flip_up_down, -3)])
def test_random_flips_per_example(key, fn, axis):
    images = _images(jax.random.key(7), n=400)
    out = np.asarray(jax.jit(lambda k, x: fn(k, x, 0.25))(key, images))
    flipped = np.all(out == np.flip(np.asarray(images), axis=axis), axis=(1, 2, 3))
    kept = np.all(out == np.asarray(images), axis=(1, 2, 3))
    assert np.all(flipped ^ kept)  # every image is either flipped or untouched
    assert abs(flipped.mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 400)


def test_flips_with_extra_batch_axes_and_extremes(key):
    images = _images(jax.random.key(7), n=6).reshape(2, 3, 5, 6, 2)
    k1, k2 = jax.random.split(key)
    flip_all = jax.jit(lambda k, x: random_flip_left_right(k, x, 1.0))
    flip_none = jax.jit(lambda k, x: random_flip_up_down(k, x, 0.0))
    np.testing.assert_array_equal(flip_all(k1, images), images[..., ::-1, :])
    np.testing.assert_array_equal(flip_none(k2, images), images)


def test_flip_jit_and_vmap(key):
    images = _images(jax.random.key(7), n=4)
    _assert_jit_matches_call(lambda k, x: random_flip_left_right(k, x), key, images[:1])
    keys = jax.random.split(jax.random.key(9), 3)
    batched = jnp.stack([images] * 3)
    out = jax.jit(jax.vmap(random_flip_up_down))(keys, batched)
    assert out.shape == batched.shape


def test_flip_errors(key):
    with pytest.raises(ValueError, match=r"images must have shape \[..., H, W, C\]"):
        random_flip_left_right(key, jnp.ones((4, 4)))
    with pytest.raises(ValueError, match="probability must lie in"):
        random_flip_up_down(key, jnp.ones((1, 4, 4, 1)), -0.5)


# ------------------------------------------------------------------ translations


def test_translate_moves_content_and_fills_zeros():
    image = jnp.arange(1.0, 13.0).reshape(3, 4, 1)
    out = translate(image, jnp.array([1, -1]))[..., 0]
    expected = np.zeros((3, 4))
    expected[1:, :3] = np.arange(1.0, 13.0).reshape(3, 4)[:2, 1:]
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(translate(image, jnp.array([0, 0])), image)
    np.testing.assert_array_equal(translate(image, jnp.array([3, 0])), jnp.zeros_like(image))


def test_translate_matches_numpy_roll_with_zero_fill(key):
    images = _images(key, n=2)
    shift = jax.jit(translate)
    for dy, dx in [(2, 1), (-1, -3), (0, 2)]:
        ref = np.roll(np.asarray(images), (dy, dx), axis=(1, 2))
        if dy > 0:
            ref[:, :dy] = 0
        elif dy < 0:
            ref[:, dy:] = 0
        if dx > 0:
            ref[:, :, :dx] = 0
        elif dx < 0:
            ref[:, :, dx:] = 0
        np.testing.assert_array_equal(shift(images, jnp.array([dy, dx])), ref)


def test_translate_is_linear_so_its_gradient_is_the_reverse_shift(key):
    image = jax.random.normal(key, (4, 4, 1))
    weights = jnp.arange(16.0).reshape(4, 4, 1)
    assert_grads_close(lambda z: jnp.sum(weights * translate(z, jnp.array([1, 2]))), image)


def test_random_translate_shifts_within_range(key):
    images = jnp.zeros((300, 7, 7, 1)).at[:, 3, 3, 0].set(1.0)  # a dot in the centre
    out = np.asarray(jax.jit(lambda k, x: random_translate(k, x, (2, 1)))(key, images))
    rows, cols = np.nonzero(out[..., 0].reshape(300, 49) > 0)
    assert len(rows) == 300  # the dot always survives (shift < distance to the border)
    dy = cols // 7 - 3
    dx = cols % 7 - 3
    assert dy.min() == -2 and dy.max() == 2 and dx.min() == -1 and dx.max() == 1
    # uniform over the 5 vertical shifts
    assert np.all(np.abs(np.bincount(dy + 2) / 300 - 0.2) < 4 * np.sqrt(0.2 * 0.8 / 300))


def test_random_translate_jit_and_errors(key):
    images = _images(jax.random.key(7), n=3)
    _assert_jit_matches_call(lambda k, x: random_translate(k, x, 2), key, images[:1])
    with pytest.raises(ValueError, match="max_shift\\[0\\] must be smaller than the image side"):
        random_translate(key, images, 5)
    with pytest.raises(ValueError, match="max_shift\\[1\\] must be >= 0"):
        random_translate(key, images, (1, -1))
    with pytest.raises(ValueError, match="shift must have shape"):
        translate(images, jnp.array([1, 2, 3]))
    with pytest.raises(TypeError, match="shift must have an integer dtype"):
        translate(images, jnp.array([1.0, 2.0]))


# ------------------------------------------------------------------------- crops


def test_random_crop_windows_come_from_the_padded_image(key):
    images = jnp.arange(2 * 4 * 4 * 1, dtype=jnp.float32).reshape(2, 4, 4, 1) + 1
    out = np.asarray(jax.jit(lambda k, x: random_crop(k, x, (3, 3), padding=1))(key, images))
    assert out.shape == (2, 3, 3, 1)
    for i in range(2):
        padded = np.pad(np.asarray(images[i]), ((1, 1), (1, 1), (0, 0)))
        windows = [padded[r : r + 3, c : c + 3] for r in range(4) for c in range(4)]
        assert any(np.array_equal(out[i], w) for w in windows)


def test_random_crop_offsets_are_uniform(key):
    images = jnp.zeros((400, 4, 4, 1)).at[:, 0, 0, 0].set(1.0)
    out = np.asarray(jax.jit(lambda k, x: random_crop(k, x, 3))(key, images))
    # the marked top-left pixel stays visible only for offset (0, 0): probability 1/4
    visible = out[:, 0, 0, 0] == 1.0
    assert abs(visible.mean() - 0.25) < 4 * np.sqrt(0.25 * 0.75 / 400)


def test_random_crop_full_size_without_padding_is_identity(key):
    images = _images(jax.random.key(3), n=2)
    np.testing.assert_array_equal(
        jax.jit(lambda k, x: random_crop(k, x, (5, 6)))(key, images), images
    )


def test_random_crop_jit_vmap_and_errors(key):
    images = _images(jax.random.key(7), n=3)
    _assert_jit_matches_call(lambda k, x: random_crop(k, x, (4, 4), padding=2), key, images[:1])
    keys = jax.random.split(jax.random.key(5), 2)
    out = jax.jit(jax.vmap(lambda k, x: random_crop(k, x, 4)))(keys, jnp.stack([images, images]))
    assert out.shape == (2, 3, 4, 4, 2)
    with pytest.raises(ValueError, match="crop_size must fit in the padded image"):
        random_crop(key, images, (8, 3))
    with pytest.raises(ValueError, match="padding must be >= 0"):
        random_crop(key, images, 3, padding=-1)


# ------------------------------------------------------------------- adversarial


def test_fast_gradient_sign_increases_the_loss(key):
    w = jnp.array([1.0, -2.0, 0.5])

    def loss(x):
        return jnp.sum(jax.nn.softplus(-(x @ w)))  # logistic loss with label +1

    x = jax.random.normal(key, (5, 3))
    x_adv = fast_gradient_sign(loss, x, 0.1)
    np.testing.assert_allclose(np.abs(np.asarray(x_adv - x)), 0.1, rtol=1e-5)
    assert loss(x_adv) > loss(x)
    # first-order prediction of the increase: eps * ||grad||_1
    predicted = 0.1 * jnp.sum(jnp.abs(jax.grad(loss)(x)))
    np.testing.assert_allclose(loss(x_adv) - loss(x), predicted, rtol=0.1)
    with pytest.raises(ValueError, match="epsilon must be >= 0"):
        fast_gradient_sign(loss, x, -0.1)


# ------------------------------------------------------------------- pretext data


def test_original_vs_distorted_pairs(key):
    x = jnp.arange(1.0, 401.0).reshape(200, 2)
    pairs, labels = original_vs_distorted_pairs(key, x, std=0.5)
    assert pairs.shape == (200, 2, 2) and labels.dtype == jnp.int32
    idx = np.arange(200)
    original = np.asarray(pairs)[idx, np.asarray(labels)]
    distorted = np.asarray(pairs)[idx, 1 - np.asarray(labels)]
    np.testing.assert_array_equal(original, x)
    assert np.all(distorted != np.asarray(x))
    assert abs(float(labels.mean()) - 0.5) < 4 * np.sqrt(0.25 / 200)


def test_original_vs_distorted_pairs_custom_distortion_and_errors(key):
    x = jnp.ones((4, 3))
    pairs, labels = original_vs_distorted_pairs(key, x, distort=lambda k, z: -z)
    np.testing.assert_array_equal(
        np.asarray(pairs)[np.arange(4), 1 - np.asarray(labels)], -np.ones((4, 3))
    )
    with pytest.raises(ValueError, match="distort must keep the shape"):
        original_vs_distorted_pairs(jax.random.key(2), x, distort=lambda k, z: z[:, :1])
    with pytest.raises(ValueError, match="std must be > 0"):
        original_vs_distorted_pairs(jax.random.key(3), x, std=0.0)


# ---------------------------------------------------------------- rotations and zooms


def test_rotate_and_zoom_identities_and_rot90():
    from jaxdl.data.augment import rotate, zoom

    image = jax.random.uniform(jax.random.key(0), (2, 7, 7, 3))
    np.testing.assert_allclose(rotate(image, 0.0), image, atol=1e-6)
    np.testing.assert_allclose(zoom(image, 1.0), image, atol=1e-6)
    np.testing.assert_allclose(rotate(image, 90.0), jnp.rot90(image, 1, axes=(1, 2)), atol=1e-5)
    np.testing.assert_allclose(rotate(image, -180.0), image[:, ::-1, ::-1], atol=1e-5)
    # sub-pixel: a 45-degree turn interpolates (values between the neighbours), nearest does not
    ramp = jnp.tile(jnp.arange(7.0), (7, 1)).reshape(1, 7, 7, 1)
    turned = rotate(ramp, 45.0)[0, 3, :, 0]
    assert float(turned[3]) == 3.0 and 0 < float(turned[4] - 3.0) < 1.0  # cos 45 deg
    nearest = rotate(ramp, 45.0, order=0)
    assert set(np.unique(nearest).tolist()) <= set(range(7))
    # zoom by 2 about the centre: the ramp's slope halves
    np.testing.assert_allclose(zoom(ramp, 2.0)[0, 3, 1:6, 0], [2.0, 2.5, 3.0, 3.5, 4.0], atol=1e-6)
    with pytest.raises(ValueError, match="factor must be > 0"):
        zoom(image, 0.0)
    with pytest.raises(ValueError, match="order must be 0"):
        rotate(image, 10.0, order=3)


def test_random_rotation_and_zoom_jit_vmap_and_keys():
    from jaxdl.data.augment import random_rotation, random_zoom, rotate

    images = jax.random.uniform(jax.random.key(0), (3, 6, 6, 1))
    jitted = jax.jit(random_rotation, static_argnums=(2,))
    out = jitted(jax.random.key(1), images, 30.0)
    np.testing.assert_allclose(out, random_rotation(jax.random.key(1), images, 30.0), atol=1e-6)
    assert not np.allclose(out[0], out[1])  # each image has its own angle
    np.testing.assert_allclose(random_rotation(jax.random.key(2), images, 0.0), images, atol=1e-6)
    np.testing.assert_allclose(random_zoom(jax.random.key(3), images, 1.0, 1.0), images, atol=1e-6)
    # vmap over angles equals a loop; the angle may be traced
    angles = jnp.array([0.0, 90.0, 33.0])
    batched = jax.vmap(rotate)(images, angles)
    for i in range(3):
        np.testing.assert_allclose(batched[i], rotate(images[i], angles[i]), atol=1e-5)
