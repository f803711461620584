"""Dropout as explicit-key functions: training rules, inference rules and ensembles.

Dropout trains the ensemble of all sub-networks obtained by multiplying units by
a binary mask ``mu`` whose entries are 1 (keep) with probability
``keep_probability`` (Srivastava et al., 2014). Two equivalent training rules:

- ``"inverted"``: ``x * mu / keep_probability`` at training time, identity at
  test time (what most libraries do);
- ``"classic"``: ``x * mu`` at training time and the *weight scaling inference
  rule* at test time: ``x * keep_probability``, i.e. the expected value of the
  unit under the mask.

At inference the ensemble can be approximated by Monte Carlo (the arithmetic
mean of ``T`` masked passes, :func:`monte_carlo_dropout`) or by the
renormalized geometric mean of the sub-networks' distributions
(:func:`renormalized_geometric_mean`). For softmax regression the weight
scaling rule equals the (mask-probability weighted) geometric mean exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_floating, check_in_range, check_positive_int, is_concrete
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "DROPOUT_RULES",
    "MonteCarloPrediction",
    "dropout",
    "dropout_inference",
    "dropout_mask",
    "enumerate_masks",
    "mask_log_probabilities",
    "monte_carlo_dropout",
    "renormalized_geometric_mean",
]

DropoutRule = Literal["inverted", "classic"]
DROPOUT_RULES: tuple[str, ...] = ("inverted", "classic")


def _check_rule(rule: str) -> None:
    if rule not in DROPOUT_RULES:
        raise ValueError(f"rule must be one of {DROPOUT_RULES}, got {rule!r}")


def dropout_mask(key: Key, shape: tuple[int, ...], keep_probability: float) -> Array:
    """Binary keep mask ``mu`` with ``P(mu_i = 1) = keep_probability``, as booleans.

    Args:
        key: PRNG key.
        shape: mask shape.
        keep_probability: inclusion probability in [0, 1].

    Returns:
        bool array of ``shape``.

    Example:
        >>> mu = dropout_mask(jax.random.key(0), (4,), keep_probability=0.5)
    """
    check_in_range("keep_probability", keep_probability, 0.0, 1.0)
    return jax.random.bernoulli(key, keep_probability, shape)


def dropout(
    key: Key,
    x: ArrayLike,
    keep_probability: float,
    *,
    rule: DropoutRule = "inverted",
    broadcast_axes: tuple[int, ...] = (),
) -> Array:
    """Training-time dropout: ``x * mu / keep_probability`` (inverted) or ``x * mu`` (classic).

    Args:
        key: PRNG key.
        x: activations ``[...]``.
        keep_probability: probability of keeping a unit, in (0, 1]; the course
            uses 0.8 for inputs and 0.5 for hidden units.
        rule: ``"inverted"`` or ``"classic"`` (see the module docstring).
        broadcast_axes: axes along which one mask value is shared (e.g. the
            spatial axes for channel dropout).

    Returns:
        Array of ``x``'s shape and dtype.

    Example:
        >>> h = dropout(jax.random.key(0), jnp.ones((2, 8)), 0.5)  # entries 0 or 2

    Reference: Srivastava et al., "Dropout: A Simple Way to Prevent Neural
    Networks from Overfitting", JMLR 2014.
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    _check_rule(rule)
    check_in_range("keep_probability", keep_probability, 0.0, 1.0, low_inclusive=False)
    mask_shape = tuple(1 if axis in broadcast_axes else n for axis, n in enumerate(x.shape))
    mu = jnp.broadcast_to(dropout_mask(key, mask_shape, keep_probability), x.shape)
    kept = jnp.where(mu, x, jnp.zeros_like(x))
    if rule == "inverted":
        return kept / jnp.asarray(keep_probability, x.dtype)
    return kept


