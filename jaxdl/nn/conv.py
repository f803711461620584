"""Convolution as the course defines it, unshared convolution, pooling and the cost model.

The course's convolution is the true one, with the kernel flipped,

    S(i, j) = (I * K)(i, j) = sum_{a, b} K(a, b) I(i - a, j - b),

while libraries (``lax.conv_general_dilated``, ``flax.linen.Conv``, PyTorch) compute the
cross-correlation ``S(i, j) = sum_{a, b} K(a, b) I(i + a, j + b)`` and call it convolution.
Both are here (:func:`convolve`, :func:`cross_correlate`), for 1-D, 2-D and 3-D inputs,
multi-channel, with a stride and a dilation per direction, feature groups and the course's
three ways of treating the border (``padding``):

- ``"valid"``: the window never leaves the image; the output is smaller;
- ``"replicate"``: the outer rows/columns are duplicated so the output keeps the input size
  (at stride 1);
- ``"zero"``: the image is enlarged with zeros so the output keeps the input size;

plus ``"full"`` (every partial overlap, as ``scipy.signal``'s ``mode="full"``) and explicit
amounts (an int per side, or ``(low, high)`` pairs per spatial axis) filled per ``border``.
The output size of every case is :func:`conv_output_size`,
``floor((n + p_low + p_high - d (k - 1) - 1) / s) + 1``.

Arrays are channel-last: inputs ``[B, *spatial, C_in]``, kernels
``[*kernel_size, C_in / groups, C_out]`` (flax's layout; PyTorch's ``[C_out, C_in / groups,
*kernel_size]`` transposed).

What flax lacks and this module adds: the flipped kernel, replicate padding, the course's
padding vocabulary and size formula, a locally connected layer with those paddings over
``flax.linen.ConvLocal``, and the course's cost comparison (:func:`conv_cost`). The layers
delegate to ``flax.linen.Conv`` / ``ConvLocal`` and the functions to
``lax.conv_general_dilated``.

Reference: Goodfellow, Bengio and Courville, *Deep Learning* (2016), chapter 9.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax import lax

from jaxdl._checks import check_positive_int
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, ArrayLike

__all__ = [
    "PADDING_MODES",
    "Conv",
    "ConvCost",
    "LocallyConnected",
    "avg_pool",
    "conv_cost",
    "conv_output_shape",
    "conv_output_size",
    "convolve",
    "count_multiply_adds",
    "cross_correlate",
    "dilate_kernel",
    "effective_kernel_size",
    "global_avg_pool",
    "global_max_pool",
    "locally_connected_num_params",
    "max_pool",
    "num_inputs",
    "pad",
    "padding_amounts",
    "tie_locally_connected_kernel",
]

PADDING_MODES = ("valid", "zero", "replicate", "full")
"""The named padding modes: the course's three and scipy's ``"full"``."""

BORDERS = ("zero", "replicate")

Padding = str | int | Sequence[int] | Sequence[tuple[int, int]]


def _tuple(name: str, value: int | Sequence[int], num_spatial: int) -> tuple[int, ...]:
    """``value`` as one positive int per spatial axis (an int is repeated)."""
    values = (value,) * num_spatial if isinstance(value, int) else tuple(value)
    if len(values) != num_spatial:
        raise ValueError(
            f"{name} must have one entry per spatial axis ({num_spatial}), got {value!r}"
        )
    for v in values:
        check_positive_int(name, v)
    return values


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    """Extent of a dilated kernel: ``d (k - 1) + 1`` input positions.

    Args:
        kernel_size: number of taps ``k``.
        dilation: spacing ``d`` between taps (1: no holes).

    Returns:
        The number of input positions the kernel spans.

    Example:
        >>> effective_kernel_size(3, dilation=2)  # the course's size-5 dilated kernel
        5
    """
    check_positive_int("kernel_size", kernel_size)
    check_positive_int("dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def _mode_amounts(mode: str, kernel_size: int, dilation: int, flip: bool) -> tuple[int, int]:
    total = effective_kernel_size(kernel_size, dilation) - 1
    if mode == "valid":
        return (0, 0)
    if mode == "full":
        return (total, total)
    low, high = total // 2, total - total // 2  # PyTorch's and flax's "same"
    return (high, low) if flip else (low, high)  # the flipped kernel mirrors the split


def padding_amounts(
    padding: Padding,
    kernel_size: Sequence[int],
    dilation: int | Sequence[int] = 1,
    *,
    flip: bool = False,
) -> tuple[tuple[int, int], ...]:
    """The ``(low, high)`` padding of every spatial axis for a padding mode or amounts.

    ``"zero"`` and ``"replicate"`` pad ``d (k - 1)`` positions in all, split as PyTorch's
    ``padding="same"`` (the extra one at the end) for cross-correlation and mirrored for the
    true convolution (so that ``convolve(..., padding="zero")`` equals
    ``scipy.signal.convolve(..., mode="same")``); ``"full"`` pads ``d (k - 1)`` on both sides.

    Args:
        padding: a mode of :data:`PADDING_MODES`, an int (both sides of every axis), one int
            per axis, or one ``(low, high)`` pair per axis.
        kernel_size: ``(k_1, ..., k_N)``.
        dilation: one int, or one per axis.
        flip: whether the kernel is flipped (true convolution).

    Returns:
        One ``(low, high)`` pair per spatial axis.

    Example:
        >>> padding_amounts("zero", (3, 4))
        ((1, 1), (1, 2))
        >>> padding_amounts(2, (3, 3))
        ((2, 2), (2, 2))
    """
    kernel_size = tuple(kernel_size)
    n = len(kernel_size)
    dilation = _tuple("dilation", dilation, n)
    if isinstance(padding, str):
        if padding not in PADDING_MODES:
            raise ValueError(
                f"padding must be one of {PADDING_MODES}, an int or (low, high) pairs, "
                f"got {padding!r}"
            )
        return tuple(
            _mode_amounts(padding, k, d, flip) for k, d in zip(kernel_size, dilation, strict=True)
        )
    if isinstance(padding, int):
        pairs = ((padding, padding),) * n
    else:
        items = tuple(padding)
        if len(items) != n:
            raise ValueError(f"padding must have one entry per spatial axis ({n}), got {padding!r}")
        pairs = tuple((p, p) if isinstance(p, int) else tuple(p) for p in items)
    for pair in pairs:
        if len(pair) != 2 or any(not isinstance(p, int) or p < 0 for p in pair):
            raise ValueError(f"padding amounts must be ints >= 0, got {padding!r}")
    return tuple((int(lo), int(hi)) for lo, hi in pairs)


def conv_output_size(
    input_size: int,
    kernel_size: int,
    *,
    stride: int = 1,
    padding: str | int | tuple[int, int] = "valid",
    dilation: int = 1,
) -> int:
    """Output length of a convolution along one axis.

    ``m = floor((n + p_low + p_high - d (k - 1) - 1) / s) + 1``.

    Args:
        input_size: ``n``.
        kernel_size: ``k``.
        stride: ``s``.
        padding: a mode of :data:`PADDING_MODES`, an int (each side) or ``(low, high)``.
        dilation: ``d``.

    Returns:
        ``m`` (may be <= 0 when the kernel does not fit; :func:`conv_output_shape` raises).

    Example:
        >>> conv_output_size(28, 5)  # the slides: a 5x5 kernel on 28x28 gives 24x24
        24
        >>> conv_output_size(28, 5, stride=2)  # the slides' CNN: 12x12
        12
        >>> conv_output_size(12, 3, stride=2)  # its 3x3 stride-2 max-pool: 5x5
        5
    """
    check_positive_int("input_size", input_size)
    check_positive_int("stride", stride)
    ((low, high),) = padding_amounts(
        padding if isinstance(padding, str | int) else (tuple(padding),), (kernel_size,), dilation
    )
    span = effective_kernel_size(kernel_size, dilation)
    return (input_size + low + high - span) // stride + 1


def conv_output_shape(
    input_shape: Sequence[int],
    kernel_size: Sequence[int],
    *,
    strides: int | Sequence[int] = 1,
    padding: Padding = "valid",
    dilation: int | Sequence[int] = 1,
) -> tuple[int, ...]:
    """Spatial output shape, raising when the kernel is larger than the padded input.

    Args:
        input_shape: spatial input shape ``(n_1, ..., n_N)``.
        kernel_size: ``(k_1, ..., k_N)``.
        strides: one int or one per axis.
        padding: as in :func:`padding_amounts`.
        dilation: one int or one per axis.

    Returns:
        ``(m_1, ..., m_N)`` from :func:`conv_output_size`.

    Example:
        >>> conv_output_shape((320, 280), (2, 1))  # the course's cost example
        (319, 280)
    """
    kernel_size = tuple(kernel_size)
    n = len(kernel_size)
    if len(input_shape) != n:
        raise ValueError(
            f"kernel_size must have one entry per spatial axis of the input "
            f"{tuple(input_shape)}, got {kernel_size}"
        )
    strides = _tuple("strides", strides, n)
    dilation = _tuple("dilation", dilation, n)
    pads = padding_amounts(padding, kernel_size, dilation)
    out = []
    for axis in range(n):
        size, k, s, d, (lo, hi) = (
            input_shape[axis],
            kernel_size[axis],
            strides[axis],
            dilation[axis],
            pads[axis],
        )
        span = effective_kernel_size(k, d)
        if size + lo + hi < span:
            raise ValueError(
                f"kernel_size {kernel_size} (dilation {dilation}) spans {span} positions along "
                f"spatial axis {axis}, larger than the padded input ({size} + {lo} + {hi} "
                f"= {size + lo + hi}) of spatial shape {tuple(input_shape)} with padding "
                f"{padding!r}"
            )
        out.append((size + lo + hi - span) // s + 1)
    return tuple(out)


def pad(x: ArrayLike, amounts: Sequence[tuple[int, int]], border: str = "zero") -> Array:
    """Pad the spatial axes of ``[B, *spatial, C]`` with zeros or by replicating the border.

    Args:
        x: ``[B, n_1, ..., n_N, C]``.
        amounts: one ``(low, high)`` pair per spatial axis.
        border: ``"zero"`` or ``"replicate"`` (duplicate the outer rows/columns).

    Returns:
        ``[B, n_1 + p_1, ..., C]``.

    Example:
        >>> pad(jnp.array([1.0, 2.0, 3.0]).reshape(1, 3, 1), [(2, 1)], "replicate")[0, :, 0]
        Array([1., 1., 1., 2., 3., 3.], dtype=float32)
    """
    if border not in BORDERS:
        raise ValueError(f"border must be one of {BORDERS}, got {border!r}")
    x = jnp.asarray(x)
    widths = [(0, 0), *[tuple(a) for a in amounts], (0, 0)]
    if len(widths) != x.ndim:
        raise ValueError(
            f"amounts must have one pair per spatial axis of x {x.shape} ({x.ndim - 2}), "
            f"got {len(amounts)}"
        )
    return jnp.pad(x, widths, mode="edge" if border == "replicate" else "constant")


def _dimension_numbers(num_spatial: int) -> tuple[str, str, str]:
    if num_spatial not in (1, 2, 3):
        raise ValueError(f"x must have 1, 2 or 3 spatial axes, got {num_spatial}")
    letters = "DHW"[3 - num_spatial :]
    return (f"N{letters}C", f"{letters}IO", f"N{letters}C")


def _check_conv_inputs(x: Array, kernel: Array, groups: int) -> int:
    """Rank and channel checks; returns the number of spatial axes."""
    if kernel.ndim not in (3, 4, 5):
        raise ValueError(
            "kernel must have shape [*kernel_size, C_in / groups, C_out] with 1-3 spatial "
            f"axes, got shape {kernel.shape}"
        )
    num_spatial = kernel.ndim - 2
    if x.ndim != num_spatial + 2:
        raise ValueError(
            f"x must have shape [B, *spatial, C] with {num_spatial} spatial axes to match the "
            f"kernel {kernel.shape}, got shape {x.shape}"
        )
    check_positive_int("groups", groups)
    if x.shape[-1] != kernel.shape[-2] * groups or kernel.shape[-1] % groups:
        raise ValueError(
            f"channel mismatch: x has {x.shape[-1]} channels, the kernel {kernel.shape} takes "
            f"{kernel.shape[-2]} per group x {groups} groups = {kernel.shape[-2] * groups} "
            f"(and its {kernel.shape[-1]} output channels must divide into {groups} groups)"
        )
    return num_spatial


def cross_correlate(
    x: ArrayLike,
    kernel: ArrayLike,
    *,
    strides: int | Sequence[int] = 1,
    padding: Padding = "valid",
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    border: str = "zero",
) -> Array:
    """Cross-correlation, what libraries call convolution: no kernel flip.

    ``S[b, i, o] = sum_{a, c} K[a, c, o] I_pad[b, s i + d a, g(o) c]`` for every spatial
    multi-index ``i`` (``s`` the strides, ``d`` the dilation, ``g(o)`` the group of output
    channel ``o``).

    Args:
        x: ``[B, *spatial, C_in]`` with 1, 2 or 3 spatial axes.
        kernel: ``[*kernel_size, C_in / groups, C_out]``.
        strides: step of the window, one int or one per axis.
        padding: ``"valid"``, ``"zero"``, ``"replicate"``, ``"full"`` or explicit amounts.
        dilation: spacing of the kernel taps, one int or one per axis.
        groups: feature groups (``C_in`` and ``C_out`` divide into ``groups``; each output
            group sees only its input group).
        border: fill of explicit amounts (``"zero"`` or ``"replicate"``); named modes fix it.

    Returns:
        ``[B, *conv_output_shape(...), C_out]``.

    Example:
        >>> x = jnp.arange(5.0).reshape(1, 5, 1)
        >>> cross_correlate(x, jnp.array([1.0, 0.0, -1.0]).reshape(3, 1, 1))[0, :, 0]
        Array([-2., -2., -2.], dtype=float32)
    """
    return _correlate(x, kernel, strides, padding, dilation, groups, border, flip=False)


def convolve(
    x: ArrayLike,
    kernel: ArrayLike,
    *,
    strides: int | Sequence[int] = 1,
    padding: Padding = "valid",
    dilation: int | Sequence[int] = 1,
    groups: int = 1,
    border: str = "zero",
) -> Array:
    """True convolution, the course's definition: the kernel is flipped.

    ``S(i, j) = sum_{a, b} K(a, b) I(i - a, j - b)``, i.e. :func:`cross_correlate` with the
    kernel reversed along every spatial axis. With ``padding="valid"``, ``"zero"`` or
    ``"full"`` a single-channel result equals ``scipy.signal.convolve`` with mode
    ``"valid"``, ``"same"`` or ``"full"``.

    Args:
        x: ``[B, *spatial, C_in]``.
        kernel: ``[*kernel_size, C_in / groups, C_out]``.
        strides: one int or one per axis.
        padding: ``"valid"``, ``"zero"``, ``"replicate"``, ``"full"`` or explicit amounts.
        dilation: one int or one per axis.
        groups: feature groups.
        border: fill of explicit amounts.

    Returns:
        ``[B, *conv_output_shape(...), C_out]``.

    Example:
        >>> x = jnp.arange(5.0).reshape(1, 5, 1)
        >>> convolve(x, jnp.array([1.0, 0.0, -1.0]).reshape(3, 1, 1))[0, :, 0]
        Array([2., 2., 2.], dtype=float32)
    """
    return _correlate(x, kernel, strides, padding, dilation, groups, border, flip=True)


def _correlate(
    x: ArrayLike,
    kernel: ArrayLike,
    strides: int | Sequence[int],
    padding: Padding,
    dilation: int | Sequence[int],
    groups: int,
    border: str,
    *,
    flip: bool,
) -> Array:
    x, kernel = jnp.asarray(x), jnp.asarray(kernel)
    n = _check_conv_inputs(x, kernel, groups)
    kernel_size = kernel.shape[:n]
    strides = _tuple("strides", strides, n)
    dilation = _tuple("dilation", dilation, n)
    pads = padding_amounts(padding, kernel_size, dilation, flip=flip)
    if padding == "replicate":
        border = "replicate"
    elif isinstance(padding, str):
        border = "zero"
    conv_output_shape(x.shape[1:-1], kernel_size, strides=strides, padding=pads, dilation=dilation)
    if border == "replicate":
        x, pads = pad(x, pads, "replicate"), ((0, 0),) * n
    elif border != "zero":
        raise ValueError(f"border must be one of {BORDERS}, got {border!r}")
    if flip:
        kernel = jnp.flip(kernel, axis=tuple(range(n)))
    return lax.conv_general_dilated(
        x,
        kernel,
        window_strides=strides,
        padding=pads,
        rhs_dilation=dilation,
        dimension_numbers=_dimension_numbers(n),
        feature_group_count=groups,
    )


def _flipped_conv_general_dilated(lhs: Array, rhs: Array, *args: Any, **kwargs: Any) -> Array:
    """``lax.conv_general_dilated`` with the kernel reversed on its spatial axes."""
    dimension_numbers = kwargs.get("dimension_numbers")
    if dimension_numbers is None:  # flax passes them by keyword
        raise ValueError("dimension_numbers must be passed by keyword")
    spatial = tuple(dimension_numbers.rhs_spec[2:])
    return lax.conv_general_dilated(lhs, jnp.flip(rhs, axis=spatial), *args, **kwargs)


def _resolve_padding(
    padding: Padding, kernel_size: Sequence[int], dilation: Sequence[int], flip: bool, border: str
) -> tuple[tuple[tuple[int, int], ...], str]:
    pads = padding_amounts(padding, kernel_size, dilation, flip=flip)
    if isinstance(padding, str):
        border = "replicate" if padding == "replicate" else "zero"
    if border not in BORDERS:
        raise ValueError(f"border must be one of {BORDERS}, got {border!r}")
    return pads, border


class Conv(nn.Module):
    """A convolution layer: ``flax.linen.Conv`` plus the true (flipped) convolution and
    replicate padding.

    ``y = conv(x, K) + b`` where ``conv`` is :func:`convolve` when ``flip`` (the course's
    definition) and :func:`cross_correlate` otherwise (flax's and PyTorch's). Parameters
    ``{"conv": {"kernel": [*kernel_size, C_in / groups, features], "bias": [features]}}``
    are those of the inner ``flax.linen.Conv``.

    Attributes:
        features: number of output channels (filters).
        kernel_size: ``(k_1, ..., k_N)``, 1 to 3 spatial axes.
        strides: one int or one per axis.
        padding: ``"valid"``, ``"zero"``, ``"replicate"``, ``"full"`` or explicit amounts.
        dilation: one int or one per axis.
        groups: feature groups.
        use_bias: add a bias per output channel.
        flip: true convolution (flipped kernel) instead of cross-correlation.
        border: fill of explicit padding amounts (``"zero"`` or ``"replicate"``).
        kernel_init: kernel initializer (flax's default LeCun normal).

    Example:
        >>> import jax
        >>> layer = Conv(features=16, kernel_size=(5, 5), strides=2, flip=True)
        >>> x = jnp.ones((1, 28, 28, 1))  # the slides: 28x28 -> 12x12x16
        >>> jax.eval_shape(lambda x: layer.apply(layer.init(jax.random.key(0), x), x), x).shape
        (1, 12, 12, 16)
    """

    features: int
    kernel_size: Sequence[int]
    strides: int | Sequence[int] = 1
    padding: Padding = "valid"
    dilation: int | Sequence[int] = 1
    groups: int = 1
    use_bias: bool = True
    flip: bool = False
    border: str = "zero"
    kernel_init: Callable[..., Array] = nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """``x``: ``[B, *spatial, C_in]`` -> ``[B, *out_spatial, features]``."""
        kernel_size = tuple(self.kernel_size)
        n = len(kernel_size)
        dilation = _tuple("dilation", self.dilation, n)
        strides = _tuple("strides", self.strides, n)
        if x.ndim != n + 2:
            raise ValueError(
                f"x must have shape [B, *spatial, C] with {n} spatial axes, got shape {x.shape}"
            )
        check_positive_int("groups", self.groups)
        if x.shape[-1] % self.groups or self.features % self.groups:
            raise ValueError(
                f"channel mismatch: x has {x.shape[-1]} channels and features={self.features}; "
                f"both must divide into groups={self.groups}"
            )
        pads, border = _resolve_padding(self.padding, kernel_size, dilation, self.flip, self.border)
        conv_output_shape(
            x.shape[1:-1], kernel_size, strides=strides, padding=pads, dilation=dilation
        )
        if border == "replicate":
            x, pads = pad(x, pads, "replicate"), ((0, 0),) * n
        return nn.Conv(
            features=self.features,
            kernel_size=kernel_size,
            strides=strides,
            padding=pads,
            kernel_dilation=dilation,
            feature_group_count=self.groups,
            use_bias=self.use_bias,
            kernel_init=self.kernel_init,
            conv_general_dilated=_flipped_conv_general_dilated if self.flip else None,
            name="conv",
        )(x)


class LocallyConnected(nn.Module):
    """Unshared convolution: a separate kernel at every output position (``flax.linen.ConvLocal``).

    ``y[i, o] = sum_{a, c} W[i, (c, a), o] x_pad[s i + a, c] + b[i, o]``: each output unit
    looks at the same small window as a convolution would, but nothing is shared across
    positions. The kernel is ``[*out_spatial, C_in * prod(kernel_size), features]``; with every
    position's weights tied to one convolution kernel (:func:`tie_locally_connected_kernel`)
    the layer equals a cross-correlation.

    Attributes:
        features: output channels.
        kernel_size: ``(k_1, ..., k_N)``.
        strides: one int or one per axis.
        padding: ``"valid"``, ``"zero"``, ``"replicate"``, ``"full"`` or explicit amounts.
        use_bias: add a bias per output unit (position and channel).
        border: fill of explicit padding amounts.

    Example:
        >>> import jax
        >>> layer = LocallyConnected(features=2, kernel_size=(3, 3))
        >>> x = jnp.ones((1, 6, 6, 1))
        >>> variables = jax.eval_shape(layer.init, jax.random.key(0), x)
        >>> variables["params"]["conv"]["kernel"].shape  # 4x4 positions, 9 taps, 2 filters
        (4, 4, 9, 2)

    Reference: Goodfellow et al. (2016), section 9.5 (unshared convolution).
    """

    features: int
    kernel_size: Sequence[int]
    strides: int | Sequence[int] = 1
    padding: Padding = "valid"
    use_bias: bool = True
    border: str = "zero"

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """``x``: ``[B, *spatial, C_in]`` -> ``[B, *out_spatial, features]``."""
        kernel_size = tuple(self.kernel_size)
        n = len(kernel_size)
        strides = _tuple("strides", self.strides, n)
        if x.ndim != n + 2:
            raise ValueError(
                f"x must have shape [B, *spatial, C] with {n} spatial axes, got shape {x.shape}"
            )
        pads, border = _resolve_padding(self.padding, kernel_size, (1,) * n, False, self.border)
        conv_output_shape(x.shape[1:-1], kernel_size, strides=strides, padding=pads)
        x = pad(x, pads, border)
        return nn.ConvLocal(
            features=self.features,
            kernel_size=kernel_size,
            strides=strides,
            padding="VALID",
            use_bias=self.use_bias,
            name="conv",
        )(x)


def tie_locally_connected_kernel(kernel: ArrayLike, output_shape: Sequence[int]) -> Array:
    """The :class:`LocallyConnected` kernel whose every position uses one convolution kernel.

    Args:
        kernel: a convolution kernel ``[*kernel_size, C_in, C_out]``.
        output_shape: the spatial output shape ``(m_1, ..., m_N)``.

    Returns:
        ``[*output_shape, C_in * prod(kernel_size), C_out]`` in ``ConvLocal``'s patch order
        (input channel major, then the kernel taps).

    Example:
        >>> tie_locally_connected_kernel(jnp.ones((3, 3, 2, 4)), (5, 5)).shape
        (5, 5, 18, 4)
    """
    kernel = jnp.asarray(kernel)
    n = kernel.ndim - 2
    c_in, c_out = kernel.shape[-2:]
    # [*k, C_in, C_out] -> [C_in, *k, C_out] -> [C_in * prod(k), C_out]
    patch = jnp.moveaxis(kernel, -2, 0).reshape(c_in * math.prod(kernel.shape[:n]), c_out)
    return jnp.broadcast_to(patch, (*tuple(output_shape), *patch.shape))


def locally_connected_num_params(
    output_shape: Sequence[int],
    kernel_size: Sequence[int],
    in_features: int,
    features: int,
    *,
    use_bias: bool = True,
) -> int:
    """Parameters of an unshared convolution: one kernel (and bias) per output position.

    ``prod(m) (C_in prod(k) C_out + C_out)`` against ``prod(k) C_in C_out + C_out`` shared.

    Args:
        output_shape: spatial output shape ``(m_1, ..., m_N)``.
        kernel_size: ``(k_1, ..., k_N)``.
        in_features: ``C_in``.
        features: ``C_out``.
        use_bias: count a bias per output unit.

    Returns:
        The number of parameters.

    Example:
        >>> locally_connected_num_params((24, 24), (5, 5), 1, 1)  # vs 26 for a convolution
        14976
    """
    positions = math.prod(output_shape)
    per_position = math.prod(kernel_size) * in_features * features + (features if use_bias else 0)
    return positions * per_position


def _pool(
    x: ArrayLike,
    window_shape: Sequence[int],
    strides: int | Sequence[int] | None,
    padding: Padding,
    reducer: str,
    count_include_pad: bool,
) -> Array:
    x = jnp.asarray(x)
    window_shape = tuple(window_shape)
    n = len(window_shape)
    if x.ndim != n + 2:
        raise ValueError(
            f"x must have shape [B, *spatial, C] with {n} spatial axes (one per window "
            f"entry {window_shape}), got shape {x.shape}"
        )
    window_shape = _tuple("window_shape", window_shape, n)
    strides = window_shape if strides is None else _tuple("strides", strides, n)
    pads = padding_amounts(padding, window_shape)
    conv_output_shape(x.shape[1:-1], window_shape, strides=strides, padding=pads)
    if padding == "replicate":
        x, pads = pad(x, pads, "replicate"), ((0, 0),) * n
    dims, steps = (1, *window_shape, 1), (1, *strides, 1)
    widths = ((0, 0), *pads, (0, 0))
    if reducer == "max":
        return lax.reduce_window(x, -jnp.inf, lax.max, dims, steps, widths)
    total = lax.reduce_window(x, 0.0, lax.add, dims, steps, widths)
    if count_include_pad:
        return total / math.prod(window_shape)
    # the number of window positions inside the input, from the same pooling of ones
    ones = jnp.ones((1, *x.shape[1:-1], 1), x.dtype)
    return total / lax.reduce_window(ones, 0.0, lax.add, dims, steps, widths)


def max_pool(
    x: ArrayLike,
    window_shape: Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: Padding = "valid",
) -> Array:
    """Max pooling: the largest value in each window (padding never wins: ``-inf``).

    ``y[i, c] = max_{a in window} x_pad[s i + a, c]``; ``"replicate"`` pads with the border.

    Args:
        x: ``[B, *spatial, C]``.
        window_shape: ``(w_1, ..., w_N)``.
        strides: one int or one per axis (default: the window, non-overlapping).
        padding: ``"valid"``, ``"zero"`` (same size at stride 1), ``"replicate"``,
            ``"full"`` or explicit amounts.

    Returns:
        ``[B, *out_spatial, C]``.

    Example:
        >>> max_pool(jnp.ones((1, 12, 12, 16)), (3, 3), strides=2).shape  # the slides' 5x5x16
        (1, 5, 5, 16)
    """
    return _pool(x, window_shape, strides, padding, "max", True)


def avg_pool(
    x: ArrayLike,
    window_shape: Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: Padding = "valid",
    *,
    count_include_pad: bool = True,
) -> Array:
    """Average pooling: the mean of each window.

    Args:
        x: ``[B, *spatial, C]``.
        window_shape: ``(w_1, ..., w_N)``.
        strides: one int or one per axis (default: the window).
        padding: as in :func:`max_pool`.
        count_include_pad: divide by the whole window (padded zeros included, PyTorch's
            default) or only by the positions inside the input.

    Returns:
        ``[B, *out_spatial, C]``.

    Example:
        >>> avg_pool(jnp.arange(4.0).reshape(1, 4, 1), (2,))[0, :, 0]
        Array([0.5, 2.5], dtype=float32)
    """
    return _pool(x, window_shape, strides, padding, "avg", count_include_pad)


def global_avg_pool(x: ArrayLike) -> Array:
    """Mean over all spatial axes: ``[B, *spatial, C] -> [B, C]``, for inputs of any size.

    Example:
        >>> global_avg_pool(jnp.ones((2, 7, 5, 3))).shape
        (2, 3)
    """
    x = jnp.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"x must have shape [B, *spatial, C] (rank >= 3), got shape {x.shape}")
    return jnp.mean(x, axis=tuple(range(1, x.ndim - 1)))


def global_max_pool(x: ArrayLike) -> Array:
    """Maximum over all spatial axes: ``[B, *spatial, C] -> [B, C]``.

    Example:
        >>> global_max_pool(jnp.arange(6.0).reshape(1, 3, 2, 1))
        Array([[5.]], dtype=float32)
    """
    x = jnp.asarray(x)
    if x.ndim < 3:
        raise ValueError(f"x must have shape [B, *spatial, C] (rank >= 3), got shape {x.shape}")
    return jnp.max(x, axis=tuple(range(1, x.ndim - 1)))


def dilate_kernel(weights: ArrayLike, dilation: int) -> Array:
    """Spread kernel taps ``dilation`` apart with zeros between them (along every axis).

    Args:
        weights: ``[k_1, ..., k_N]`` (the stored weights).
        dilation: ``d``; the result has size ``d (k - 1) + 1`` per axis.

    Returns:
        The dense kernel with zeros between the taps.

    Example:
        >>> dilate_kernel(jnp.array([1.0, 2.0, 3.0]), 2)  # size 5, 2nd and 4th taps zero
        Array([1., 0., 2., 0., 3.], dtype=float32)
    """
    weights = jnp.asarray(weights)
    check_positive_int("dilation", dilation)
    shape = tuple(effective_kernel_size(k, dilation) for k in weights.shape)
    index = tuple(slice(None, None, dilation) for _ in weights.shape)
    return jnp.zeros(shape, weights.dtype).at[index].set(weights)


def num_inputs(*shape: int) -> int:
    """Number of input units of an image: the product of its dimensions.

    Example:
        >>> num_inputs(224, 224, 3)  # an RGB image
        150528
    """
    for s in shape:
        check_positive_int("shape", s)
    return math.prod(shape)


class ConvCost(NamedTuple):
    """Storage and operation counts of one single-channel convolution, three ways.

    Attributes:
        output_shape: ``(m_1, ..., m_N)`` (valid padding, stride 1).
        conv_floats: stored floats of the convolution (the kernel): ``prod(k)``.
        dense_floats: stored floats of the equivalent dense matrix: ``prod(m) prod(n)``.
        sparse_floats: stored non-zeros of the equivalent sparse matrix: ``prod(k) prod(m)``.
        conv_ops: multiplications and additions of the convolution (and of the sparse
            matrix): ``prod(m) (2 prod(k) - 1)``.
        dense_ops: the dense matrix-vector product's: ``prod(m) (2 prod(n) - 1)``.
    """

    output_shape: tuple[int, ...]
    conv_floats: int
    dense_floats: int
    sparse_floats: int
    conv_ops: int
    dense_ops: int


def conv_cost(input_shape: Sequence[int], kernel_size: Sequence[int]) -> ConvCost:
    """The course's cost comparison: convolution vs a dense or a sparse matrix.

    A valid, stride-1 convolution of a ``prod(n)``-pixel input with a ``prod(k)`` kernel is a
    matrix-vector product with a ``prod(m) x prod(n)`` matrix (``m = n - k + 1``) that has
    ``prod(k)`` non-zeros per row, all copies of the same ``prod(k)`` numbers.

    Args:
        input_shape: ``(n_1, ..., n_N)``.
        kernel_size: ``(k_1, ..., k_N)``.

    Returns:
        A :class:`ConvCost`.

    Example:
        >>> cost = conv_cost((320, 280), (2, 1))
        >>> cost.output_shape, cost.conv_floats, cost.dense_floats, cost.sparse_floats
        ((319, 280), 2, 8003072000, 178640)
        >>> cost.conv_ops, cost.dense_ops > 16e9
        (267960, True)
    """
    output_shape = conv_output_shape(tuple(input_shape), tuple(kernel_size))
    inputs, outputs, taps = math.prod(input_shape), math.prod(output_shape), math.prod(kernel_size)
    return ConvCost(
        output_shape=output_shape,
        conv_floats=taps,
        dense_floats=outputs * inputs,
        sparse_floats=taps * outputs,
        conv_ops=outputs * (2 * taps - 1),
        dense_ops=outputs * (2 * inputs - 1),
    )


def count_multiply_adds(model: nn.Module, example_shape: Sequence[int], **apply_kwargs: Any) -> int:
    """Multiply-adds of one forward pass of one example, counted from the model's layers.

    Every ``flax.linen.Conv`` contributes ``prod(output) * prod(k) * C_in / groups`` and every
    ``Dense`` ``prod(output) * n_in`` (the table convention of He et al.: normalization,
    activations, pooling and additions are not counted). The model is traced abstractly
    (``jax.eval_shape``), so nothing is allocated.

    Args:
        model: a flax module built from ``nn.Conv`` / ``nn.Dense`` (or :class:`Conv`).
        example_shape: the shape of one example, e.g. ``(224, 224, 3)``.
        **apply_kwargs: passed to ``model.init`` (e.g. ``train=False``).

    Returns:
        The number of multiply-adds.

    Example:
        >>> count_multiply_adds(Conv(features=16, kernel_size=(5, 5), strides=2), (28, 28, 1))
        57600
    """
    total = [0]

    def count(next_fun: Callable[..., Any], args: Any, kwargs: Any, context: Any) -> Any:
        out = next_fun(*args, **kwargs)
        module = context.module
        if context.method_name == "__call__" and type(module) in (nn.Conv, nn.Dense):
            inputs = args[0]
            outputs = math.prod(out.shape[1:])
            if isinstance(module, nn.Conv):
                taps = math.prod(module.kernel_size) * inputs.shape[-1]
                total[0] += outputs * taps // module.feature_group_count
            else:
                total[0] += outputs * inputs.shape[-1]
        return out

    abstract_key = jax.eval_shape(jax.random.key, 0)
    example = jax.ShapeDtypeStruct((1, *tuple(example_shape)), jnp.float32)
    with nn.intercept_methods(count):
        jax.eval_shape(lambda k, x: model.init(k, x, **apply_kwargs), abstract_key, example)
    return total[0]


register_model(
    ModelSpec(
        name="Conv",
        make=lambda: Conv(
            features=3, kernel_size=(3, 3), strides=(2, 1), padding="replicate", flip=True
        ),
        input_shape=(6, 5, 2),
    )
)
register_model(
    ModelSpec(
        name="LocallyConnected",
        make=lambda: LocallyConnected(features=2, kernel_size=(3, 3), padding="zero"),
        input_shape=(5, 5, 2),
    )
)
