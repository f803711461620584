"""The multi-layer perceptron: a chain of dense layers with elementwise activations.

Layer ``l`` computes ``s^(l) = h^(l-1) W^(l) + b^(l)`` and ``h^(l) = phi^(l)(s^(l))``
with ``h^(0) = x`` (rows are examples, so ``W^(l)`` has shape ``(n_{l-1}, n_l)``, the
transpose of the course's column convention). The last layer is the *output unit*: linear
(regression), sigmoid (Bernoulli) or softmax (categorical); losses in
:mod:`jaxdl.losses` take its net input, which ``return_logits=True`` gives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.nn.activations import clipped_linear, get_activation
from jaxdl.nn.initializers import lecun_uniform_course
from jaxdl.nn.maxout import Maxout
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, PyTree

__all__ = [
    "MLP",
    "OUTPUT_UNITS",
    "count_params",
    "get_output_unit",
    "mlp_num_params",
]

OUTPUT_UNITS: dict[str, Callable[[Array], Array]] = {
    "linear": lambda z: z,
    "sigmoid": jax.nn.sigmoid,
    "softmax": lambda z: jax.nn.softmax(z, axis=-1),
    "clipped_linear": clipped_linear,
}
"""Output unit name -> function of the last layer's net input (``None`` means linear).

