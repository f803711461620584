"""Data augmentation, keyed and jittable.

Augmentation enlarges the training set with transformed copies of its examples
(flips, crops, translations for images) so the model learns the invariances;
:func:`target_noise` perturbs the targets with the noise primitives of
:mod:`jaxdl.sampling.noise` (Gaussian input noise is
:func:`jaxdl.sampling.gaussian_noise`). Every function takes the PRNG
``key`` first, draws independent randomness per example (through ``vmap`` over the
batch) and works under ``jit`` and ``vmap``.

Images are channel-last batches ``[..., H, W, C]``: any number of leading batch axes.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
from jax import lax

from jaxdl._checks import (
    check_floating,
    check_in_range,
    check_integer,
    check_positive,
    check_positive_int,
    check_rank,
)
from jaxdl.sampling.noise import flip_labels, gaussian_noise
from jaxdl.typing import Array, ArrayLike, Key


def target_noise(
    key: Key, targets: ArrayLike, amount: ArrayLike, *, num_classes: int | None = None
) -> Array:
    """Noise on the targets, by dtype: label flips for integers, Gaussian for floats.

    Integer ``targets`` go through :func:`jaxdl.sampling.flip_labels` with
    ``rate=amount`` (``num_classes`` required); floating targets through
    :func:`jaxdl.sampling.gaussian_noise` with ``std=amount``.

    Args:
        key: PRNG key.
        targets: integer labels ``[...]`` or floating targets of any shape.
        amount: flip probability in ``[0, 1]`` or standard deviation ``>= 0``.
        num_classes: number of classes, for integer targets.

    Returns:
        Noisy targets, same shape and dtype.

    Example:
        >>> y = target_noise(jax.random.key(1), jnp.array([0, 1]), 0.2, num_classes=2)
    """
    targets = jnp.asarray(targets)
    if jnp.issubdtype(targets.dtype, jnp.integer):
        if num_classes is None:
            raise ValueError("num_classes is required for integer targets (label flipping)")
        return flip_labels(key, targets, num_classes, amount)
    return gaussian_noise(key, targets, amount)


def _per_image(
    key: Key, images: Array, fn: Callable[[Key, Array], Array], out_hw: tuple[int, int]
) -> Array:
    """Apply ``fn(key_i, image_i)`` to every ``[H, W, C]`` image with its own key."""
    batch_shape = images.shape[:-3]
    flat = images.reshape((-1, *images.shape[-3:]))
    keys = jax.random.split(key, flat.shape[0])
    out = jax.vmap(fn)(keys, flat)
    return out.reshape((*batch_shape, *out_hw, images.shape[-1]))


def _check_images(images: ArrayLike) -> Array:
    images = jnp.asarray(images)
    if images.ndim < 3:
        raise ValueError(
            f"images must have shape [..., H, W, C] (rank >= 3), got shape {images.shape}"
        )
    return images


def random_flip_left_right(key: Key, images: ArrayLike, probability: ArrayLike = 0.5) -> Array:
    """Mirror each image horizontally (along W) with the given probability.

    Args:
        key: PRNG key.
        images: ``[..., H, W, C]``.
        probability: flip probability in ``[0, 1]``.

    Returns:
        Images of the same shape.

    Example:
        >>> out = random_flip_left_right(jax.random.key(1), jnp.ones((2, 4, 4, 1)))
    """
    return _random_flip(key, images, probability, axis=1)


def random_flip_up_down(key: Key, images: ArrayLike, probability: ArrayLike = 0.5) -> Array:
    """Mirror each image vertically (along H) with the given probability.

    Args:
        key: PRNG key.
        images: ``[..., H, W, C]``.
        probability: flip probability in ``[0, 1]``.

    Returns:
        Images of the same shape.

    Example:
        >>> out = random_flip_up_down(jax.random.key(1), jnp.ones((2, 4, 4, 1)))
    """
    return _random_flip(key, images, probability, axis=0)


def _random_flip(key: Key, images: ArrayLike, probability: ArrayLike, axis: int) -> Array:
    check_in_range("probability", probability, 0.0, 1.0)
    images = _check_images(images)

    def one(k, image):
        flip = jax.random.bernoulli(k, probability)
        return jnp.where(flip, jnp.flip(image, axis=axis), image)

    return _per_image(key, images, one, images.shape[-3:-1])


def translate(images: ArrayLike, shift: ArrayLike) -> Array:
    """Shift images by whole pixels, filling the uncovered border with zeros.

    ``out[..., i, j, :] = images[..., i - dy, j - dx, :]`` (zero outside the image),
    so positive ``dy`` moves the content down and positive ``dx`` moves it right.

    Args:
        images: ``[..., H, W, C]``.
        shift: integer ``(dy, dx)``, shape ``[2]`` (may be traced); shifts of at least
            the image size give an all-zero image.

    Returns:
        Shifted images of the same shape.

    Example:
        >>> translate(jnp.arange(3.0).reshape(1, 3, 1), jnp.array([0, 1]))[0, :, 0]
        Array([0., 0., 1.], dtype=float32)
    """
    images = _check_images(images)
    shift = jnp.asarray(shift)
    check_integer("shift", shift)
    check_rank("shift", shift, 1)
    if shift.shape != (2,):
        raise ValueError(f"shift must have shape (2,), got {shift.shape}")
    height, width = images.shape[-3], images.shape[-2]
    rows = jnp.arange(height) - shift[0]
    cols = jnp.arange(width) - shift[1]
    row_ok = (rows >= 0) & (rows < height)
    col_ok = (cols >= 0) & (cols < width)
    gathered = jnp.take(images, jnp.clip(rows, 0, height - 1), axis=-3)
    gathered = jnp.take(gathered, jnp.clip(cols, 0, width - 1), axis=-2)
    valid = (row_ok[:, None] & col_ok[None, :]).reshape(
        (1,) * (images.ndim - 3) + (height, width, 1)
    )
    return jnp.where(valid, gathered, jnp.zeros((), images.dtype))


def random_translate(key: Key, images: ArrayLike, max_shift: int | tuple[int, int]) -> Array:
    """Shift each image by a random integer offset in ``[-max_shift, max_shift]`` per axis.

    Uncovered pixels are filled with zeros (see :func:`translate`).

    Args:
        key: PRNG key.
        images: ``[..., H, W, C]``.
        max_shift: largest shift, an int for both axes or ``(max_dy, max_dx)``, each
            ``>= 0`` and smaller than the image side.

    Returns:
        Images of the same shape.

    Example:
        >>> out = random_translate(jax.random.key(1), jnp.ones((2, 8, 8, 3)), 2)
    """
    images = _check_images(images)
    max_dy, max_dx = (max_shift, max_shift) if isinstance(max_shift, int) else max_shift
    height, width = images.shape[-3], images.shape[-2]
    for name, value, side in (("max_shift[0]", max_dy, height), ("max_shift[1]", max_dx, width)):
        check_positive_int(name, value, allow_zero=True)
        if value >= side:
            raise ValueError(f"{name} must be smaller than the image side {side}, got {value}")
    limit = jnp.array([max_dy, max_dx])

    def one(k, image):
        shift = jax.random.randint(k, (2,), -limit, limit + 1)
        return translate(image, shift)

    return _per_image(key, images, one, (height, width))


def random_crop(
    key: Key, images: ArrayLike, crop_size: int | tuple[int, int], padding: int = 0
) -> Array:
    """Zero-pad each image by ``padding`` pixels, then cut a random ``crop_size`` window.

    With ``crop_size == (H, W)`` and ``padding > 0`` this is the usual "pad and crop"
    augmentation (a random translation by up to ``padding`` pixels).

    Args:
        key: PRNG key.
        images: ``[..., H, W, C]``.
        crop_size: ``(crop_height, crop_width)`` or one int for both; must fit in the
            padded image ``(H + 2 padding, W + 2 padding)``.
        padding: zero border added on every side, ``>= 0``.

    Returns:
        Crops of shape ``[..., crop_height, crop_width, C]``.

    Example:
        >>> out = random_crop(jax.random.key(1), jnp.ones((2, 8, 8, 3)), (6, 6))
    """
    images = _check_images(images)
    check_positive_int("padding", padding, allow_zero=True)
    crop_h, crop_w = (crop_size, crop_size) if isinstance(crop_size, int) else crop_size
    check_positive_int("crop_size[0]", crop_h)
    check_positive_int("crop_size[1]", crop_w)
    padded_h = images.shape[-3] + 2 * padding
    padded_w = images.shape[-2] + 2 * padding
    if crop_h > padded_h or crop_w > padded_w:
        raise ValueError(
            f"crop_size must fit in the padded image ({padded_h}, {padded_w}), "
            f"got ({crop_h}, {crop_w})"
        )

    def one(k, image):
        padded = jnp.pad(image, ((padding, padding), (padding, padding), (0, 0)))
        row_key, col_key = jax.random.split(k)
        top = jax.random.randint(row_key, (), 0, padded_h - crop_h + 1)
        left = jax.random.randint(col_key, (), 0, padded_w - crop_w + 1)
        zero = jnp.zeros((), top.dtype)
        return lax.dynamic_slice(padded, (top, left, zero), (crop_h, crop_w, image.shape[-1]))

    return _per_image(key, images, one, (crop_h, crop_w))


def _affine_sample(image: Array, inverse: Array, order: int) -> Array:
    """Resample one ``[H, W, C]`` image: output pixel ``p`` reads the input at
    ``c + inverse (p - c)`` (``c`` the image centre), interpolated, zero outside."""
    height, width = image.shape[0], image.shape[1]
    centre = jnp.array([(height - 1) / 2, (width - 1) / 2], inverse.dtype)
    rows, cols = jnp.meshgrid(
        jnp.arange(height, dtype=inverse.dtype),
        jnp.arange(width, dtype=inverse.dtype),
        indexing="ij",
    )
    offsets = jnp.stack([rows - centre[0], cols - centre[1]])  # [2, H, W]
    source = jnp.einsum("ij,jhw->ihw", inverse, offsets) + centre.reshape(2, 1, 1)

    def channel(plane: Array) -> Array:
        return jax.scipy.ndimage.map_coordinates(
            plane, [source[0], source[1]], order=order, mode="constant", cval=0.0
        )

    return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)


def _check_order(order: int) -> None:
    if order not in (0, 1):
        raise ValueError(f"order must be 0 (nearest) or 1 (bilinear), got {order!r}")


def _rotation_inverse(degrees: Array, dtype: jnp.dtype) -> Array:
    theta = jnp.deg2rad(jnp.asarray(degrees, dtype))
    cos, sin = jnp.cos(theta), jnp.sin(theta)
    # (row, col) coordinates, rows pointing down: a counter-clockwise turn on screen
    return jnp.stack([jnp.stack([cos, sin]), jnp.stack([-sin, cos])])


def rotate(images: ArrayLike, degrees: ArrayLike, *, order: int = 1) -> Array:
    """Rotate images about their centre by ``degrees`` (counter-clockwise), sub-pixel.

    Output pixel ``p`` takes the input at ``c + R(theta) (p - c)`` in (row, column)
    coordinates, ``R(theta) = [[cos, sin], [-sin, cos]]``, interpolated bilinearly
    (``order=1``) or from the nearest pixel (``order=0``); pixels that come from outside the
    image are zero. ``degrees=90`` on a square image equals ``jnp.rot90``; 0 is the identity.

    Args:
        images: ``[..., H, W, C]`` floating.
        degrees: the angle, a scalar (may be traced).
        order: interpolation order, 0 or 1.

    Returns:
        Rotated images, same shape.

    Example:
        >>> image = jnp.arange(4.0).reshape(1, 2, 2, 1)
        >>> rotate(image, 90.0)[0, :, :, 0].round(4)
        Array([[1., 3.],
               [0., 2.]], dtype=float32)
    """
    images = _check_images(images)
    check_floating("images", images)
    _check_order(order)
    inverse = _rotation_inverse(degrees, images.dtype)
    return _per_image_fixed(images, lambda image: _affine_sample(image, inverse, order))


def zoom(images: ArrayLike, factor: ArrayLike, *, order: int = 1) -> Array:
    """Zoom images about their centre by ``factor`` (> 1 enlarges), sub-pixel.

    Output pixel ``p`` takes the input at ``c + (p - c) / factor``, interpolated; pixels from
    outside the image are zero. ``factor=1`` is the identity.

    Args:
        images: ``[..., H, W, C]`` floating.
        factor: the scale, > 0 (a scalar, may be traced).
        order: interpolation order, 0 or 1.

    Returns:
        Scaled images, same shape.

    Example:
        >>> zoom(jnp.arange(9.0).reshape(1, 3, 3, 1), 2.0)[0, :, :, 0]  # about the centre pixel
        Array([[2. , 2.5, 3. ],
               [3.5, 4. , 4.5],
               [5. , 5.5, 6. ]], dtype=float32)
    """
    images = _check_images(images)
    check_floating("images", images)
    _check_order(order)
    check_positive("factor", factor)
    inverse = jnp.eye(2, dtype=images.dtype) / jnp.asarray(factor, images.dtype)
    return _per_image_fixed(images, lambda image: _affine_sample(image, inverse, order))


def _per_image_fixed(images: Array, fn: Callable[[Array], Array]) -> Array:
    flat = images.reshape((-1, *images.shape[-3:]))
    return jax.vmap(fn)(flat).reshape(images.shape)


def random_rotation(key: Key, images: ArrayLike, max_degrees: float, *, order: int = 1) -> Array:
    """Rotate each image by its own angle, uniform in ``[-max_degrees, max_degrees]``.

    Args:
        key: PRNG key.
        images: ``[..., H, W, C]`` floating.
        max_degrees: largest angle, in ``[0, 180]``.
        order: interpolation order, 0 or 1.

    Returns:
        Images of the same shape.

    Example:
        >>> out = random_rotation(jax.random.key(1), jnp.ones((2, 8, 8, 1)), 15.0)
    """
    images = _check_images(images)
    check_floating("images", images)
    check_in_range("max_degrees", max_degrees, 0.0, 180.0)
    _check_order(order)

    def one(k: Key, image: Array) -> Array:
        degrees = jax.random.uniform(k, (), images.dtype, -max_degrees, max_degrees)
        return _affine_sample(image, _rotation_inverse(degrees, images.dtype), order)

    return _per_image(key, images, one, images.shape[-3:-1])


def random_zoom(
    key: Key, images: ArrayLike, min_factor: float, max_factor: float, *, order: int = 1
) -> Array:
    """Zoom each image by its own factor, log-uniform in ``[min_factor, max_factor]``.

    Args:
        key: PRNG key.
        images: ``[..., H, W, C]`` floating.
        min_factor: smallest factor, > 0.
        max_factor: largest factor, >= ``min_factor``.
        order: interpolation order, 0 or 1.

    Returns:
        Images of the same shape.

    Example:
        >>> out = random_zoom(jax.random.key(1), jnp.ones((2, 8, 8, 1)), 0.9, 1.1)
    """
    images = _check_images(images)
    check_floating("images", images)
    check_positive("min_factor", min_factor)
    check_positive("max_factor", max_factor)
    if max_factor < min_factor:
        raise ValueError(f"max_factor must be >= min_factor ({min_factor}), got {max_factor}")
    _check_order(order)
    low, high = jnp.log(min_factor), jnp.log(max_factor)

    def one(k: Key, image: Array) -> Array:
        factor = jnp.exp(jax.random.uniform(k, (), images.dtype, low, high))
        return _affine_sample(image, jnp.eye(2, dtype=images.dtype) / factor, order)

    return _per_image(key, images, one, images.shape[-3:-1])


def fast_gradient_sign(
    loss_fn: Callable[[Array], Array], x: ArrayLike, epsilon: ArrayLike
) -> Array:
    """Adversarial example by the fast gradient sign method: ``x + eps * sign(grad_x L(x))``.

    The perturbation has max-norm ``eps`` and moves every input coordinate in the
    direction that increases the loss to first order; training on such points
    (adversarial training) is a regularizer.

    Args:
        loss_fn: ``loss_fn(x) -> scalar``, e.g. a closure over params and labels.
        x: floating inputs.
        epsilon: perturbation size ``>= 0``.

    Returns:
        Adversarial inputs, same shape as ``x``.

    Example:
        >>> x_adv = fast_gradient_sign(lambda x: jnp.sum(x**2), jnp.array([1.0, -2.0]), 0.1)

    Reference: Goodfellow, Shlens & Szegedy, "Explaining and harnessing adversarial
    examples", 2015.
    """
    check_positive("epsilon", epsilon, allow_zero=True)
    x = jnp.asarray(x)
    check_floating("x", x)
    gradient = jax.grad(loss_fn)(x)
    return x + (epsilon * jnp.sign(gradient)).astype(x.dtype)


# ------------------------------------------------------------------- pretext data


def original_vs_distorted_pairs(
    key: Key,
    x: ArrayLike,
    std: float = 1.0,
    distort: Callable[[Key, Array], Array] | None = None,
) -> tuple[Array, Array]:
    """A contrastive pretext dataset: which of two copies is the original?

    Each example ``x_i`` is paired with a distorted copy ``x~_i`` (Gaussian noise of
    ``std`` by default, or ``distort(key, x)``); the two are put in random order
    and the label is the position of the original.

    Args:
        key: PRNG key.
        x: floating inputs ``[n, ...]``.
        std: standard deviation of the default Gaussian distortion, ``> 0``.
        distort: optional ``distort(key, x) -> x~`` applied to the whole batch instead.

    Returns:
        ``(pairs, labels)``: ``pairs`` ``[n, 2, ...]``, ``labels`` int32 ``[n]`` in
        ``{0, 1}``, the index of the original inside each pair.

    Example:
        >>> pairs, labels = original_vs_distorted_pairs(jax.random.key(1), jnp.ones((8, 5)))
        >>> pairs.shape, labels.shape
        ((8, 2, 5), (8,))
        >>> bool(jnp.all(pairs[jnp.arange(8), labels] == 1.0))  # the originals
        True
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"x must hold at least one example [n, ...], got shape {x.shape}")
    distort_key, order_key = jax.random.split(key)
    if distort is None:
        check_positive("std", std)
        distorted = gaussian_noise(distort_key, x, std)
    else:
        distorted = jnp.asarray(distort(distort_key, x))
        if distorted.shape != x.shape:
            raise ValueError(f"distort must keep the shape {x.shape}, got {distorted.shape}")
    labels = jax.random.bernoulli(order_key, 0.5, (x.shape[0],)).astype(jnp.int32)
    first_is_original = (labels == 0).reshape((-1,) + (1,) * (x.ndim - 1))
    first = jnp.where(first_is_original, x, distorted)
    second = jnp.where(first_is_original, distorted, x)
    return jnp.stack([first, second], axis=1), labels


__all__ = [
    "random_rotation",
    "random_zoom",
    "rotate",
    "zoom",
    "fast_gradient_sign",
    "original_vs_distorted_pairs",
    "random_crop",
    "random_flip_left_right",
    "random_flip_up_down",
    "random_translate",
    "target_noise",
    "translate",
]
