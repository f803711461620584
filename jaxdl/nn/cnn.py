"""Convolutional classifiers of the course: the slides' CNN, LeNet-5, a 1-D CNN, and a fully
convolutional per-pixel classifier (structured outputs).

- :class:`SlidesCNN`: 28x28 -> Conv(1 -> 16, 5x5, stride 2) -> 12x12x16 -> ReLU -> max-pool
  3x3 stride 2 -> 5x5x16 -> flatten (400) -> dense ``K``.
- :class:`LeNet5`: C1 conv 5x5 (6) -> S2 average pool -> C3 conv 5x5 (16) -> S4 pool ->
  C5 (120) -> F6 (84) -> output; 61,706 parameters for 10 classes on 28x28 digits (padded to
  32x32 as in the paper).
- :class:`CNN1D`: a stack of 1-D convolutions for sequences such as MNIST-1D.
- :class:`FullyConvolutionalNet`: zero-padded convolutions that keep the resolution and a
  1x1 convolution to class scores, so the output is a label distribution per pixel,
  ``[B, H, W, K]``, for any input size.

Each model takes ``train`` (for batch norm, when present); the slides' CNN and LeNet-5 have a
``feature_maps`` method returning their hidden maps, for plotting.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn

from jaxdl.nn.conv import Conv, avg_pool, global_avg_pool, max_pool
from jaxdl.nn.normalization import BatchNorm
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

__all__ = ["CNN1D", "FullyConvolutionalNet", "LeNet5", "SlidesCNN"]


class SlidesCNN(nn.Module):
    """The slides' network: one strided convolution, one max-pool, one dense layer.

    ``[B, 28, 28, 1] -> conv 5x5/2 (16) -> [B, 12, 12, 16] -> ReLU -> max-pool 3x3/2 ->
    [B, 5, 5, 16] -> flatten [B, 400] -> dense [B, num_classes]`` (logits).

    Attributes:
        num_classes: ``K``.
        features: filters of the convolution (16 in the slides).
        flip: use the true (flipped-kernel) convolution; the same function class.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = SlidesCNN(num_classes=10)
        >>> x = jnp.ones((2, 28, 28, 1))
        >>> jax.eval_shape(lambda x: model.apply(model.init(jax.random.key(0), x), x), x).shape
        (2, 10)
    """

    num_classes: int = 10
    features: int = 16
    flip: bool = False

    def setup(self) -> None:
        self.conv = Conv(self.features, (5, 5), strides=2, flip=self.flip)
        self.head = nn.Dense(self.num_classes)

    def feature_maps(self, x: Array) -> dict[str, Array]:
        """Hidden maps: ``conv`` ``[B, 12, 12, 16]`` (after ReLU), ``pool`` ``[B, 5, 5, 16]``."""
        conv = nn.relu(self.conv(x))
        return {"conv": conv, "pool": max_pool(conv, (3, 3), strides=2)}

    def __call__(self, x: Array, train: bool = False) -> Array:
        """``x``: ``[B, 28, 28, 1]`` -> logits ``[B, num_classes]``."""
        pooled = self.feature_maps(x)["pool"]
        return self.head(pooled.reshape(pooled.shape[0], -1))


class LeNet5(nn.Module):
    """LeNet-5: two convolution + subsampling stages and three dense layers (tanh).

    ``[B, 28, 28, 1] -> pad 2 -> C1 5x5 (6) 28x28 -> S2 avg 2x2 14x14 -> C3 5x5 (16) 10x10 ->
    S4 avg 2x2 5x5 -> C5 (120) -> F6 (84) -> output``. (The paper's C3 connects only some
    S2 maps and its output is RBF units; here C3 is full and the output is logits, the usual
    reading.)

    Attributes:
        num_classes: outputs.
        activation: ``"tanh"`` (the paper) or ``"relu"``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = LeNet5()
        >>> x = jnp.ones((1, 28, 28, 1))
        >>> jax.eval_shape(lambda x: model.apply(model.init(jax.random.key(0), x), x), x).shape
        (1, 10)

    Reference: LeCun, Bottou, Bengio and Haffner, *Gradient-based learning applied to
    document recognition*, Proc. IEEE 1998.
    """

    num_classes: int = 10
    activation: str = "tanh"

    def setup(self) -> None:
        self.c1 = Conv(6, (5, 5), padding=2)
        self.c3 = Conv(16, (5, 5))
        self.c5 = nn.Dense(120)
        self.f6 = nn.Dense(84)
        self.output = nn.Dense(self.num_classes)

    def _act(self, x: Array) -> Array:
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu', got {self.activation!r}")
        return nn.tanh(x) if self.activation == "tanh" else nn.relu(x)

    def feature_maps(self, x: Array) -> dict[str, Array]:
        """``c1`` ``[B, 28, 28, 6]``, ``s2`` ``[B, 14, 14, 6]``, ``c3`` ``[B, 10, 10, 16]``,
        ``s4`` ``[B, 5, 5, 16]``."""
        c1 = self._act(self.c1(x))
        s2 = avg_pool(c1, (2, 2))
        c3 = self._act(self.c3(s2))
        return {"c1": c1, "s2": s2, "c3": c3, "s4": avg_pool(c3, (2, 2))}

    def __call__(self, x: Array, train: bool = False) -> Array:
        """``x``: ``[B, 28, 28, 1]`` (or 32x32 with ``padding``) -> logits."""
        s4 = self.feature_maps(x)["s4"]
        h = self._act(self.c5(s4.reshape(s4.shape[0], -1)))
        return self.output(self._act(self.f6(h)))


class CNN1D(nn.Module):
    """1-D convolutions (ReLU, "zero" padding, optional stride), global or flat readout.

    Attributes:
        features: channels of each convolution, e.g. ``(32, 32, 32)``.
        kernel_size: taps of every convolution, or one entry per convolution.
        strides: stride of every convolution.
        num_classes: outputs.
        use_batch_norm: batch norm after every convolution.
        readout: ``"flatten"`` (a dense layer on all positions) or ``"global"`` (average
            over positions first: any input length).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = CNN1D(features=(4, 4), num_classes=10)
        >>> x = jnp.ones((2, 40, 1))
        >>> jax.eval_shape(lambda x: model.apply(model.init(jax.random.key(0), x), x), x).shape
        (2, 10)
    """

    features: Sequence[int] = (32, 32, 32)
    kernel_size: int | Sequence[int] = 5
    strides: int = 2
    num_classes: int = 10
    use_batch_norm: bool = False
    readout: str = "flatten"

    @nn.compact
    def __call__(self, x: Array, train: bool = False) -> Array:
        """``x``: ``[B, L, C]`` (or ``[B, L]``, one channel) -> logits ``[B, num_classes]``."""
        if x.ndim == 2:
            x = x[..., None]
        sizes = (
            (self.kernel_size,) * len(self.features)
            if isinstance(self.kernel_size, int)
            else tuple(self.kernel_size)
        )
        if len(sizes) != len(self.features):
            raise ValueError(
                f"kernel_size must be an int or have one entry per convolution "
                f"({len(self.features)}), got {self.kernel_size!r}"
            )
        for features, size in zip(self.features, sizes, strict=True):
            x = Conv(features, (size,), strides=self.strides, padding="zero")(x)
            if self.use_batch_norm:
                x = BatchNorm()(x, train=train)
            x = nn.relu(x)
        if self.readout == "global":
            x = global_avg_pool(x)
        elif self.readout == "flatten":
            x = x.reshape(x.shape[0], -1)
        else:
            raise ValueError(f"readout must be 'flatten' or 'global', got {self.readout!r}")
        return nn.Dense(self.num_classes)(x)


class FullyConvolutionalNet(nn.Module):
    """A per-pixel classifier: same-size convolutions and a 1x1 convolution to class scores.

    ``[B, H, W, C] -> (conv kxk "zero" padding, ReLU) x L -> conv 1x1 -> [B, H, W, K]``
    logits; with ``dilation`` growing ``1, 2, 4, ...`` the receptive field grows
    exponentially with depth while the resolution stays.

    Attributes:
        features: channels of the hidden convolutions.
        num_classes: ``K`` labels per pixel.
        kernel_size: taps per axis.
        dilate: dilation ``2**l`` in layer ``l`` (else 1).
        use_batch_norm: batch norm after every hidden convolution.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = FullyConvolutionalNet(features=(4, 4), num_classes=3)
        >>> x = jnp.ones((1, 9, 7, 1))
        >>> jax.eval_shape(lambda x: model.apply(model.init(jax.random.key(0), x), x), x).shape
        (1, 9, 7, 3)
    """

    features: Sequence[int] = (16, 16, 16)
    num_classes: int = 2
    kernel_size: int = 3
    dilate: bool = True
    use_batch_norm: bool = False

    @nn.compact
    def __call__(self, x: Array, train: bool = False) -> Array:
        """``x``: ``[B, H, W, C]`` -> per-pixel logits ``[B, H, W, num_classes]``."""
        k = (self.kernel_size, self.kernel_size)
        for layer, features in enumerate(self.features):
            dilation = 2**layer if self.dilate else 1
            x = Conv(features, k, padding="zero", dilation=dilation)(x)
            if self.use_batch_norm:
                x = BatchNorm()(x, train=train)
            x = nn.relu(x)
        return Conv(self.num_classes, (1, 1))(x)


register_model(
    ModelSpec(name="SlidesCNN", make=lambda: SlidesCNN(num_classes=3), input_shape=(28, 28, 1))
)
register_model(ModelSpec(name="LeNet5", make=lambda: LeNet5(), input_shape=(28, 28, 1)))
register_model(
    ModelSpec(
        name="CNN1D",
        make=lambda: CNN1D(features=(3, 3), num_classes=4, use_batch_norm=True),
        input_shape=(12, 1),
        apply_kwargs={"train": False},
    )
)
register_model(
    ModelSpec(
        name="FullyConvolutionalNet",
        make=lambda: FullyConvolutionalNet(features=(3, 3), num_classes=2),
        input_shape=(6, 5, 1),
    )
)