``clipped_linear`` is ``max(0, min(1, z))``, the Bernoulli unit the course rejects (no
gradient outside ``(0, 1)``); it is here so that its failure can be shown."""


def get_output_unit(output: str | None) -> Callable[[Array], Array]:
    """The output unit by name: linear (or ``None``), sigmoid, softmax or clipped linear.

    Args:
        output: the unit's name.

    Returns:
        a function of the logits ``z``: ``z``, ``sigma(z)``, ``softmax(z)`` (last axis) or
        ``max(0, min(1, z))``.

    Raises:
        ValueError: for any other name.

    Example:
        >>> get_output_unit("softmax")(jnp.zeros(4)).tolist()
        [0.25, 0.25, 0.25, 0.25]
    """
    if output is None:
        return OUTPUT_UNITS["linear"]
    if isinstance(output, str) and output in OUTPUT_UNITS:
        return OUTPUT_UNITS[output]
    raise ValueError(f"output must be one of {', '.join(OUTPUT_UNITS)} or None, got {output!r}")


def _activation_list(activation: Any, num_hidden_layers: int) -> list[Callable[[Array], Array]]:
    if isinstance(activation, str) or callable(activation):
        return [get_activation(activation)] * num_hidden_layers
    activation = list(activation)
    if len(activation) != num_hidden_layers:
        raise ValueError(
            f"activation must be one activation or a list of {num_hidden_layers} (one per "
            f"hidden layer), got a list of {len(activation)}"
        )
    return [get_activation(a) for a in activation]


class MLP(nn.Module):
    """Fully connected feed-forward network of any depth and width.

    ``h^(l) = phi^(l)(h^(l-1) W^(l) + b^(l))`` for the hidden layers ``l < L``, then the
    output unit on ``z = h^(L-1) W^(L) + b^(L)``.

    Attributes:
        features: widths ``(n_1, ..., n_L)``; the last one is the number of outputs.
        activation: hidden activation: a name (see :mod:`jaxdl.nn.activations`), a
            callable, or a list with one per hidden layer (``len(features) - 1``).
        output: output unit ``"linear"``, ``"sigmoid"``, ``"softmax"`` or ``None``
            (= linear).
        kernel_init: weight initializer (default :func:`lecun_uniform_course`).
        bias_init: bias initializer (default zeros).
        use_bias: whether layers have biases.
        maxout: ``None`` (default) for dense hidden layers with ``activation``, or the
            number of pieces ``k``: every hidden layer is then a :class:`Maxout` layer
            (``h_i = max_j (h W_{:, i, j} + b_{i, j})``) and ``activation`` is not used.

    Example:
        >>> model = MLP(features=(8, 3), activation="tanh", output="softmax")
        >>> x = jnp.ones((2, 5))
        >>> params = model.init(jax.random.key(0), x)
        >>> model.apply(params, x).shape
        (2, 3)
        >>> model.apply(params, x, return_logits=True).shape  # net input of the softmax
        (2, 3)
    """

    features: Sequence[int]
    activation: str | Callable[[Array], Array] | Sequence[str | Callable[[Array], Array]] = (
        "sigmoid"
    )
    output: str | None = "linear"
    kernel_init: Callable[..., Array] = lecun_uniform_course()
    bias_init: Callable[..., Array] = nn.initializers.zeros
    use_bias: bool = True
    maxout: int | None = None

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False, return_logits: bool = False) -> Array:
        """Run the network on ``x`` of shape ``[..., n_0]``.

        Args:
            x: inputs, features on the last axis.
            train: unused (the MLP has no train-time behaviour); accepted for a uniform
                ``apply(..., train=...)`` interface.
            return_logits: return the output unit's net input ``z`` instead of its output.

        Returns:
            ``[..., n_L]`` outputs (or logits).
        """
        del train
        features = tuple(self.features)
        if len(features) == 0:
            raise ValueError("features must list at least one layer width, got ()")
        for i, width in enumerate(features):
            check_positive_int(f"features[{i}]", width)
        output_unit = get_output_unit(self.output)
        if self.maxout is not None:
            check_positive_int("maxout", self.maxout)
        activations = _activation_list(self.activation, len(features) - 1)
        x = jnp.asarray(x)
        if x.ndim == 0:
            raise ValueError("x must have a feature axis, got a scalar")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.float32)
        h = x
        # The layers have different widths, so this loop is unrolled at trace time.
        for i, width in enumerate(features):
            if self.maxout is not None and i < len(features) - 1:
                h = Maxout(
                    width,
                    num_pieces=self.maxout,
                    use_bias=self.use_bias,
                    kernel_init=self.kernel_init,
                    bias_init=self.bias_init,
                    name=f"Maxout_{i}",
                )(h)
                continue
            s = nn.Dense(
                width,
                use_bias=self.use_bias,
                kernel_init=self.kernel_init,
                bias_init=self.bias_init,
                name=f"Dense_{i}",
            )(h)
            h = activations[i](s) if i < len(features) - 1 else s
        return h if return_logits else output_unit(h)


def count_params(params: PyTree) -> int:
    """Total number of scalar parameters in a pytree (e.g. ``model.init(...)``).

    Works on abstract trees too (``jax.eval_shape(model.init, key, x)``), so large models
    can be counted without allocating them.

    Args:
        params: any pytree of arrays or ``jax.ShapeDtypeStruct``s.

    Returns:
        the sum of the leaves' sizes.

    Example:
        >>> model = MLP(features=(200, 200, 10))
        >>> count_params(jax.eval_shape(model.init, jax.random.key(0), jnp.ones((1, 784))))
        199210
    """
    return int(sum(math.prod(jnp.shape(leaf)) for leaf in jax.tree_util.tree_leaves(params)))


def mlp_num_params(features: Sequence[int], *, use_bias: bool = True) -> int:
    """Parameter count of a dense network with widths ``(n_0, n_1, ..., n_L)``.

    ``sum_l (n_{l-1} + 1) n_l`` (weights plus one bias per unit). For one hidden layer of
    ``H`` units, ``n`` inputs and one output this is ``H (n + 1) + (H + 1)``.

    Args:
        features: input size followed by every layer's width.
        use_bias: count biases.

    Returns:
        the number of parameters.

    Raises:
        ValueError: with fewer than two sizes or non-positive sizes.

    Example:
        >>> mlp_num_params((784, 200, 200, 10))  # the course's MNIST network
        199210
    """
    sizes = tuple(features)
    if len(sizes) < 2:
        raise ValueError(f"features must hold the input size and at least one layer, got {sizes}")
    for i, size in enumerate(sizes):
        check_positive_int(f"features[{i}]", size)
    bias = 1 if use_bias else 0
    return sum((n_in + bias) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True))


register_model(
    ModelSpec(
        name="MLP",
        make=lambda: MLP(features=(8, 6, 3), activation=("tanh", "relu"), output="softmax"),
        input_shape=(5,),
    )
)
