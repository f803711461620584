"""Residual networks: basic and bottleneck blocks, ResNet-18 to 152, small-input ResNets.

A residual block learns the residual ``F(x)`` of the mapping it should represent and adds
its input back, ``y = relu(F(x) + shortcut(x))``; the shortcut is the identity, or a
projection (a 1x1 convolution with batch norm) where the block changes the number of
channels or the resolution (He et al.'s option B).

- :class:`BasicBlock`: ``3x3 -> 3x3`` convolutions (ResNet-18/34), expansion 1;
- :class:`BottleneckBlock`: ``1x1`` (reduce) ``-> 3x3 -> 1x1`` (expand x4) (ResNet-50/101/152).

:class:`ResNet` stacks a stem (7x7/2 convolution and 3x3/2 max-pool for 224x224 images, or a
3x3/1 convolution without pooling for 32x32 images), four stages of blocks (the first block
of stages 2-4 halves the resolution), global average pooling and a dense classifier. With
1000 classes, :func:`resnet18` ... :func:`resnet152` have the published parameter counts
(11,689,512 / 21,797,672 / 25,557,032 / 44,549,160 / 60,192,808) and about the table's
multiply-adds (1.8 / 3.6 / 3.8 / 7.6 / 11.3 x 10^9, :func:`jaxdl.nn.count_multiply_adds`).
Normalization is :class:`jaxdl.nn.BatchNorm`, so the course's final phase applies.

Reference: He, Zhang, Ren and Sun, *Deep Residual Learning for Image Recognition*,
CVPR 2016 (table 1).
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn

from jaxdl.nn.conv import global_avg_pool, max_pool
from jaxdl.nn.normalization import BatchNorm
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

__all__ = [
    "RESNET_STAGES",
    "BasicBlock",
    "BottleneckBlock",
    "ResNet",
    "resnet18",
    "resnet34",
    "resnet50",
    "resnet101",
    "resnet152",
    "small_resnet",
]

RESNET_STAGES: dict[int, tuple[str, tuple[int, ...]]] = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
"""Depth -> (block, blocks per stage), the paper's table 1."""


def _conv(features: int, kernel: int, stride: int = 1, name: str | None = None) -> nn.Conv:
    """A bias-free ``kernel x kernel`` convolution with PyTorch's symmetric zero padding."""
    half = (kernel - 1) // 2
    return nn.Conv(
        features,
        (kernel, kernel),
        strides=stride,
        padding=((half, half), (half, half)),
        use_bias=False,
        kernel_init=nn.initializers.variance_scaling(2.0, "fan_out", "normal"),
        name=name,
    )


class BasicBlock(nn.Module):
    """``y = relu(BN(conv3x3(relu(BN(conv3x3_s(x))))) + shortcut(x))``.

    Attributes:
        features: output channels.
        strides: stride of the first convolution (2 halves the resolution).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> block = BasicBlock(features=8, strides=2)
        >>> x = jnp.ones((1, 8, 8, 4))
        >>> jax.eval_shape(lambda x: block.apply(block.init(jax.random.key(0), x), x), x).shape
        (1, 4, 4, 8)
    """

    features: int
    strides: int = 1

    @nn.compact
    def __call__(self, x: Array, train: bool = False) -> Array:
        """``x``: ``[B, H, W, C]`` -> ``[B, H / s, W / s, features]``."""
        y = _conv(self.features, 3, self.strides)(x)
        y = nn.relu(BatchNorm()(y, train=train))
        y = _conv(self.features, 3)(y)
        y = BatchNorm()(y, train=train)
        return nn.relu(y + _shortcut(x, self.features, self.strides, train))


