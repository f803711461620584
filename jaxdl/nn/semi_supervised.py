"""Semi-supervised learning: an autoencoder whose encoder also feeds a classifier.

Trained with :func:`jaxdl.losses.semi_supervised_loss`: cross-entropy on the few
labelled examples plus a reconstruction term on every example.

Reference: Goodfellow, Bengio & Courville, *Deep Learning* (2016), section 15.1.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxdl._checks import check_floating, check_positive_int
from jaxdl.nn.activations import get_activation
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

__all__ = ["SemiSupervisedAutoencoder"]


class SemiSupervisedAutoencoder(nn.Module):
    """An autoencoder whose encoder also feeds a classifier head.

    ``c = enc(x)``, ``x_hat = dec(c)``, ``logits = c V + b``: the generative part
    ``P(x)`` and the discriminative part ``P(y | x)`` share the encoder, so unlabelled
    examples shape the representation the classifier uses.

    Attributes:
        encoder_features: encoder widths; the last one is the code size. The decoder
            mirrors them and ends with a linear layer of the input size.
        num_classes: classifier outputs.
        activation: hidden activation.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = SemiSupervisedAutoencoder(encoder_features=(8, 2), num_classes=3)
        >>> params = model.init(jax.random.key(0), jnp.ones((4, 6)))
        >>> logits, reconstruction = model.apply(params, jnp.ones((4, 6)))
        >>> logits.shape, reconstruction.shape
        ((4, 3), (4, 6))
    """

    encoder_features: Sequence[int]
    num_classes: int
    activation: str | Callable[[Array], Array] = "tanh"

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> tuple[Array, Array]:
        """``(logits [..., num_classes], reconstruction [..., d])`` for inputs ``[..., d]``."""
        del train
        if len(self.encoder_features) == 0:
            raise ValueError("encoder_features must list at least the code size, got ()")
        for i, width in enumerate(self.encoder_features):
            check_positive_int(f"encoder_features[{i}]", width)
        check_positive_int("num_classes", self.num_classes)
        act = get_activation(self.activation)
        x = jnp.asarray(x)
        check_floating("x", x)
        h = x
        for i, width in enumerate(self.encoder_features):
            h = act(nn.Dense(width, name=f"encoder_{i}")(h))
        code = h
        for i, width in enumerate(reversed(tuple(self.encoder_features)[:-1])):
            h = act(nn.Dense(width, name=f"decoder_{i}")(h))
        reconstruction = nn.Dense(x.shape[-1], name="decoder_out")(h)
        logits = nn.Dense(self.num_classes, name="classifier")(code)
        return logits, reconstruction


register_model(
    ModelSpec(
        name="SemiSupervisedAutoencoder",
        make=lambda: SemiSupervisedAutoencoder(encoder_features=(6, 2), num_classes=3),
        input_shape=(5,),
    )
)
