"""Look inside a network while debugging training.

- :func:`activation_statistics`: per-layer summaries (mean, standard deviation, range,
  fraction of exact zeros, histogram, fraction of dead units) of every intermediate
  value flax captures with ``capture_intermediates``;
- :func:`dead_unit_fraction`: the fraction of units that never turn on over a batch
  (dead ReLUs: a unit whose pre-activation is ``<= 0`` for every example passes no
  gradient and will never recover);
- :func:`worst_mistakes`: the most confidently wrong predictions, the first examples
  to look at when a classifier misbehaves;

The overfit-a-small-batch check trains, so it lives with the engine:
``jaxdl.training.diagnostics.overfit_small_batch_check``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
from flax.traverse_util import flatten_dict
from jax import lax

from jaxdl._checks import (
    check_floating,
    check_integer,
    check_nonempty,
    check_positive_int,
    check_rank,
    check_same_leading,
)
from jaxdl.typing import Array, ArrayLike, PyTree


class ActivationStatistics(NamedTuple):
    """Summary of one captured intermediate value ``[batch, ..., units]``.

    Attributes:
        mean: mean over all entries.
        std: standard deviation over all entries.
        minimum: smallest entry.
        maximum: largest entry.
        fraction_zero: fraction of entries exactly 0 (e.g. ReLU outputs that are off).
        dead_fraction: fraction of units (last axis) never ``> 0`` over the batch.
        histogram_counts: ``[num_bins]`` counts of the entries.
        histogram_edges: ``[num_bins + 1]`` bin edges (from minimum to maximum).
    """

    mean: Array
    std: Array
    minimum: Array
    maximum: Array
    fraction_zero: Array
    dead_fraction: Array
    histogram_counts: Array
    histogram_edges: Array


def dead_unit_fraction(activations: ArrayLike) -> Array:
    """Fraction of units that are never active (``> 0``) on any example of a batch.

    .. math::
        \\frac{1}{U} \\sum_{u=1}^{U} \\prod_{n=1}^{N} [a_{n,u} \\le 0]

    Pass ReLU outputs or their pre-activations (ReLU is on exactly when its
    pre-activation is positive). All leading axes count as examples.

    Args:
        activations: ``[N, ..., U]`` values of ``U`` units on ``N`` examples.

    Returns:
        A scalar in ``[0, 1]``.

    Example:
        >>> import jax.numpy as jnp
        >>> dead_unit_fraction(jnp.array([[0.0, 1.0, -2.0], [-1.0, 0.0, 0.0]]))
        Array(0.6666667, dtype=float32)
    """
    check_rank("activations", activations, tuple(range(2, 8)))
    activations = jnp.asarray(activations)
    per_unit = activations.reshape(-1, activations.shape[-1])
    dead = jnp.all(per_unit <= 0, axis=0)
    return jnp.mean(dead.astype(jnp.result_type(float)))


def _summarize(values: Array, num_bins: int) -> ActivationStatistics:
    values = jnp.asarray(values)
    flat = values.reshape(-1).astype(jnp.result_type(float))
    lo, hi = jnp.min(flat), jnp.max(flat)
    counts, edges = jnp.histogram(flat, bins=num_bins, range=(lo, jnp.where(hi > lo, hi, lo + 1)))
    dead = dead_unit_fraction(values if values.ndim >= 2 else values.reshape(-1, 1))
    return ActivationStatistics(
        mean=jnp.mean(flat),
        std=jnp.std(flat),
        minimum=lo,
        maximum=hi,
        fraction_zero=jnp.mean((flat == 0).astype(flat.dtype)),
        dead_fraction=dead,
        histogram_counts=counts,
        histogram_edges=edges,
    )


def activation_statistics(
    model: nn.Module,
    variables: PyTree,
    x: ArrayLike,
    *,
    num_bins: int = 20,
    capture: bool | Callable[[nn.Module, str], bool] = True,
    **apply_kwargs: Any,
) -> dict[str, ActivationStatistics]:
    """Statistics of every intermediate value flax captures during one forward pass.

    Runs ``model.apply(variables, x, capture_intermediates=capture,
    mutable=["intermediates"], **apply_kwargs)``. By default flax records the output of
    every submodule's ``__call__`` (for an MLP: each Dense layer's pre-activation) and
    anything the model stores with ``self.sow("intermediates", name, value)``.

    Args:
        model: a flax module.
        variables: its variables (``model.init(...)``).
        x: ``[N, ...]`` a batch of inputs.
        num_bins: number of histogram bins (> 0).
        capture: ``True`` for every ``__call__``, or a filter ``(module, method_name) ->
            bool`` as in ``flax.linen.Module.apply``.
        **apply_kwargs: passed to ``apply`` (e.g. ``train=False``).

    Returns:
        A dict from the captured value's path (``"Dense_0/__call__"``; ``"__call__"`` is
        the model's own output) to :class:`ActivationStatistics`.

    Example:
        >>> import jax, jax.numpy as jnp, flax.linen as nn
        >>> model = nn.Dense(3)
        >>> x = jnp.ones((4, 2))
        >>> variables = model.init(jax.random.key(1), x)
        >>> sorted(activation_statistics(model, variables, x))
        ['__call__']
    """
    check_positive_int("num_bins", num_bins)
    check_nonempty("x", x)

    # One compiled program (cached per model and options) instead of one dispatch per
    # statistic of every layer.
    options = (model, num_bins, capture, tuple(sorted(apply_kwargs.items())))
    try:
        hash(options)
    except TypeError:  # unhashable apply arguments (e.g. an rngs dict): compile uncached
        return jax.jit(functools.partial(_activation_statistics.__wrapped__, *options))(
            variables, jnp.asarray(x)
        )
    return _activation_statistics(*options, variables, jnp.asarray(x))


@functools.partial(jax.jit, static_argnums=(0, 1, 2, 3))
def _activation_statistics(
    model: nn.Module, num_bins: int, capture: Any, apply_kwargs: tuple, variables: PyTree, x: Array
) -> dict[str, ActivationStatistics]:
    _, state = model.apply(
        variables, x, capture_intermediates=capture, mutable=["intermediates"], **dict(apply_kwargs)
    )
    flat = flatten_dict(state["intermediates"], sep="/")
    stats: dict[str, ActivationStatistics] = {}
    for path, values in flat.items():
        for index, value in enumerate(values):
            leaves = jax.tree.leaves(value)
            for leaf_index, leaf in enumerate(leaves):
                if not jnp.issubdtype(jnp.result_type(leaf), jnp.floating):
                    continue
                name = path if len(values) == 1 else f"{path}/{index}"
                name = name if len(leaves) == 1 else f"{name}/{leaf_index}"
                stats[name] = _summarize(leaf, num_bins)
    return stats


class WorstMistakes(NamedTuple):
    """Output of :func:`worst_mistakes`.

    Attributes:
        indices: ``[k]`` example indices, most confident mistake first; ``-1`` where
            there were fewer than ``k`` mistakes.
        confidences: ``[k]`` the softmax probability of the predicted class (0 where
            ``indices`` is -1).
        predicted: ``[k]`` the predicted class (-1 where ``indices`` is -1).
        labels: ``[k]`` the true class (-1 where ``indices`` is -1).
        valid: ``[k]`` whether the entry is an actual mistake.
    """

    indices: Array
    confidences: Array
    predicted: Array
    labels: Array
    valid: Array


def worst_mistakes(logits: ArrayLike, labels: ArrayLike, k: int) -> WorstMistakes:
    """The ``k`` wrong predictions made with the highest confidence.

    Confidence is ``max_c softmax(logits)_c``; an example is a mistake when
    ``argmax_c logits_c != label``. Works under ``jit`` (``k`` static).

    Args:
        logits: ``[N, K]`` class scores.
        labels: ``[N]`` integer labels in ``[0, K)``.
        k: how many mistakes to return (> 0, at most ``N``).

    Returns:
        A :class:`WorstMistakes` with arrays of length ``k``.

    Example:
        >>> import jax.numpy as jnp
        >>> logits = jnp.array([[3.0, 0.0], [0.0, 1.0], [0.0, 5.0]])
        >>> worst_mistakes(logits, jnp.array([0, 0, 0]), k=1).indices
        Array([2], dtype=int32)
    """
    check_rank("logits", logits, 2)
    check_rank("labels", labels, 1)
    check_floating("logits", logits)
    check_integer("labels", labels)
    check_same_leading(("logits", "labels"), logits, labels)
    check_positive_int("k", k)
    if k > jnp.shape(logits)[0]:
        raise ValueError(
            f"k must be at most the number of examples {jnp.shape(logits)[0]}, got {k}"
        )
    return _worst_mistakes(jnp.asarray(logits), jnp.asarray(labels), k)


@functools.partial(jax.jit, static_argnames="k")
def _worst_mistakes(logits: Array, labels: Array, k: int) -> WorstMistakes:
    labels = labels.astype(jnp.int32)
    probabilities = jax.nn.softmax(logits, axis=-1)
    predicted = jnp.argmax(logits, axis=-1).astype(jnp.int32)
    confidence = jnp.max(probabilities, axis=-1)
    wrong = predicted != labels
    score = jnp.where(wrong, confidence, -jnp.inf)
    top_scores, top_indices = lax.top_k(score, k)
    valid = jnp.isfinite(top_scores)
    minus_one = jnp.full((k,), -1, jnp.int32)
    return WorstMistakes(
        indices=jnp.where(valid, top_indices.astype(jnp.int32), minus_one),
        confidences=jnp.where(valid, top_scores, jnp.zeros_like(top_scores)),
        predicted=jnp.where(valid, predicted[top_indices], minus_one),
        labels=jnp.where(valid, labels[top_indices], minus_one),
        valid=valid,
    )


__all__ = [
    "ActivationStatistics",
    "WorstMistakes",
    "activation_statistics",
    "dead_unit_fraction",
    "worst_mistakes",
]
