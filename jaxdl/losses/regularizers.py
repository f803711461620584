"""Parameter and representation penalties: weight decay, L1, tying, label smoothing.

A regularizer adds a term to the objective that depends on the parameters (or on the
hidden activations) but not on the fit to the data,

    J~(theta; X, y) = J(theta; X, y) + alpha * Omega(theta),

with a strength ``alpha >= 0``. Only weights are usually penalized: biases and
normalization scales are easy to learn and are left out. Which leaves count as weights
is decided from their *path* in the parameter tree (``"params/Dense_0/kernel"``) by
:func:`mask_by_path`.

The penalties here are plain functions of a pytree, so they can be added to any loss.
Decoupled versions that act on the optimizer update instead live in
:mod:`jaxdl.optim.constraints` (proximal L1, max-norm) and :func:`weight_decay`
(``optax.add_decayed_weights`` restricted to weights).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import (
    check_floating,
    check_in_range,
    check_integer,
    check_positive,
    check_positive_int,
    check_rank,
)
from jaxdl.losses.penalties import l1_code_penalty
from jaxdl.typing import Array, ArrayLike, PyTree

NON_WEIGHT_PATTERN = r"(^|/)(bias|scale)$"
"""Paths excluded from weight penalties by default: biases and normalization scales."""


def leaf_paths(tree: PyTree) -> PyTree:
    """The ``"/"``-joined path string of every leaf, in a tree of the same structure.

    Args:
        tree: any pytree (flax params, nested dicts, lists, NamedTuples).

    Returns:
        A pytree with the same structure whose leaves are strings such as
        ``"params/Dense_0/kernel"``.

    Example:
        >>> leaf_paths({"dense": {"kernel": jnp.ones(2), "bias": jnp.ones(1)}})
        {'dense': {'bias': 'dense/bias', 'kernel': 'dense/kernel'}}
    """
    return jax.tree_util.tree_map_with_path(
        lambda path, _: jax.tree_util.keystr(path, simple=True, separator="/"), tree
    )


def mask_by_path(
    params: PyTree,
    include: str | None = None,
    exclude: str | None = None,
    *,
    allow_empty: bool = False,
) -> PyTree:
    """A boolean tree that is True on the leaves whose path matches ``include``, not ``exclude``.

    Paths are the ``"/"``-joined keys of :func:`leaf_paths`; both patterns are regular
    expressions applied with ``re.search``. A leaf is selected when it matches
    ``include`` (or ``include`` is None) and does not match ``exclude``.

    A pattern that selects no leaf at all is almost always a typo, so by default it is
    an **error** (``ValueError``) listing the available paths; pass ``allow_empty=True``
    to get an all-False mask instead.

    Args:
        params: the parameter pytree.
        include: regex a selected path must match; None selects every path.
        exclude: regex a selected path must not match; None excludes nothing.
        allow_empty: return an all-False mask instead of raising when nothing matches.

    Returns:
        A pytree of Python bools with the structure of ``params`` (usable as an
        ``optax.masked`` / ``optax.add_decayed_weights`` mask).

    Raises:
        ValueError: if a pattern is not a valid regex, or nothing is selected.

    Example:
        >>> params = {"Dense_0": {"kernel": jnp.ones((2, 3)), "bias": jnp.zeros(3)}}
        >>> mask_by_path(params, exclude=r"bias$")
        {'Dense_0': {'bias': False, 'kernel': True}}
    """
    include_re = _compile("include", include)
    exclude_re = _compile("exclude", exclude)

    def select(path: str) -> bool:
        if include_re is not None and include_re.search(path) is None:
            return False
        return exclude_re is None or exclude_re.search(path) is None

    mask = jax.tree.map(select, leaf_paths(params))
    if not allow_empty and not any(jax.tree.leaves(mask)):
        available = ", ".join(jax.tree.leaves(leaf_paths(params))[:12]) or "(no leaves)"
        raise ValueError(
            f"mask_by_path selected no parameter with include={include!r}, "
            f"exclude={exclude!r}; available paths: {available}"
        )
    return mask


def weights_mask(params: PyTree) -> PyTree:
    """The default weight mask: every leaf except biases and normalization scales.

    Args:
        params: the parameter pytree.

    Returns:
        ``mask_by_path(params, exclude=NON_WEIGHT_PATTERN)``.

    Example:
        >>> weights_mask({"Dense_0": {"kernel": jnp.ones((2, 2)), "bias": jnp.zeros(2)}})
        {'Dense_0': {'bias': False, 'kernel': True}}
    """
    return mask_by_path(params, exclude=NON_WEIGHT_PATTERN)


def _compile(name: str, pattern: str | None) -> re.Pattern | None:
    if pattern is None:
        return None
    if not isinstance(pattern, str):
        raise TypeError(f"{name} must be a regex string or None, got {type(pattern).__name__}")
    try:
        return re.compile(pattern)
    except re.error as error:
        raise ValueError(
            f"{name} is not a valid regular expression ({error}): {pattern!r}"
        ) from error


def _selected_leaves(params: PyTree, mask: PyTree | Callable | None) -> list[Array]:
    if mask is None:
        mask = weights_mask(params)
    elif callable(mask):
        mask = mask(params)
    flags = jax.tree.leaves(mask)
    leaves = jax.tree.leaves(params)
    if len(flags) != len(leaves):
        raise ValueError(
            f"mask must have the structure of params, got {len(flags)} mask leaves "
            f"for {len(leaves)} parameter leaves"
        )
    return [jnp.asarray(x) for x, keep in zip(leaves, flags, strict=True) if keep]


def l2_penalty(
    params: PyTree, strength: ArrayLike = 1.0, *, mask: PyTree | Callable | None = None
) -> Array:
    """Weight decay penalty ``alpha/2 * ||w||_2^2`` over the weights of a parameter tree.

    Its gradient is ``alpha * w``, so one gradient step multiplies the weights by
    ``(1 - learning_rate * alpha)`` before the data term acts: the weights decay.

    Args:
        params: the parameter pytree.
        strength: ``alpha >= 0``.
        mask: bool pytree or ``mask(params)`` callable choosing the penalized leaves;
            None uses :func:`weights_mask` (biases and norm scales excluded).

    Returns:
        A scalar.

    Example:
        >>> l2_penalty({"kernel": jnp.array([3.0, 4.0]), "bias": jnp.array([10.0])}, 0.1)
        Array(1.25, dtype=float32)

    Reference: Krogh & Hertz, "A simple weight decay can improve generalization", 1992.
    """
    check_positive("strength", strength, allow_zero=True)
    leaves = _selected_leaves(params, mask)
    total = sum(jnp.sum(jnp.square(w)) for w in leaves)
    return 0.5 * strength * jnp.asarray(total)


def l1_penalty(
    params: PyTree, strength: ArrayLike = 1.0, *, mask: PyTree | Callable | None = None
) -> Array:
    """Lasso penalty ``alpha * ||w||_1 = alpha * sum_i |w_i|`` over the weights.

    Its (sub)gradient ``alpha * sign(w)`` pushes every weight towards zero by a constant
    amount, which makes solutions sparse. Plain gradient steps only make weights
    oscillate around zero; :func:`jaxdl.optim.constraints.l1_proximal` lands exactly on 0.

    Args:
        params: the parameter pytree.
        strength: ``alpha >= 0``.
        mask: as in :func:`l2_penalty`.

    Returns:
        A scalar.

    Example:
        >>> l1_penalty({"kernel": jnp.array([3.0, -4.0])}, 0.5)
        Array(3.5, dtype=float32)

    Reference: Tibshirani, "Regression shrinkage and selection via the lasso", 1996.
    """
    check_positive("strength", strength, allow_zero=True)
    leaves = _selected_leaves(params, mask)
    total = sum(jnp.sum(jnp.abs(w)) for w in leaves)
    return strength * jnp.asarray(total)


def weight_decay(
    strength: float,
    *,
    include: str | None = None,
    exclude: str | None = NON_WEIGHT_PATTERN,
) -> optax.GradientTransformation:
    """``optax.add_decayed_weights`` restricted to weights by parameter path.

    Adds ``alpha * w`` to the update of each selected leaf; chained before the learning
    rate (``optax.chain(weight_decay(a), optax.sgd(lr))``) it equals adding
    :func:`l2_penalty` to the loss under SGD.

    Args:
        strength: ``alpha >= 0``.
        include: regex of decayed paths (None: all).
        exclude: regex of paths never decayed (default: biases and norm scales).

    Returns:
        An ``optax.GradientTransformation``.

    Example:
        >>> tx = optax.chain(weight_decay(1e-4), optax.sgd(0.1))
    """
    check_positive("strength", strength, allow_zero=True)
    _compile("include", include)
    _compile("exclude", exclude)
    return optax.add_decayed_weights(
        strength, mask=lambda params: mask_by_path(params, include, exclude)
    )


def tying_penalty(
    params_a: PyTree,
    params_b: PyTree,
    strength: ArrayLike = 1.0,
    *,
    mask: PyTree | Callable | None = None,
) -> Array:
    """Parameter-tying penalty ``alpha * ||w_A - w_B||_2^2`` between two models.

    Pulls the matching weights of two models (same task, slightly different inputs)
    towards each other instead of forcing them equal as parameter sharing does.

    Args:
        params_a: parameters of model A.
        params_b: parameters of model B, same tree structure and leaf shapes.
        strength: ``alpha >= 0``.
        mask: leaves to tie, as in :func:`l2_penalty` (judged on ``params_a``); None
            ties the weights (biases and norm scales excluded).

    Returns:
        A scalar.

    Raises:
        ValueError: if the trees or the leaf shapes differ.

    Example:
        >>> tying_penalty({"kernel": jnp.array([1.0, 2.0])}, {"kernel": jnp.array([1.0, 0.0])})
        Array(4., dtype=float32)
    """
    check_positive("strength", strength, allow_zero=True)
    structure_a = jax.tree.structure(params_a)
    structure_b = jax.tree.structure(params_b)
    if structure_a != structure_b:
        raise ValueError(
            "params_a and params_b must have the same tree structure, got "
            f"{structure_a} and {structure_b}"
        )
    for path, a, b in zip(
        jax.tree.leaves(leaf_paths(params_a)),
        jax.tree.leaves(params_a),
        jax.tree.leaves(params_b),
        strict=True,
    ):
        if jnp.shape(a) != jnp.shape(b):
            raise ValueError(
                f"params_a and params_b must have matching leaf shapes, got {jnp.shape(a)} "
                f"and {jnp.shape(b)} at {path!r}"
            )
    difference = jax.tree.map(lambda a, b: jnp.asarray(a) - jnp.asarray(b), params_a, params_b)
    if mask is None:
        mask = weights_mask(params_a)
    elif callable(mask):
        mask = mask(params_a)
    leaves = _selected_leaves(difference, mask)
    return strength * jnp.asarray(sum(jnp.sum(jnp.square(d)) for d in leaves))


def activation_l1_penalty(activations: ArrayLike, strength: ArrayLike = 1.0) -> Array:
    """Representation sparsity penalty ``alpha * ||h||_1`` per example.

    Puts the L1 norm on the hidden units instead of the weights, so that most units
    are (near) zero for each input. Add its mean over the batch to the loss.

    Args:
        activations: hidden representation ``h``, shape ``[..., num_hidden]``.
        strength: ``alpha >= 0``.

    Returns:
        Per-example penalties, shape ``[...]``.

    Example:
        >>> activation_l1_penalty(jnp.array([[1.0, -2.0], [0.0, 0.5]]), 0.1)
        Array([0.3 , 0.05], dtype=float32)
    """
    check_positive("strength", strength, allow_zero=True)
    h = jnp.asarray(activations)
    check_floating("activations", h)
    check_rank("activations", h, tuple(range(1, 8)))
    return strength * l1_code_penalty(h)


def smooth_labels(labels: ArrayLike, epsilon: ArrayLike, num_classes: int | None = None) -> Array:
    """Label smoothing as the course defines it: targets ``1 - eps`` and ``eps / (k - 1)``.

    Each hard one-hot target is replaced by ``1 - eps`` on the true class and
    ``eps / (k - 1)`` on each of the other ``k - 1`` classes, so every row still sums
    to one. (``optax.smooth_labels`` instead mixes with the uniform distribution and
    gives ``1 - eps + eps/k`` and ``eps/k``.)

    Args:
        labels: integer class labels of shape ``[...]`` (needs ``num_classes``) or
            one-hot targets of shape ``[..., k]``.
        epsilon: smoothing amount in ``[0, 1)``.
        num_classes: ``k >= 2``, required for integer labels.

    Returns:
        Smoothed targets, shape ``[..., k]``, float32.

    Example:
        >>> smooth_labels(jnp.array([0]), 0.2, num_classes=3)
        Array([[0.8, 0.1, 0.1]], dtype=float32)

    Reference: Szegedy et al., "Rethinking the Inception architecture", 2016.
    """
    check_in_range("epsilon", epsilon, 0.0, 1.0, high_inclusive=False)
    labels = jnp.asarray(labels)
    if jnp.issubdtype(labels.dtype, jnp.integer):
        if num_classes is None:
            raise ValueError("num_classes is required when labels are integers")
        check_positive_int("num_classes", num_classes)
        if num_classes < 2:
            raise ValueError(f"num_classes must be >= 2, got {num_classes}")
        one_hot = jax.nn.one_hot(labels, num_classes, dtype=jnp.float32)
    else:
        check_floating("labels", labels)
        check_rank("labels", labels, tuple(range(1, 33)))
        one_hot = labels
        if num_classes is not None and num_classes != labels.shape[-1]:
            raise ValueError(
                f"num_classes must equal labels.shape[-1] for one-hot labels, got "
                f"{num_classes} and {labels.shape[-1]}"
            )
        if labels.shape[-1] < 2:
            raise ValueError(f"labels must have >= 2 classes, got shape {labels.shape}")
    k = one_hot.shape[-1]
    on = 1.0 - epsilon
    off = epsilon / (k - 1)
    return (one_hot * (on - off) + off).astype(one_hot.dtype)


def smoothed_cross_entropy(logits: ArrayLike, labels: ArrayLike, epsilon: ArrayLike) -> Array:
    """Softmax cross-entropy against course-smoothed targets, per example.

    ``-sum_j t_j log softmax(z)_j`` with ``t = smooth_labels(labels, eps)``.

    Args:
        logits: shape ``[..., k]``.
        labels: integer labels ``[...]`` in ``[0, k)``.
        epsilon: smoothing amount in ``[0, 1)``.

    Returns:
        Losses of shape ``[...]``.

    Example:
        >>> smoothed_cross_entropy(jnp.zeros((1, 4)), jnp.array([2]), 0.1)
        Array([1.3862944], dtype=float32)
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    check_floating("logits", logits)
    check_integer("labels", labels)
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"labels must have shape logits.shape[:-1] = {logits.shape[:-1]}, got {labels.shape}"
        )
    targets = smooth_labels(labels, epsilon, logits.shape[-1]).astype(logits.dtype)
    return -jnp.sum(targets * jax.nn.log_softmax(logits, axis=-1), axis=-1)


__all__ = [
    "NON_WEIGHT_PATTERN",
    "activation_l1_penalty",
    "l1_penalty",
    "l2_penalty",
    "leaf_paths",
    "mask_by_path",
    "smooth_labels",
    "smoothed_cross_entropy",
    "tying_penalty",
    "weight_decay",
    "weights_mask",
]
