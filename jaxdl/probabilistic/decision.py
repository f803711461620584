"""Point estimates and decisions: maximum likelihood, MAP, the Bayes-optimal classifier.

Bayes' rule over hypotheses ``h`` given data ``D``::

    P(h | D) = P(D | h) P(h) / P(D)

- the **MAP** hypothesis maximizes ``P(D | h) P(h)`` (``P(D)`` does not depend on h);
- the **maximum-likelihood** hypothesis maximizes ``P(D | h)``: MAP under a uniform prior;
- the **Bayes-optimal** classification of a new input does not trust one hypothesis but
  lets all of them vote, weighted by their posteriors::

      v* = argmax_v  sum_h P(v | h) P(h | D)

  and can disagree with the label the MAP hypothesis gives.

For continuous parameters with conjugate priors the ML and MAP estimates have closed
forms (Bernoulli with a Beta prior, Gaussian mean with a Gaussian prior), given here.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxdl._checks import (
    check_floating,
    check_nonempty,
    check_positive,
    check_positive_int,
    check_probabilities,
    check_rank,
    is_concrete,
)
from jaxdl.typing import Array, ArrayLike


def _observations(name: str, x: ArrayLike) -> Array:
    x = jnp.asarray(x)
    check_rank(name, x, 1)
    check_nonempty(name, x)
    return x


def _binary(name: str, x: ArrayLike) -> Array:
    x = _observations(name, x)
    if is_concrete(x) and not bool(jnp.all((x == 0) | (x == 1))):
        raise ValueError(f"{name} must hold 0/1 outcomes, got values other than 0 and 1")
    return x.astype(jnp.result_type(float))


def bernoulli_ml(observations: ArrayLike) -> Array:
    """Maximum-likelihood Bernoulli parameter: the fraction of successes ``k / n``.

    Args:
        observations: 0/1 outcomes, shape ``[n]`` (bool, int or float).

    Returns:
        A scalar in ``[0, 1]``.

    Example:
        >>> bernoulli_ml(jnp.array([1, 0, 1, 1]))
        Array(0.75, dtype=float32)
    """
    return jnp.mean(_binary("observations", observations))


def bernoulli_map(observations: ArrayLike, prior_alpha: ArrayLike, prior_beta: ArrayLike) -> Array:
    """MAP Bernoulli parameter under a ``Beta(a, b)`` prior: the posterior mode.

    The posterior is ``Beta(a + k, b + n - k)``, whose mode is

        theta_MAP = (k + a - 1) / (n + a + b - 2),

    which equals the ML estimate ``k / n`` for the flat prior ``a = b = 1`` and is
    pulled towards ``(a - 1) / (a + b - 2)`` for a few observations.

    Args:
        observations: 0/1 outcomes ``[n]``.
        prior_alpha: ``a >= 1``.
        prior_beta: ``b >= 1``.

    Returns:
        A scalar in ``[0, 1]``.

    Raises:
        ValueError: if ``a < 1`` or ``b < 1`` (the mode may sit at a boundary or not
            exist), or ``n + a + b <= 2``.

    Example:
        >>> bernoulli_map(jnp.array([1, 1, 1]), 2.0, 2.0)
        Array(0.8, dtype=float32)
    """
    x = _binary("observations", observations)
    for name, value in (("prior_alpha", prior_alpha), ("prior_beta", prior_beta)):
        check_positive(name, value)
        if is_concrete(value) and float(value) < 1.0:
            raise ValueError(f"{name} must be >= 1 for an interior posterior mode, got {value}")
    n = x.shape[0]
    if is_concrete(prior_alpha) and is_concrete(prior_beta):
        if n + float(prior_alpha) + float(prior_beta) <= 2.0:
            raise ValueError(
                "the posterior mode needs n + prior_alpha + prior_beta > 2, got "
                f"n={n}, prior_alpha={prior_alpha}, prior_beta={prior_beta}"
            )
    successes = jnp.sum(x)
    return (successes + prior_alpha - 1.0) / (n + prior_alpha + prior_beta - 2.0)


def gaussian_mean_ml(observations: ArrayLike) -> Array:
    """Maximum-likelihood mean of a Gaussian: the sample mean.

    Args:
        observations: floating samples ``[n]``.

    Returns:
        A scalar.

    Example:
        >>> gaussian_mean_ml(jnp.array([1.0, 2.0, 6.0]))
        Array(3., dtype=float32)
    """
    x = _observations("observations", observations)
    check_floating("observations", x)
    return jnp.mean(x)


def gaussian_variance_ml(observations: ArrayLike) -> Array:
    """Maximum-likelihood variance of a Gaussian: ``1/n sum (x_i - mean)^2`` (biased).

    Args:
        observations: floating samples ``[n]``.

    Returns:
        A scalar.

    Example:
        >>> gaussian_variance_ml(jnp.array([1.0, 3.0]))
        Array(1., dtype=float32)
    """
    x = _observations("observations", observations)
    check_floating("observations", x)
    return jnp.mean(jnp.square(x - jnp.mean(x)))


def gaussian_mean_map(
    observations: ArrayLike,
    noise_variance: ArrayLike,
    prior_mean: ArrayLike,
    prior_variance: ArrayLike,
) -> Array:
    """MAP mean of a Gaussian with known variance under a Gaussian prior on the mean.

    With ``x_i ~ N(mu, sigma^2)`` and ``mu ~ N(mu_0, tau^2)`` the posterior is Gaussian
    and its mode is the precision-weighted average

        mu_MAP = (mu_0 / tau^2 + sum_i x_i / sigma^2) / (1 / tau^2 + n / sigma^2).

    As ``tau^2 -> infinity`` (a flat prior) it tends to the ML sample mean.

    Args:
        observations: floating samples ``[n]``.
        noise_variance: ``sigma^2 > 0``.
        prior_mean: ``mu_0``.
        prior_variance: ``tau^2 > 0``.

    Returns:
        A scalar.

    Example:
        >>> gaussian_mean_map(jnp.array([2.0, 2.0]), 1.0, 0.0, 1.0)
        Array(1.3333334, dtype=float32)
    """
    x = _observations("observations", observations)
    check_floating("observations", x)
    check_positive("noise_variance", noise_variance)
    check_positive("prior_variance", prior_variance)
    n = x.shape[0]
    precision = 1.0 / prior_variance + n / noise_variance
    return (prior_mean / prior_variance + jnp.sum(x) / noise_variance) / precision


def hypothesis_posteriors(log_likelihoods: ArrayLike, log_priors: ArrayLike | None = None) -> Array:
    """Posterior ``P(h | D)`` over a finite set of hypotheses from log-likelihoods and log-priors.

    ``P(h | D) = softmax_h(log P(D | h) + log P(h))``; the evidence ``P(D)`` is the
    normalizer. A missing prior means the uniform one.

    Args:
        log_likelihoods: ``log P(D | h)``, shape ``[H]``.
        log_priors: ``log P(h)``, shape ``[H]``, or None for uniform.

    Returns:
        Posterior probabilities ``[H]`` summing to 1.

    Example:
        >>> posteriors = hypothesis_posteriors(jnp.log(jnp.array([0.2, 0.6])))
        >>> [round(p, 3) for p in posteriors.tolist()]
        [0.25, 0.75]
    """
    log_likelihoods = jnp.asarray(log_likelihoods)
    check_floating("log_likelihoods", log_likelihoods)
    check_rank("log_likelihoods", log_likelihoods, 1)
    check_nonempty("log_likelihoods", log_likelihoods)
    if log_priors is None:
        return jax.nn.softmax(log_likelihoods)
    log_priors = jnp.asarray(log_priors)
    if log_priors.shape != log_likelihoods.shape:
        raise ValueError(
            f"log_priors must have the shape of log_likelihoods {log_likelihoods.shape}, "
            f"got {log_priors.shape}"
        )
    return jax.nn.softmax(log_likelihoods + log_priors)


def map_hypothesis(log_likelihoods: ArrayLike, log_priors: ArrayLike) -> Array:
    """Index of the MAP hypothesis ``argmax_h P(D | h) P(h)``.

    Args:
        log_likelihoods: ``log P(D | h)``, shape ``[H]``.
        log_priors: ``log P(h)``, shape ``[H]``.

    Returns:
        An int32 scalar index.

    Example:
        >>> map_hypothesis(jnp.log(jnp.array([0.5, 0.4])), jnp.log(jnp.array([0.2, 0.8])))
        Array(1, dtype=int32)
    """
    return jnp.argmax(hypothesis_posteriors(log_likelihoods, log_priors))


def ml_hypothesis(log_likelihoods: ArrayLike) -> Array:
    """Index of the maximum-likelihood hypothesis ``argmax_h P(D | h)`` (MAP, uniform prior).

    Args:
        log_likelihoods: ``log P(D | h)``, shape ``[H]``.

    Returns:
        An int32 scalar index.

    Example:
        >>> ml_hypothesis(jnp.log(jnp.array([0.5, 0.4])))
        Array(0, dtype=int32)
    """
    log_likelihoods = jnp.asarray(log_likelihoods)
    check_floating("log_likelihoods", log_likelihoods)
    check_rank("log_likelihoods", log_likelihoods, 1)
    check_nonempty("log_likelihoods", log_likelihoods)
    return jnp.argmax(log_likelihoods)


def _hypothesis_votes(
    posteriors: ArrayLike, predictions: ArrayLike, num_classes: int | None
) -> tuple[Array, Array]:
    posteriors = jnp.asarray(posteriors)
    check_floating("posteriors", posteriors)
    check_rank("posteriors", posteriors, 1)
    check_nonempty("posteriors", posteriors)
    check_probabilities("posteriors", posteriors, axis=0)
    predictions = jnp.asarray(predictions)
    if jnp.issubdtype(predictions.dtype, jnp.integer):
        if num_classes is None:
            raise ValueError("num_classes is required when predictions are integer labels")
        check_positive_int("num_classes", num_classes)
        predictions = jax.nn.one_hot(predictions, num_classes, dtype=posteriors.dtype)
    else:
        check_rank("predictions", predictions, tuple(range(2, 33)))
        check_probabilities("predictions", predictions, axis=-1)
    if predictions.shape[0] != posteriors.shape[0]:
        raise ValueError(
            f"predictions must have one row per hypothesis ({posteriors.shape[0]}), "
            f"got shape {predictions.shape}"
        )
    return posteriors, predictions


def bayes_optimal_probabilities(
    posteriors: ArrayLike, predictions: ArrayLike, num_classes: int | None = None
) -> Array:
    """Class probabilities of the Bayes-optimal classifier: ``sum_h P(v | h) P(h | D)``.

    Args:
        posteriors: ``P(h | D)``, shape ``[H]``, summing to 1.
        predictions: ``P(v | h)`` for each hypothesis, shape ``[H, ..., K]`` (rows summing
            to 1), or the hard labels each hypothesis predicts, integer ``[H, ...]``.
        num_classes: ``K``, needed for integer predictions.

    Returns:
        Probabilities ``[..., K]``.

    Example:
        >>> bayes_optimal_probabilities(jnp.array([0.4, 0.3, 0.3]), jnp.array([0, 1, 1]), 2)
        Array([0.4, 0.6], dtype=float32)

    Reference: Mitchell, "Machine Learning", 1997, section 6.7.
    """
    posteriors, predictions = _hypothesis_votes(posteriors, predictions, num_classes)
    return jnp.tensordot(posteriors, predictions, axes=1)


def bayes_optimal_classifier(
    posteriors: ArrayLike, predictions: ArrayLike, num_classes: int | None = None
) -> Array:
    """The Bayes-optimal label ``argmax_v sum_h P(v | h) P(h | D)``.

    Args:
        posteriors: ``P(h | D)``, shape ``[H]``.
        predictions: as in :func:`bayes_optimal_probabilities`.
        num_classes: ``K``, needed for integer predictions.

    Returns:
        Integer labels ``[...]``.

    Example:
        >>> bayes_optimal_classifier(jnp.array([0.4, 0.3, 0.3]), jnp.array([0, 1, 1]), 2)
        Array(1, dtype=int32)
    """
    return jnp.argmax(bayes_optimal_probabilities(posteriors, predictions, num_classes), axis=-1)


__all__ = [
    "bayes_optimal_classifier",
    "bayes_optimal_probabilities",
    "bernoulli_map",
    "bernoulli_ml",
    "gaussian_mean_map",
    "gaussian_mean_ml",
    "gaussian_variance_ml",
    "hypothesis_posteriors",
    "map_hypothesis",
    "ml_hypothesis",
]
