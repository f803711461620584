"""Output units paired with their maximum-likelihood costs, per example (no reduction).

Each output unit defines a distribution over the target; its cost is the negative
log-likelihood of that distribution (Goodfellow et al., 2016, ch. 6.2):

=====================  ====================  =========================================
output unit            target distribution   cost (this module)
=====================  ====================  =========================================
linear                 Gaussian, unit var.   :func:`half_squared_error` (= NLL + const)
linear                 --                    :func:`mean_squared_error` (course's MSE)
linear + log variance  Gaussian               :func:`gaussian_nll`
sigmoid                Bernoulli             :func:`sigmoid_binary_cross_entropy`
softmax                categorical           :func:`softmax_cross_entropy`
=====================  ====================  =========================================

The costs take the unit's *net input* (the logits), never its output, so the
log undoes the exp of the unit and nothing saturates: the Bernoulli cost is
``softplus((1 - 2y) z)`` and the categorical one ``logsumexp(z) - z_y``.

Like ``optax.losses`` these return one value per example (the feature axis, the last
one, is reduced); average over the batch yourself. ``entropy``, ``cross_entropy`` and
``kl_divergence`` compare probability vectors along the last axis with ``0 log 0 = 0``.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import optax
from jax.scipy.special import rel_entr, xlogy

from jaxdl._checks import (
    check_floating,
    check_labels,
    check_probabilities,
)
from jaxdl.typing import Array, ArrayLike

__all__ = [
    "cross_entropy",
    "entropy",
    "gaussian_nll",
    "half_squared_error",
    "kl_divergence",
    "mean_squared_error",
    "self_information",
    "sigmoid_binary_cross_entropy",
    "softmax_cross_entropy",
    "softmax_cross_entropy_with_probs",
]


def _check_feature_axis(name: str, x: Array) -> None:
    if jnp.ndim(x) == 0:
        raise ValueError(f"{name} must have at least one axis (the last is reduced), got a scalar")


def _check_same_shape(name_a: str, a: Array, name_b: str, b: Array) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {name_a}: {a.shape} "
            f"and {name_b}: {b.shape}"
        )


def _as_float_like(name: str, value: ArrayLike, reference: Array) -> Array:
    """``value`` as an array of ``reference``'s float dtype (integers are cast)."""
    value = jnp.asarray(value)
    if jnp.issubdtype(value.dtype, jnp.bool_) or jnp.issubdtype(value.dtype, jnp.integer):
        return value.astype(reference.dtype)
    check_floating(name, value)
    return value.astype(reference.dtype)


def half_squared_error(predictions: ArrayLike, targets: ArrayLike) -> Array:
    """Half the squared Euclidean error per example, ``1/2 sum_d (p_d - t_d)^2``.

    The negative log-likelihood of ``t ~ N(p, I)`` up to a constant, and the cost whose
    gradient is the plain residual ``p - t`` (the course's ``0.5 |y - Xw|^2``).

    Args:
        predictions: ``[..., D]`` floating outputs of a linear unit.
        targets: ``[..., D]`` targets (same shape).

    Returns:
        ``[...]`` per-example cost.

    Example:
        >>> half_squared_error(jnp.array([[1.0, 2.0]]), jnp.array([[0.0, 0.0]])).tolist()
        [2.5]
    """
    predictions = jnp.asarray(predictions)
    check_floating("predictions", predictions)
    _check_feature_axis("predictions", predictions)
    targets = _as_float_like("targets", targets, predictions)
    _check_same_shape("predictions", predictions, "targets", targets)
    return jnp.sum(optax.losses.l2_loss(predictions, targets), axis=-1)


def mean_squared_error(predictions: ArrayLike, targets: ArrayLike) -> Array:
    """Mean squared error per example, ``1/D sum_d (p_d - t_d)^2``.

    Args:
        predictions: ``[..., D]`` floating outputs.
        targets: ``[..., D]`` targets (same shape).

    Returns:
        ``[...]`` per-example cost (mean over the last axis).

    Example:
        >>> mean_squared_error(jnp.array([[1.0, 3.0]]), jnp.array([[0.0, 0.0]])).tolist()
        [5.0]
    """
    predictions = jnp.asarray(predictions)
    check_floating("predictions", predictions)
    _check_feature_axis("predictions", predictions)
    targets = _as_float_like("targets", targets, predictions)
    _check_same_shape("predictions", predictions, "targets", targets)
    return jnp.mean(optax.losses.squared_error(predictions, targets), axis=-1)