def dropout_inference(x: ArrayLike, keep_probability: float, *, rule: DropoutRule) -> Array:
    """Test-time counterpart of :func:`dropout`: identity (inverted) or ``x * keep`` (classic).

    The classic branch is the weight scaling inference rule: scaling a unit's
    output by its inclusion probability equals scaling its outgoing weights.

    Args:
        x: activations ``[...]``.
        keep_probability: the training keep probability, in (0, 1].
        rule: ``"inverted"`` or ``"classic"``.

    Returns:
        Array of ``x``'s shape.

    Example:
        >>> dropout_inference(jnp.ones(3), 0.5, rule="classic")  # [0.5, 0.5, 0.5]
        Array([0.5, 0.5, 0.5], dtype=float32)
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    _check_rule(rule)
    check_in_range("keep_probability", keep_probability, 0.0, 1.0, low_inclusive=False)
    if rule == "inverted":
        return x
    return x * jnp.asarray(keep_probability, x.dtype)


class MonteCarloPrediction(NamedTuple):
    """Mean and spread of ``T`` stochastic forward passes.

    Attributes:
        mean: arithmetic mean over the passes, the prediction's shape.
        variance: unbiased variance over the passes (zeros when ``T == 1``).
        samples: every pass, stacked on a new leading axis ``[T, ...]``.
    """

    mean: Array
    variance: Array
    samples: Array


def monte_carlo_dropout(
    key: Key, stochastic_fn: Callable[[Key], Array], num_samples: int
) -> MonteCarloPrediction:
    """Monte Carlo dropout: average ``T`` masked forward passes, vmapped over ``T`` keys.

    ``p_ens(y|x) ~= (1/T) sum_t p(y | x, mu_t)`` with ``mu_t`` drawn as in training.

    Args:
        key: PRNG key, split into ``num_samples`` keys.
        stochastic_fn: ``fn(key) -> prediction`` running the network in training
            mode with that key, e.g.
            ``lambda k: model.apply(params, x, train=True, rngs={"dropout": k})``.
        num_samples: number of passes ``T`` (10-20 are often enough).

    Returns:
        :class:`MonteCarloPrediction` with mean, variance and the stacked samples.

    Example:
        >>> fn = lambda k: dropout(k, jnp.ones(4), 0.5)
        >>> pred = monte_carlo_dropout(jax.random.key(0), fn, num_samples=16)

    Reference: Gal & Ghahramani, "Dropout as a Bayesian Approximation", ICML 2016.
    """
    check_positive_int("num_samples", num_samples)
    keys = jax.random.split(key, num_samples)
    samples = jax.vmap(stochastic_fn)(keys)
    mean = jnp.mean(samples, axis=0)
    if num_samples > 1:
        variance = jnp.var(samples, axis=0, ddof=1)
    else:
        variance = jnp.zeros_like(mean)
    return MonteCarloPrediction(mean=mean, variance=variance, samples=samples)


def enumerate_masks(num_units: int, dtype: jnp.dtype = jnp.float32) -> Array:
    """All ``2^d`` binary masks over ``d`` units, one per row (row ``m`` is ``m`` in binary).

    Args:
        num_units: ``d``, at most 20.
        dtype: output dtype.

    Returns:
        ``[2^d, d]`` array of zeros and ones.

    Example:
        >>> enumerate_masks(2)  # [[0, 0], [1, 0], [0, 1], [1, 1]]
        Array([[0., 0.],
               [1., 0.],
               [0., 1.],
               [1., 1.]], dtype=float32)
    """
    check_positive_int("num_units", num_units)
    if num_units > 20:
        raise ValueError(f"num_units must be <= 20 to enumerate 2^d masks, got {num_units}")
    index = np.arange(2**num_units)[:, None]
    bits = (index >> np.arange(num_units)[None, :]) & 1
    return jnp.asarray(bits, dtype=dtype)


def mask_log_probabilities(masks: ArrayLike, keep_probability: float | ArrayLike) -> Array:
    """``log p(mu)`` of each mask under independent Bernoulli(keep_probability) units.

    Args:
        masks: ``[M, d]`` 0/1 masks.
        keep_probability: scalar or ``[d]`` inclusion probabilities in (0, 1).

    Returns:
        ``[M]`` log-probabilities.

    Example:
        >>> mask_log_probabilities(enumerate_masks(3), 0.5).round(4)  # all log(1/8)
        Array([-2.0794, -2.0794, -2.0794, -2.0794, -2.0794, -2.0794, -2.0794,
               -2.0794], dtype=float32)
    """
    masks = jnp.asarray(masks)
    check_floating("masks", masks)
    concrete_vector = is_concrete(keep_probability) and np.ndim(keep_probability) > 0
    check_in_range(
        "keep_probability",
        np.min(np.asarray(keep_probability)) if concrete_vector else keep_probability,
        0.0,
        1.0,
        low_inclusive=False,
        high_inclusive=False,
    )
    keep = jnp.broadcast_to(jnp.asarray(keep_probability, masks.dtype), masks.shape[-1:])
    return jnp.sum(
        masks * jnp.log(keep)[None, :] + (1 - masks) * jnp.log1p(-keep)[None, :], axis=-1
    )


def renormalized_geometric_mean(
    log_probabilities: ArrayLike, weights: ArrayLike | None = None
) -> Array:
    """Renormalized geometric mean of the ensemble members' distributions.

    ``p_ens(y) ∝ prod_mu p(y | mu)^{w_mu}`` with weights ``w`` summing to 1
    (uniform ``1/M`` by default, i.e. the ``M``-th root of the product), then
    normalized over ``y``. Computed in log space:
    ``softmax_y(sum_mu w_mu log p(y | mu))``.

    Args:
        log_probabilities: ``[M, ..., K]`` log-probabilities of ``M`` members.
        weights: optional ``[M]`` non-negative weights, e.g. the mask
            probabilities ``p(mu)``; normalized to sum to 1.

    Returns:
        ``[..., K]`` probability vectors.

    Example:
        >>> logp = jnp.log(jnp.array([[0.9, 0.1], [0.5, 0.5]]))
        >>> renormalized_geometric_mean(logp).round(4)  # [0.75, 0.25]
        Array([0.75, 0.25], dtype=float32)

    Reference: Goodfellow, Bengio & Courville, "Deep Learning", 2016, sec. 7.12.
    """
    log_probabilities = jnp.asarray(log_probabilities)
    check_floating("log_probabilities", log_probabilities)
    if log_probabilities.ndim < 2:
        raise ValueError(
            "log_probabilities must have rank >= 2 [M, ..., K], got shape "
            f"{log_probabilities.shape}"
        )
    num_members = log_probabilities.shape[0]
    if weights is None:
        w = jnp.full((num_members,), 1.0 / num_members, log_probabilities.dtype)
    else:
        w = jnp.asarray(weights, log_probabilities.dtype)
        if w.shape != (num_members,):
            raise ValueError(f"weights must have shape ({num_members},), got {w.shape}")
        w = w / jnp.sum(w)
    w = w.reshape((num_members,) + (1,) * (log_probabilities.ndim - 1))
    return jax.nn.softmax(jnp.sum(w * log_probabilities, axis=0), axis=-1)
