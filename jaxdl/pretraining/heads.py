"""Fine-tuning heads: sequence classification on a pre-trained encoder or decoder."""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp

from jaxdl.nn.language_models import BERT, GPT, tiny_bert
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

POOLINGS = ("first", "last", "mean")


class FineTuningClassifier(nn.Module):
    """A linear classifier on a pre-trained Transformer's sequence representation.

    BERT classifies from its pooled ``[CLS]`` state (``pooling="first"`` uses the
    pooler when the backbone has one); GPT from the state of the last token, the only
    one that has seen the whole sequence (``"last"``, the last *valid* token under
    padding); ``"mean"`` averages the valid states. The backbone's parameters live
    under ``params["backbone"]``, so pre-trained weights drop in with
    ``params | {"backbone": pretrained}`` (or ``jaxdl.training.transfer_params``).

    Attributes:
        backbone: a ``jaxdl.nn.BERT`` or ``jaxdl.nn.GPT``.
        num_classes: outputs.
        pooling: ``"first"``, ``"last"`` or ``"mean"``.
        dropout_rate: dropout on the pooled features in training.

    Example:
        >>> import jax
        >>> from jaxdl.nn import tiny_gpt
        >>> model = FineTuningClassifier(tiny_gpt(), num_classes=3, pooling="last")
        >>> tokens = jnp.ones((2, 5), jnp.int32)
        >>> variables = jax.jit(model.init)(jax.random.key(0), tokens)
        >>> jax.jit(model.apply)(variables, tokens).shape
        (2, 3)

    Reference: Radford et al., 2018, section 3.2; Devlin et al., 2019, section 4.
    """

    backbone: nn.Module
    num_classes: int
    pooling: str = "first"
    dropout_rate: float = 0.0

    @nn.compact
    def __call__(self, tokens: Array, valid: Array | None = None, *, train: bool = False) -> Array:
        """``tokens``: ``(B, T)``; ``valid``: ``(B, T)`` booleans -> ``(B, num_classes)`` logits."""
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        valid = jnp.ones(tokens.shape, bool) if valid is None else jnp.asarray(valid, bool)
        if isinstance(self.backbone, BERT):
            out = self.backbone(tokens, valid=valid, train=train)
            hidden, pooled = out.hidden, out.pooled
        elif isinstance(self.backbone, GPT):
            hidden = self.backbone(tokens, train=train, return_hidden=True)
            pooled = None
        else:
            raise TypeError(f"backbone must be a BERT or a GPT, got {type(self.backbone).__name__}")
        if self.pooling == "first":
            features = pooled if pooled is not None else hidden[:, 0]
        elif self.pooling == "last":
            last = jnp.maximum(jnp.sum(valid, axis=1) - 1, 0)
            features = jnp.take_along_axis(hidden, last[:, None, None], axis=1)[:, 0]
        else:
            weights = valid.astype(hidden.dtype)[..., None]
            features = jnp.sum(hidden * weights, 1) / jnp.maximum(jnp.sum(weights, 1), 1.0)
        features = nn.Dropout(self.dropout_rate)(features, deterministic=not train)
        return nn.Dense(self.num_classes, name="head")(features).astype(jnp.float32)


register_model(
    ModelSpec(
        name="FineTuningClassifier",
        make=lambda: FineTuningClassifier(tiny_bert(num_layers=1), num_classes=3),
        input_shape=(5,),
        input_dtype="int32",
    )
)

__all__ = ["POOLINGS", "FineTuningClassifier"]