class BottleneckBlock(nn.Module):
    """``1x1`` reduce ``-> 3x3 -> 1x1`` expand (x4) with batch norm, plus the shortcut.

    Attributes:
        features: the bottleneck width; the block outputs ``4 * features`` channels.
        strides: stride of the block (2 halves the resolution).
        stride_on_3x3: put the stride on the 3x3 convolution (torchvision's "v1.5") instead
            of the first 1x1 convolution (the paper); same parameters, more multiply-adds.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> block = BottleneckBlock(features=4)
        >>> x = jnp.ones((1, 6, 6, 16))
        >>> jax.eval_shape(lambda x: block.apply(block.init(jax.random.key(0), x), x), x).shape
        (1, 6, 6, 16)
    """

    features: int
    strides: int = 1
    stride_on_3x3: bool = False

    @nn.compact
    def __call__(self, x: Array, train: bool = False) -> Array:
        """``x``: ``[B, H, W, C]`` -> ``[B, H / s, W / s, 4 features]``."""
        first, middle = (1, self.strides) if self.stride_on_3x3 else (self.strides, 1)
        y = nn.relu(BatchNorm()(_conv(self.features, 1, first)(x), train=train))
        y = nn.relu(BatchNorm()(_conv(self.features, 3, middle)(y), train=train))
        y = BatchNorm()(_conv(4 * self.features, 1)(y), train=train)
        return nn.relu(y + _shortcut(x, 4 * self.features, self.strides, train))


def _shortcut(x: Array, features: int, strides: int, train: bool) -> Array:
    """Identity when the shape is kept, else a 1x1 strided projection with batch norm."""
    if strides == 1 and x.shape[-1] == features:
        return x
    projection = _conv(features, 1, strides, name="projection")(x)
    return BatchNorm(name="projection_bn")(projection, train=train)


class ResNet(nn.Module):
    """A residual network: stem, stages of residual blocks, global average pool, classifier.

    Attributes:
        stage_sizes: blocks per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
        block: ``"basic"`` or ``"bottleneck"``.
        num_classes: outputs of the final dense layer (logits).
        widths: channels (bottleneck widths) per stage; default ``64 * 2**i``.
        stem: ``"imagenet"`` (7x7/2 convolution, 3x3/2 max-pool) or ``"small"`` (3x3/1
            convolution, no pooling: 32x32 images keep their resolution in stage 1).
        stride_on_3x3: see :class:`BottleneckBlock`.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = ResNet(stage_sizes=(1, 1), block="basic", num_classes=10, widths=(8, 16),
        ...                stem="small")
        >>> x = jnp.ones((2, 32, 32, 3))
        >>> jax.eval_shape(lambda x: model.apply(model.init(jax.random.key(0), x), x), x).shape
        (2, 10)
    """

    stage_sizes: Sequence[int]
    block: str = "basic"
    num_classes: int = 1000
    widths: Sequence[int] | None = None
    stem: str = "imagenet"
    stride_on_3x3: bool = False

    @nn.compact
    def __call__(self, x: Array, train: bool = False) -> Array:
        """``x``: ``[B, H, W, C]`` images -> ``[B, num_classes]`` logits."""
        if self.block not in ("basic", "bottleneck"):
            raise ValueError(f"block must be 'basic' or 'bottleneck', got {self.block!r}")
        if self.stem not in ("imagenet", "small"):
            raise ValueError(f"stem must be 'imagenet' or 'small', got {self.stem!r}")
        if x.ndim != 4:
            raise ValueError(f"x must have shape [B, H, W, C], got shape {x.shape}")
        widths = self.widths or tuple(64 * 2**i for i in range(len(self.stage_sizes)))
        if len(widths) != len(self.stage_sizes):
            raise ValueError(
                f"widths must have one entry per stage ({len(self.stage_sizes)}), got {widths}"
            )
        if self.stem == "imagenet":
            x = _conv(widths[0], 7, 2, name="stem")(x)
            x = nn.relu(BatchNorm(name="stem_bn")(x, train=train))
            x = max_pool(x, (3, 3), strides=2, padding=1)
        else:
            x = _conv(widths[0], 3, 1, name="stem")(x)
            x = nn.relu(BatchNorm(name="stem_bn")(x, train=train))
        for stage, (num_blocks, features) in enumerate(zip(self.stage_sizes, widths, strict=True)):
            for index in range(num_blocks):
                strides = 2 if stage > 0 and index == 0 else 1
                name = f"stage{stage + 1}_block{index + 1}"
                if self.block == "basic":
                    x = BasicBlock(features, strides, name=name)(x, train=train)
                else:
                    x = BottleneckBlock(features, strides, self.stride_on_3x3, name=name)(
                        x, train=train
                    )
        return nn.Dense(self.num_classes, name="head")(global_avg_pool(x))


