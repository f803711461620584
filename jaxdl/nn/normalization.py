"""Batch normalization as the course defines it, with its final phase, and layer normalization.

Batch normalization (Ioffe and Szegedy, 2015) normalizes every unit's pre-activation,

    x_hat = (x - mu) / sqrt(max(sigma^2, 0) + eps),    y = gamma * x_hat + beta,

with ``gamma`` (scale) and ``beta`` (shift) learned. In training ``mu`` and ``sigma^2`` are the
mini-batch mean and (biased) variance of the unit, and backpropagation goes through them.
At test time the course uses *global* statistics, computed in a final phase after training:
from the first to the last normalized layer, propagate the whole training set to that layer
and store each unit's global mean and standard deviation (:func:`final_phase_statistics`).
Libraries keep an exponential running average during training instead (``momentum``);
:class:`BatchNorm` keeps it too, so both options are there and the experiment
``batchnorm-dropout`` compares them.

The statistics are a flax collection, ``batch_stats`` (``mean`` and ``var`` per unit), that the
training engine carries as ``TrainState.model_state``: ``make_supervised_loss`` applies the
model with ``train=True`` and ``batch_stats`` mutable while training and with ``train=False``
(the stored statistics) in ``evaluate``.

Layer normalization (Ba et al., 2016) normalizes over the features of each example instead; it
needs no batch and no state: ``flax.linen.LayerNorm`` does it (re-exported here as
:data:`LayerNorm`; :func:`layer_norm` is the function).
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import check_in_range, check_positive, check_positive_int
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array, ArrayLike, PyTree

__all__ = [
    "BatchNorm",
    "LayerNorm",
    "batch_norm",
    "final_phase_statistics",
    "layer_norm",
]

LayerNorm = nn.LayerNorm
"""``flax.linen.LayerNorm``: it already computes the course's layer normalization."""

MOMENTS = "batch_moments"
"""The collection in which :class:`BatchNorm` accumulates its input's moments (final phase)."""


def _per_unit(v: Array, ndim: int) -> Array:
    """A ``[C]`` vector shaped ``[1, ..., 1, C]`` to broadcast against an ``ndim`` array."""
    return v.reshape((1,) * (ndim - 1) + (-1,))


def batch_norm(
    x: ArrayLike,
    mean: ArrayLike,
    var: ArrayLike,
    scale: ArrayLike | None = None,
    bias: ArrayLike | None = None,
    epsilon: float = 1e-5,
) -> Array:
    """Normalize every unit (last axis) with given statistics, then scale and shift.

    ``y = gamma (x - mu) / sqrt(max(var, 0) + eps) + beta``.

    Args:
        x: ``[..., C]``.
        mean: ``mu``, ``[C]``.
        var: ``sigma^2``, ``[C]`` (negative rounding residue is clamped to 0).
        scale: ``gamma``, ``[C]`` (default 1).
        bias: ``beta``, ``[C]`` (default 0).
        epsilon: ``eps`` > 0.

    Returns:
        ``[..., C]``.

    Example:
        >>> batch_norm(jnp.array([[1.0], [3.0]]), jnp.array([2.0]), jnp.array([1.0]), epsilon=0.0)
        Array([[-1.],
               [ 1.]], dtype=float32)
    """
    x = jnp.asarray(x)
    d = x.ndim
    inv = jax.lax.rsqrt(jnp.maximum(_per_unit(jnp.asarray(var), d), 0.0) + epsilon)
    y = (x - _per_unit(jnp.asarray(mean), d)) * inv
    if scale is not None:
        y = y * _per_unit(jnp.asarray(scale), d)
    if bias is not None:
        y = y + _per_unit(jnp.asarray(bias), d)
    return y