def gaussian_nll(
    mean: ArrayLike,
    log_variance: ArrayLike,
    targets: ArrayLike,
    *,
    include_constant: bool = True,
) -> Array:
    """Negative log-likelihood of a diagonal Gaussian, summed over the last axis.

    ``-log N(t; mu, diag(exp(v))) = 1/2 sum_d [v_d + (t_d - mu_d)^2 exp(-v_d) + log 2 pi]``
    where ``v = log_variance``. Predicting the log variance keeps the variance positive
    without constraints; with ``v = 0`` this is :func:`half_squared_error` plus a constant.

    Args:
        mean: ``[..., D]`` predicted means.
        log_variance: ``[..., D]`` predicted log variances.
        targets: ``[..., D]`` observed targets.
        include_constant: add ``D/2 log(2 pi)`` (the exact NLL); ``False`` drops it.

    Returns:
        ``[...]`` per-example NLL.

    Example:
        >>> x = jnp.zeros((1, 1))
        >>> round(float(gaussian_nll(x, x, x, include_constant=False)[0]), 6)
        0.0
    """
    mean = jnp.asarray(mean)
    check_floating("mean", mean)
    _check_feature_axis("mean", mean)
    log_variance = _as_float_like("log_variance", log_variance, mean)
    targets = _as_float_like("targets", targets, mean)
    _check_same_shape("mean", mean, "log_variance", log_variance)
    _check_same_shape("mean", mean, "targets", targets)
    residual = targets - mean
    per_dim = 0.5 * (log_variance + residual * residual * jnp.exp(-log_variance))
    if include_constant:
        per_dim = per_dim + 0.5 * math.log(2.0 * math.pi)
    return jnp.sum(per_dim, axis=-1)


def sigmoid_binary_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> Array:
    """Bernoulli NLL of a sigmoid unit, computed from its logit through softplus.

    With ``p = sigma(z)``, ``-[y log p + (1 - y) log(1 - p)] = y zeta(-z) + (1 - y) zeta(z)``,
    which for ``y in {0, 1}`` is ``zeta((1 - 2y) z)`` (``zeta`` = softplus). It stays exact
    for ``|z|`` in the hundreds, where ``sigma(z)`` rounds to 0 or 1. Soft labels in
    [0, 1] are allowed. No reduction: the output has the shape of ``logits``.

    Args:
        logits: ``[...]`` net inputs ``z`` of sigmoid units.
        labels: ``[...]`` targets in [0, 1] (bool, int or float), same shape.

    Returns:
        ``[...]`` elementwise cost.

    Example:
        >>> round(float(sigmoid_binary_cross_entropy(jnp.array(0.0), jnp.array(1.0))), 6)
        0.693147
    """
    logits = jnp.asarray(logits)
    check_floating("logits", logits)
    labels = _as_float_like("labels", labels, logits)
    _check_same_shape("logits", logits, "labels", labels)
    check_probabilities("labels", labels)
    return labels * jax.nn.softplus(-logits) + (1.0 - labels) * jax.nn.softplus(logits)


def softmax_cross_entropy(logits: ArrayLike, labels: ArrayLike) -> Array:
    """Categorical NLL of a softmax unit with integer labels, via log-sum-exp.

    ``-log softmax(z)_y = logsumexp(z) - z_y``: the first term pushes all logits down,
    the second pushes the correct one up. Same as ``optax.losses.
    softmax_cross_entropy_with_integer_labels`` and ``torch.nn.functional.cross_entropy``
    (``reduction="none"``).

    Args:
        logits: ``[..., K]`` net inputs of the softmax unit.
        labels: ``[...]`` integer classes in ``[0, K)``.

    Returns:
        ``[...]`` per-example cost.

    Example:
        >>> round(float(softmax_cross_entropy(jnp.zeros((1, 4)), jnp.array([2]))[0]), 6)
        1.386294
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    check_floating("logits", logits)
    _check_feature_axis("logits", logits)
    if labels.shape != logits.shape[:-1]:
        raise ValueError(
            f"labels must have shape logits.shape[:-1] = {logits.shape[:-1]}, got {labels.shape}"
        )
    check_labels("labels", labels, logits.shape[-1])
    return optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels)


def softmax_cross_entropy_with_probs(logits: ArrayLike, probabilities: ArrayLike) -> Array:
    """Cross-entropy between a target distribution and a softmax unit, ``-sum_k p_k log q_k``.

    ``q = softmax(logits)``, computed as ``log q = z - logsumexp(z)``. With one-hot
    ``probabilities`` this equals :func:`softmax_cross_entropy`.

    Args:
        logits: ``[..., K]`` net inputs of the softmax unit.
        probabilities: ``[..., K]`` target probabilities (each row sums to 1).

    Returns:
        ``[...]`` per-example cost.

    Example:
        >>> loss = softmax_cross_entropy_with_probs(jnp.zeros((2,)), jnp.array([0.5, 0.5]))
        >>> round(float(loss), 6)
        0.693147
    """
    logits = jnp.asarray(logits)
    check_floating("logits", logits)
    _check_feature_axis("logits", logits)
    probabilities = _as_float_like("probabilities", probabilities, logits)
    _check_same_shape("logits", logits, "probabilities", probabilities)
    check_probabilities("probabilities", probabilities, axis=-1)
    return optax.losses.softmax_cross_entropy(logits, probabilities)


def _probability_vectors(name: str, p: ArrayLike, dtype=None) -> Array:
    p = jnp.asarray(p)
    if dtype is not None:
        p = _as_float_like(name, p, jnp.zeros((), dtype))
    check_floating(name, p)
    _check_feature_axis(name, p)
    check_probabilities(name, p, axis=-1)
    return p


INFORMATION_UNITS: dict[str, float] = {"nats": 1.0, "bits": math.log(2.0)}
"""Unit name -> ``log`` of the logarithm's base (nats: base ``e``; bits: base 2)."""


