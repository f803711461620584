"""Multi-task learning: one shared trunk, one head per task.

The loss is a weighted sum of the task losses, :func:`jaxdl.losses.multi_task_loss`;
``jaxdl.training.freeze(tx, params, r"trunk")`` trains only the heads.

Reference: Caruana, "Multitask learning", 1997.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax.numpy as jnp

from jaxdl._checks import check_floating, check_positive_int
from jaxdl.nn.activations import get_activation
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

__all__ = ["MultiTaskMLP"]


class MultiTaskMLP(nn.Module):
    """A shared fully connected trunk with one linear head per task.

    ``h = phi(... phi(x W_1 + b_1) ...)`` is computed once; task ``t`` reads
    ``y_t = h V_t + c_t``. Parameter names are ``trunk_<i>`` and ``head_<t>``, so
    ``freeze(tx, params, r"trunk")`` trains only the heads.

    Attributes:
        trunk_features: widths of the shared hidden layers.
        head_features: number of outputs of each task head.
        activation: hidden activation name or callable.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> model = MultiTaskMLP(trunk_features=(16,), head_features=(3, 1))
        >>> params = model.init(jax.random.key(0), jnp.ones((2, 5)))
        >>> [y.shape for y in model.apply(params, jnp.ones((2, 5)))]
        [(2, 3), (2, 1)]

    Reference: Caruana, "Multitask learning", 1997.
    """

    trunk_features: Sequence[int]
    head_features: Sequence[int]
    activation: str | Callable[[Array], Array] = "relu"

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> tuple[Array, ...]:
        """Outputs of every head for inputs ``[..., d]``: a tuple of ``[..., k_t]``."""
        del train
        if len(self.head_features) == 0:
            raise ValueError("head_features must list at least one task, got ()")
        for i, width in enumerate(self.trunk_features):
            check_positive_int(f"trunk_features[{i}]", width)
        for t, width in enumerate(self.head_features):
            check_positive_int(f"head_features[{t}]", width)
        act = get_activation(self.activation)
        h = jnp.asarray(x)
        check_floating("x", h)
        for i, width in enumerate(self.trunk_features):
            h = act(nn.Dense(width, name=f"trunk_{i}")(h))
        return tuple(
            nn.Dense(width, name=f"head_{t}")(h) for t, width in enumerate(self.head_features)
        )


register_model(
    ModelSpec(
        name="MultiTaskMLP",
        make=lambda: MultiTaskMLP(trunk_features=(8,), head_features=(3, 1)),
        input_shape=(5,),
    )
)