def _resnet(depth: int, num_classes: int, stem: str) -> ResNet:
    block, stages = RESNET_STAGES[depth]
    return ResNet(stage_sizes=stages, block=block, num_classes=num_classes, stem=stem)


def resnet18(num_classes: int = 1000, stem: str = "imagenet") -> ResNet:
    """ResNet-18: basic blocks ``(2, 2, 2, 2)``; 11,689,512 parameters with 1000 classes.

    Example:
        >>> resnet18().stage_sizes
        (2, 2, 2, 2)
    """
    return _resnet(18, num_classes, stem)


def resnet34(num_classes: int = 1000, stem: str = "imagenet") -> ResNet:
    """ResNet-34: basic blocks ``(3, 4, 6, 3)``; 21,797,672 parameters with 1000 classes.

    Example:
        >>> resnet34().block
        'basic'
    """
    return _resnet(34, num_classes, stem)


def resnet50(num_classes: int = 1000, stem: str = "imagenet") -> ResNet:
    """ResNet-50: bottleneck blocks ``(3, 4, 6, 3)``; 25,557,032 parameters with 1000 classes.

    Example:
        >>> resnet50().block
        'bottleneck'
    """
    return _resnet(50, num_classes, stem)


def resnet101(num_classes: int = 1000, stem: str = "imagenet") -> ResNet:
    """ResNet-101: bottleneck blocks ``(3, 4, 23, 3)``; 44,549,160 parameters.

    Example:
        >>> resnet101().stage_sizes
        (3, 4, 23, 3)
    """
    return _resnet(101, num_classes, stem)


def resnet152(num_classes: int = 1000, stem: str = "imagenet") -> ResNet:
    """ResNet-152: bottleneck blocks ``(3, 8, 36, 3)``; 60,192,808 parameters.

    Example:
        >>> resnet152().stage_sizes
        (3, 8, 36, 3)
    """
    return _resnet(152, num_classes, stem)


def small_resnet(depth: int = 20, num_classes: int = 10, width: int = 16) -> ResNet:
    """The paper's ResNets for 32x32 images: ``6n + 2`` layers, three stages of ``n`` blocks.

    Widths ``(w, 2w, 4w)`` (16, 32, 64 in the paper), a 3x3 stem, no max-pool: depth 20, 32,
    44, 56, 110 (section 4.2). ``resnet18(stem="small")`` is the other common 32x32 choice.

    Args:
        depth: ``6 n + 2``.
        num_classes: outputs.
        width: channels of the first stage.

    Returns:
        A :class:`ResNet`.

    Example:
        >>> small_resnet(20).stage_sizes
        (3, 3, 3)
    """
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6 n + 2 with n >= 1 (8, 14, 20, 32, ...), got {depth}")
    n = (depth - 2) // 6
    return ResNet(
        stage_sizes=(n, n, n),
        block="basic",
        num_classes=num_classes,
        widths=(width, 2 * width, 4 * width),
        stem="small",
    )


register_model(
    ModelSpec(
        name="BasicBlock",
        make=lambda: BasicBlock(features=4, strides=2),
        input_shape=(6, 6, 3),
        apply_kwargs={"train": False},
    )
)
register_model(
    ModelSpec(
        name="BottleneckBlock",
        make=lambda: BottleneckBlock(features=2, strides=2),
        input_shape=(6, 6, 3),
        apply_kwargs={"train": False},
    )
)
register_model(
    ModelSpec(
        name="ResNet",
        make=lambda: ResNet(
            stage_sizes=(1,), block="bottleneck", num_classes=3, widths=(2,), stem="imagenet"
        ),
        input_shape=(8, 8, 3),
        apply_kwargs={"train": False},
    )
)