class BatchNorm(nn.Module):
    """Batch normalization of the last axis (units or channels) with explicit statistics.

    Training (``train=True``): mini-batch mean and biased variance over every axis but the
    last; when the ``batch_stats`` collection is mutable, the running averages are updated,
    ``mean <- m mean + (1 - m) mu_B`` and ``var <- m var + (1 - m) n / (n - 1) sigma_B^2``
    (the unbiased estimate, as PyTorch and the paper's inference rule). Inference
    (``train=False``): the stored ``mean`` and ``var``, either these running averages or the
    global statistics of :func:`final_phase_statistics`.

    Attributes:
        momentum: ``m`` of the running average, in ``[0, 1)`` (PyTorch's momentum is
            ``1 - m``).
        epsilon: ``eps`` > 0 added to the variance.
        use_scale: learn ``gamma`` (initialized to 1).
        use_bias: learn ``beta`` (initialized to 0).

    Example:
        >>> import jax
        >>> layer = BatchNorm()
        >>> x = jnp.array([[1.0, 2.0], [3.0, 6.0]])
        >>> variables = layer.init(jax.random.key(0), x)
        >>> y, state = layer.apply(variables, x, train=True, mutable=["batch_stats"])
        >>> y.round(3)
        Array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
        >>> state["batch_stats"]["mean"]  # 0.9 * 0 + 0.1 * batch mean
        Array([0.2, 0.4], dtype=float32)

    Reference: Ioffe and Szegedy, *Batch Normalization*, ICML 2015.
    """

    momentum: float = 0.9
    epsilon: float = 1e-5
    use_scale: bool = True
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: Array, train: bool = False) -> Array:
        """``x``: ``[B, ..., C]`` -> normalized ``[B, ..., C]``."""
        check_in_range("momentum", self.momentum, 0.0, 1.0, high_inclusive=False)
        check_positive("epsilon", self.epsilon)
        if x.ndim < 2:
            raise ValueError(f"x must have shape [B, ..., C] (rank >= 2), got shape {x.shape}")
        features = x.shape[-1]
        axes = tuple(range(x.ndim - 1))
        stored_mean = self.variable("batch_stats", "mean", jnp.zeros, (features,), jnp.float32)
        stored_var = self.variable("batch_stats", "var", jnp.ones, (features,), jnp.float32)
        scale = self.param("scale", nn.initializers.ones, (features,)) if self.use_scale else None
        bias = self.param("bias", nn.initializers.zeros, (features,)) if self.use_bias else None
        if train:
            count = math.prod(x.shape[:-1])
            if count < 2:
                raise ValueError(
                    "BatchNorm with train=True needs more than one value per unit to estimate "
                    f"its mean and variance, got a batch of one (x of shape {x.shape}); use "
                    "train=False or a larger batch"
                )
            mean = jnp.mean(x, axis=axes)
            var = jnp.mean(jnp.square(x - _per_unit(mean, x.ndim)), axis=axes)  # two-pass, >= 0
            if self.is_mutable_collection("batch_stats") and not self.is_initializing():
                m = self.momentum
                stored_mean.value = m * stored_mean.value + (1 - m) * mean
                stored_var.value = m * stored_var.value + (1 - m) * var * (count / (count - 1))
        else:
            mean, var = stored_mean.value, stored_var.value
            if self.is_mutable_collection(MOMENTS) and not self.is_initializing():
                self._accumulate_moments(x, mean, axes)
        return batch_norm(x, mean, var, scale, bias, self.epsilon)

    def _accumulate_moments(self, x: Array, shift: Array, axes: tuple[int, ...]) -> None:
        """Add the count, sum and sum of squares of ``x - shift`` to the moments collection."""
        features = x.shape[-1]
        count = self.variable(MOMENTS, "count", jnp.zeros, (), jnp.float32)
        total = self.variable(MOMENTS, "sum", jnp.zeros, (features,), jnp.float32)
        squares = self.variable(MOMENTS, "sum_of_squares", jnp.zeros, (features,), jnp.float32)
        d = x - _per_unit(shift, x.ndim)  # shifted by the current estimate: no cancellation
        count.value = count.value + math.prod(x.shape[:-1])
        total.value = total.value + jnp.sum(d, axis=axes)
        squares.value = squares.value + jnp.sum(jnp.square(d), axis=axes)


