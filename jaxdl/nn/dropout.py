"""Dropout layers with a selectable rule, and an MLP with input and hidden dropout.

:class:`Dropout` draws its mask from the ``'dropout'`` rng stream; called with
``train=True`` and no such stream it raises a clear error instead of silently
running deterministically. The maths lives in :mod:`jaxdl.sampling.dropout`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn

from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.sampling.dropout import DROPOUT_RULES, dropout, dropout_inference
from jaxdl.typing import Array

__all__ = ["Dropout", "DropoutMLP"]


class Dropout(nn.Module):
    """Dropout with keep probability ``keep_probability`` and rule ``"inverted"`` or ``"classic"``.

    Training (``train=True``): ``x * mu / keep`` (inverted) or ``x * mu`` (classic),
    ``mu_i ~ Bernoulli(keep)`` from the ``rng_collection`` stream. Inference:
    identity (inverted) or ``x * keep`` (classic: weight scaling inference rule).

    Attributes:
        keep_probability: probability of keeping a unit, in (0, 1].
        rule: ``"inverted"`` (default) or ``"classic"``.
        broadcast_axes: axes sharing one mask value.
        rng_collection: name of the rng stream (default ``'dropout'``).

    Example:
        >>> import jax, jax.numpy as jnp
        >>> layer = Dropout(keep_probability=0.5)
        >>> y = layer.apply({}, jnp.ones((2, 4)), train=True,
        ...                 rngs={"dropout": jax.random.key(0)})
        >>> sorted(set(y.reshape(-1).tolist()))  # dropped or scaled by 1 / 0.5
        [0.0, 2.0]

    Reference: Srivastava et al., JMLR 2014.
    """

    keep_probability: float = 0.5
    rule: str = "inverted"
    broadcast_axes: tuple[int, ...] = ()
    rng_collection: str = "dropout"

    @nn.compact
    def __call__(self, x: Array, train: bool = False) -> Array:
        """Apply dropout; ``x`` is ``[...]``, the output has the same shape."""
        if self.rule not in DROPOUT_RULES:
            raise ValueError(f"rule must be one of {DROPOUT_RULES}, got {self.rule!r}")
        if not train or self.keep_probability == 1.0:
            return dropout_inference(x, self.keep_probability, rule=self.rule)
        if not self.has_rng(self.rng_collection):
            raise ValueError(
                f"Dropout called with train=True needs a '{self.rng_collection}' rng: pass "
                f"rngs={{'{self.rng_collection}': key}} to apply, or use train=False"
            )
        key = self.make_rng(self.rng_collection)
        return dropout(
            key, x, self.keep_probability, rule=self.rule, broadcast_axes=self.broadcast_axes
        )


class DropoutMLP(nn.Module):
    """MLP with dropout on the inputs and after every hidden layer.

    ``h_0 = drop_in(x)``, ``h_l = drop_hidden(act(W_l h_{l-1} + b_l))`` and a linear
    output ``W_L h_{L-1} + b_L`` (logits / regression values). The course's
    defaults keep inputs with probability 0.8 and hidden units with 0.5.

    Attributes:
        features: ``(num_hidden_1, ..., num_outputs)``.
        input_keep_probability: keep probability of the input units.
        hidden_keep_probability: keep probability of the hidden units.
        activation: hidden activation (a callable such as ``jax.nn.relu``).
        rule: dropout rule, ``"inverted"`` or ``"classic"``.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = DropoutMLP(features=(16, 3))
        >>> params = model.init(jax.random.key(0), jnp.ones((1, 5)))
        >>> logits = model.apply(params, jnp.ones((4, 5)), train=False)
        >>> logits.shape
        (4, 3)

    Reference: Srivastava et al., JMLR 2014.
    """

    features: Sequence[int]
    input_keep_probability: float = 0.8
    hidden_keep_probability: float = 0.5
    activation: Callable[[Array], Array] = nn.relu
    rule: str = "inverted"

    @nn.compact
    def __call__(self, x: Array, train: bool = False) -> Array:
        """Map ``x [..., D]`` to outputs ``[..., features[-1]]``."""
        if len(self.features) == 0:
            raise ValueError("features must hold at least the output size, got ()")
        h = Dropout(self.input_keep_probability, rule=self.rule, name="input_dropout")(
            x, train=train
        )
        for index, width in enumerate(self.features[:-1]):
            h = self.activation(nn.Dense(width, name=f"hidden_{index}")(h))
            h = Dropout(self.hidden_keep_probability, rule=self.rule, name=f"dropout_{index}")(
                h, train=train
            )
        return nn.Dense(self.features[-1], name="output")(h)


register_model(
    ModelSpec(
        name="Dropout",
        make=lambda: Dropout(keep_probability=0.5),
        input_shape=(6,),
        apply_kwargs={"train": False},
    )
)
register_model(
    ModelSpec(
        name="DropoutMLP",
        make=lambda: DropoutMLP(features=(8, 3)),
        input_shape=(5,),
        apply_kwargs={"train": False},
    )
)
