"""Maxout units: each unit is the maximum of ``k`` affine pieces of its input.

Unit ``i`` computes ``h_i = max_{j = 1..k} (x W_{:, i, j} + b_{i, j})``. A maxout unit is
a learned convex, piecewise-linear activation: with ``k = 2`` and one piece fixed at zero
it is a ReLU, with pieces ``s`` and ``-s`` the absolute value, and with enough pieces it
approximates any convex function. Its gradient flows through the winning piece only, so
no unit is ever entirely dead (some piece always wins), at the price of ``k`` times the
parameters of a dense layer.

Reference: Goodfellow, Warde-Farley, Mirza, Courville and Bengio, "Maxout Networks",
ICML 2013; Goodfellow et al., *Deep Learning*, 2016, sec. 6.3.2.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.nn.initializers import lecun_uniform_course
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

__all__ = ["Maxout"]


class Maxout(nn.Module):
    """A layer of maxout units, ``h_i = max_j (x W_{:, i, j} + b_{i, j})``.

    Parameters: ``kernel`` of shape ``[n_in, features, num_pieces]`` and ``bias`` of shape
    ``[features, num_pieces]`` (one affine piece per unit and index ``j``).

    Attributes:
        features: number of maxout units (outputs).
        num_pieces: ``k >= 1`` linear pieces per unit (``k = 1`` is a dense layer).
        kernel_init: initializer of the kernel (fans of the ``[n_in, features * k]`` map).
        bias_init: initializer of the biases.
        use_bias: whether pieces have biases.

    Example:
        >>> import jax
        >>> layer = Maxout(features=3, num_pieces=4)
        >>> x = jnp.ones((2, 5))
        >>> params = layer.init(jax.random.key(0), x)
        >>> params["params"]["kernel"].shape, layer.apply(params, x).shape
        ((5, 3, 4), (2, 3))
    """

    features: int
    num_pieces: int = 2
    kernel_init: Callable[..., Array] = lecun_uniform_course()
    bias_init: Callable[..., Array] = nn.initializers.zeros
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """Apply the layer to ``x`` of shape ``[..., n_in]``; returns ``[..., features]``."""
        check_positive_int("features", self.features)
        check_positive_int("num_pieces", self.num_pieces)
        x = jnp.asarray(x)
        if x.ndim == 0:
            raise ValueError("x must have a feature axis, got a scalar")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.float32)
        n_in, k = x.shape[-1], self.num_pieces

        def init_kernel(key, shape, dtype=jnp.float32):
            flat = self.kernel_init(key, (shape[0], shape[1] * shape[2]), dtype)
            return flat.reshape(shape)

        kernel = self.param("kernel", init_kernel, (n_in, self.features, k), x.dtype)
        pieces = jnp.einsum("...d,dfk->...fk", x, kernel)
        if self.use_bias:
            bias = self.param("bias", self.bias_init, (self.features, k), x.dtype)
            pieces = pieces + bias.reshape((1,) * (pieces.ndim - 2) + bias.shape)
        return jnp.max(pieces, axis=-1)


register_model(
    ModelSpec(name="Maxout", make=lambda: Maxout(features=4, num_pieces=3), input_shape=(5,))
)