def final_phase_statistics(
    model: nn.Module,
    variables: PyTree,
    x: ArrayLike,
    *,
    batch_size: int | None = None,
    apply_kwargs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The course's final phase: global mean and variance of every unit, first layer to last.

    For ``l = 1, ..., L`` (the :class:`BatchNorm` layers in the order the data meet them):
    propagate the whole training set ``x`` to layer ``l``, the layers before it normalizing
    with the global statistics already stored, and store layer ``l``'s global mean and
    (population) variance over all examples (and positions, for feature maps). A pass
    through the network computes every layer's statistics with the current ones, so after
    pass ``l`` the first ``l`` layers are final; ``L`` passes give the course's result without
    naming the layers. The data go through in chunks of ``batch_size`` (moments added up).

    Args:
        model: a flax module with :class:`BatchNorm` layers whose ``__call__`` takes ``train``.
        variables: ``{"params": ..., "batch_stats": ...}`` (the running averages, if any, are
            replaced).
        x: the training inputs ``[N, ...]``.
        batch_size: examples per forward pass (default: all at once).
        apply_kwargs: extra keyword arguments for ``model.apply``.

    Returns:
        ``variables`` with ``batch_stats`` holding the global statistics.

    Example:
        >>> import jax
        >>> model = BatchNorm()
        >>> x = jnp.array([[1.0], [2.0], [6.0]])
        >>> variables = model.init(jax.random.key(0), x)
        >>> final_phase_statistics(model, variables, x)["batch_stats"]["mean"]
        Array([3.], dtype=float32)
    """
    x = jnp.asarray(x)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"x must hold at least one example, got shape {x.shape}")
    num_examples = x.shape[0]
    batch_size = num_examples if batch_size is None else batch_size
    check_positive_int("batch_size", batch_size)
    kwargs = dict(apply_kwargs or {})
    variables = {k: v for k, v in dict(variables).items() if k != MOMENTS}
    if "batch_stats" not in variables:
        raise ValueError(
            f"variables must hold a 'batch_stats' collection (a model with BatchNorm), got "
            f"collections {sorted(variables)}"
        )
    num_layers = sum(1 for path, _ in _flat(variables["batch_stats"]) if path[-1] == "mean")

    @jax.jit
    def moments(variables: PyTree, chunk: Array) -> PyTree:
        _, state = model.apply(variables, chunk, train=False, mutable=[MOMENTS], **kwargs)
        return state[MOMENTS]

    def add(a: PyTree, b: PyTree) -> PyTree:
        return b if a is None else jax.tree.map(jnp.add, a, b)

    for _ in range(num_layers):
        totals = None
        for start in range(0, num_examples, batch_size):
            totals = add(totals, moments(variables, x[start : start + batch_size]))
        variables["batch_stats"] = _updated_statistics(variables["batch_stats"], totals)
    return variables


def _flat(tree: PyTree, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    out = []
    for key, value in tree.items():
        if isinstance(value, dict) or hasattr(value, "items"):
            out.extend(_flat(value, (*prefix, key)))
        else:
            out.append(((*prefix, key), value))
    return out


def _updated_statistics(stats: PyTree, moments: PyTree) -> PyTree:
    """New ``{mean, var}`` of every layer from its shifted moments."""
    if not hasattr(stats, "items"):
        return stats
    if "mean" in stats and "var" in stats and not hasattr(stats["mean"], "items"):
        count = moments["count"]
        shift_mean = moments["sum"] / count
        var = moments["sum_of_squares"] / count - jnp.square(shift_mean)
        return {"mean": stats["mean"] + shift_mean, "var": jnp.maximum(var, 0.0)}
    return {key: _updated_statistics(value, moments[key]) for key, value in stats.items()}


def layer_norm(
    x: ArrayLike,
    scale: ArrayLike | None = None,
    bias: ArrayLike | None = None,
    epsilon: float = 1e-6,
) -> Array:
    """Layer normalization: each example normalized over its features (last axis).

    ``y = gamma (x - mean(x)) / sqrt(var(x) + eps) + beta``, statistics per example; the same
    as ``flax.linen.LayerNorm`` (:data:`LayerNorm`).

    Args:
        x: ``[..., C]``.
        scale: ``gamma``, ``[C]``.
        bias: ``beta``, ``[C]``.
        epsilon: ``eps`` > 0.

    Returns:
        ``[..., C]``.

    Example:
        >>> layer_norm(jnp.array([[1.0, 3.0]]), epsilon=0.0)
        Array([[-1.,  1.]], dtype=float32)

    Reference: Ba, Kiros and Hinton, *Layer Normalization*, 2016.
    """
    x = jnp.asarray(x)
    mean = jnp.mean(x, axis=-1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=-1, keepdims=True)
    y = (x - mean) * jax.lax.rsqrt(var + epsilon)
    if scale is not None:
        y = y * _per_unit(jnp.asarray(scale), x.ndim)
    if bias is not None:
        y = y + _per_unit(jnp.asarray(bias), x.ndim)
    return y


def _make_example() -> BatchNorm:
    return BatchNorm(momentum=0.8)


register_model(
    ModelSpec(
        name="BatchNorm",
        make=_make_example,
        input_shape=(4, 3),
        apply_kwargs={"train": False},
    )
)