def _unit_divisor(unit: str) -> float:
    if unit not in INFORMATION_UNITS:
        raise ValueError(f"unit must be one of {sorted(INFORMATION_UNITS)}, got {unit!r}")
    return INFORMATION_UNITS[unit]


def self_information(p: ArrayLike, *, unit: str = "nats") -> Array:
    """Self-information of an event of probability ``p``: ``I(p) = -log_b p``.

    ``b = e`` gives nats and ``b = 2`` bits: an event of probability 1/2 carries one bit,
    one of probability 1/8 three bits (the number of binary digits that name it), a sure
    event none, and ``I(0) = inf``.

    Args:
        p: ``[...]`` probabilities in ``[0, 1]``.
        unit: ``"nats"`` (natural log) or ``"bits"`` (log base 2).

    Returns:
        ``[...]`` self-information in ``unit``.

    Raises:
        ValueError: for another unit or probabilities outside ``[0, 1]``.

    Example:
        >>> self_information(jnp.array([0.5, 0.125]), unit="bits").tolist()
        [1.0, 3.0]

    References:
        Shannon, "A mathematical theory of communication", 1948; Goodfellow et al.,
        *Deep Learning*, 2016, sec. 3.13.
    """
    divisor = _unit_divisor(unit)
    p = jnp.asarray(p)
    if not jnp.issubdtype(p.dtype, jnp.floating):
        p = p.astype(jnp.float32)
    check_probabilities("p", p)
    return -jnp.log(p) / jnp.asarray(divisor, p.dtype)


def entropy(p: ArrayLike, *, unit: str = "nats") -> Array:
    """Shannon entropy ``H(p) = -sum_k p_k log_b p_k`` with ``0 log 0 = 0``.

    The expected self-information. Zero for a one-hot vector, ``log_b K`` (the maximum)
    for the uniform one: a fair coin has one bit (``log 2`` nats).

    Args:
        p: ``[..., K]`` probability vectors.
        unit: ``"nats"`` (natural log, the default) or ``"bits"`` (log base 2).

    Returns:
        ``[...]`` entropies in ``unit``.

    Example:
        >>> float(entropy(jnp.array([0.5, 0.5]), unit="bits"))
        1.0
        >>> round(float(entropy(jnp.array([0.5, 0.5]))), 6)  # nats
        0.693147
    """
    divisor = _unit_divisor(unit)
    p = _probability_vectors("p", p)
    nats = -jnp.sum(xlogy(p, p), axis=-1)
    return nats if unit == "nats" else nats / jnp.asarray(divisor, p.dtype)


def cross_entropy(p: ArrayLike, q: ArrayLike) -> Array:
    """Cross-entropy ``H(p, q) = -sum_k p_k log q_k = H(p) + KL(p || q)``, ``0 log 0 = 0``.

    Args:
        p: ``[..., K]`` target probability vectors.
        q: ``[..., K]`` model probability vectors.

    Returns:
        ``[...]`` cross-entropies in nats (``inf`` where ``q_k = 0 < p_k``).

    Example:
        >>> round(float(cross_entropy(jnp.array([1.0, 0.0]), jnp.array([0.5, 0.5]))), 6)
        0.693147
    """
    p = _probability_vectors("p", p)
    q = _probability_vectors("q", q, p.dtype)
    _check_same_shape("p", p, "q", q)
    return -jnp.sum(xlogy(p, q), axis=-1)


def kl_divergence(p: ArrayLike, q: ArrayLike) -> Array:
    """Kullback-Leibler divergence ``KL(p || q) = sum_k p_k log(p_k / q_k)``, ``0 log 0 = 0``.

    Non-negative, zero only when ``p = q`` (Gibbs' inequality), and not symmetric.
    Same as ``optax.losses.kl_divergence(log q, p)`` and ``scipy.stats.entropy(p, q)``.

    Args:
        p: ``[..., K]`` reference probability vectors.
        q: ``[..., K]`` approximating probability vectors.

    Returns:
        ``[...]`` divergences in nats (``inf`` where ``q_k = 0 < p_k``).

    Example:
        >>> float(kl_divergence(jnp.array([0.5, 0.5]), jnp.array([0.5, 0.5])))
        0.0
    """
    p = _probability_vectors("p", p)
    q = _probability_vectors("q", q, p.dtype)
    _check_same_shape("p", p, "q", q)
    return jnp.sum(rel_entr(p, q), axis=-1)
