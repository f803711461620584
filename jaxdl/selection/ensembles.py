"""Ensembles: bagging (bootstrap aggregation) and AdaBoost (SAMME).

Bagging trains ``M`` copies of a model on ``M`` bootstrap resamples, all at once: the
resample counts are per-example weights of the weighted loss, one row per member, and
:func:`jaxdl.training.fit_many` trains the population as one compiled program. The
ensemble predicts by majority vote or by averaging the members' class probabilities.

Boosting is sequential by nature: round ``m`` fits a weak learner to the examples
weighted by how badly the previous rounds did. Each round here is one compiled fit
(the compiled program is reused across rounds: only the weights change).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Callable
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl._checks import (
    check_floating,
    check_integer,
    check_positive,
    check_positive_int,
    check_rank,
    check_same_leading,
)
from jaxdl.nn.perceptron import perceptron_fit, perceptron_predict
from jaxdl.selection.splits import Bootstrap, bootstrap
from jaxdl.training import FitManyResult, TrainState, create_train_state, fit, fit_many
from jaxdl.training import make_supervised_loss as _supervised_loss
from jaxdl.typing import Array, ArrayLike, Key, PyTree

__all__ = [
    "BaggedPerceptrons",
    "BaggingResult",
    "BoostingResult",
    "Stump",
    "adaboost_samme",
    "average_probabilities",
    "bagged_perceptron_predict",
    "bagged_perceptrons",
    "bagging",
    "boosted_predict",
    "boosted_scores",
    "ensemble_outputs",
    "fit_stump",
    "majority_vote",
    "network_weak_learner",
    "out_of_bag_accuracy",
    "samme_alpha",
    "samme_reweight",
    "stump_weak_learner",
]


# --------------------------------------------------------------------------- combining


def majority_vote(predictions: ArrayLike, num_classes: int) -> Array:
    """The most frequent class among ``M`` members' predictions (ties: the lowest class).

    ``y_hat(x) = argmax_k sum_m [f_m(x) = k]``.

    Args:
        predictions: ``[M, N]`` integer class predictions.
        num_classes: ``K``.

    Returns:
        ``[N]`` int32 voted classes.

    Example:
        >>> majority_vote(jnp.array([[0, 1], [2, 1], [2, 0]]), 3).tolist()
        [2, 1]
    """
    predictions = jnp.asarray(predictions)
    check_rank("predictions", predictions, 2)
    check_integer("predictions", predictions)
    check_positive_int("num_classes", num_classes)
    votes = jnp.sum(jax.nn.one_hot(predictions, num_classes, dtype=jnp.int32), axis=0)
    return jnp.argmax(votes, axis=-1).astype(jnp.int32)


def average_probabilities(logits: ArrayLike) -> Array:
    """Mean of the members' softmax probabilities: ``p(k|x) = 1/M sum_m softmax(z_m(x))_k``.

    Args:
        logits: ``[M, N, K]`` members' logits.

    Returns:
        ``[N, K]`` averaged probabilities.

    Example:
        >>> average_probabilities(jnp.zeros((3, 2, 4))).tolist()[0]
        [0.25, 0.25, 0.25, 0.25]
    """
    logits = jnp.asarray(logits)
    check_rank("logits", logits, 3)
    check_floating("logits", logits)
    return jnp.mean(jax.nn.softmax(logits, axis=-1), axis=0)


def _takes_train(model: nn.Module) -> bool:
    try:
        return "train" in inspect.signature(type(model).__call__).parameters
    except (TypeError, ValueError):
        return False


def ensemble_outputs(model: nn.Module, states: TrainState, x: ArrayLike) -> Array:
    """Every member's outputs on ``x``: ``vmap`` of ``model.apply`` over the member axis.

    Args:
        model: the members' flax module.
        states: a :class:`~jaxdl.training.TrainState` with a leading member axis ``M``.
        x: ``[N, ...]`` inputs.

    Returns:
        ``[M, N, ...]`` outputs (inference mode).

    Example:
        >>> import optax
        >>> from jaxdl.training import create_train_state
        >>> from jaxdl.nn import MLP
        >>> model, x = MLP(features=(4, 3)), jnp.ones((5, 2))
        >>> states = jax.vmap(lambda k: create_train_state(k, model, x, optax.sgd(0.1)))(
        ...     jax.random.split(jax.random.key(0), 2))
        >>> ensemble_outputs(model, states, x).shape
        (2, 5, 3)
    """
    x = jnp.asarray(x)
    kwargs = {"train": False} if _takes_train(model) else {}

    def one(params, model_state):
        return model.apply({"params": params, **model_state}, x, **kwargs)

    return jax.vmap(one)(states.params, states.model_state)


# --------------------------------------------------------------------------- bagging


class BaggingResult(NamedTuple):
    """What :func:`bagging` returns.

    Attributes:
        state: the members' trained states (leading axis ``M``).
        resamples: the :class:`~jaxdl.selection.splits.Bootstrap` counts and out-of-bag
            masks, one row per member.
        fit: the :class:`~jaxdl.training.FitManyResult` (histories per member).
    """

    state: TrainState
    resamples: Bootstrap
    fit: FitManyResult


def bagging(
    key: Key,
    model: nn.Module,
    tx: optax.GradientTransformation,
    data: tuple[ArrayLike, ArrayLike],
    num_members: int,
    *,
    num_epochs: int,
    batch_size: int | None = None,
    loss: str | Callable[[Array, Array], Array] = "cross_entropy",
    shuffle: bool = True,
) -> BaggingResult:
    """Bootstrap aggregation: ``M`` models, each on its own bootstrap resample, in parallel.

    Member ``m`` minimizes ``sum_n c_{mn} L(f_m(x_n), y_n) / sum_n c_{mn}`` where
    ``c_{mn}`` counts how often example ``n`` was drawn in resample ``m``. Combine the
    members with :func:`majority_vote` or :func:`average_probabilities`.

    Args:
        key: PRNG key (split into resampling, initialization and training keys).
        model: a flax module.
        tx: optax optimizer.
        data: ``(x [N, ...], y [N])``.
        num_members: ``M``.
        num_epochs: epochs per member.
        batch_size: minibatch size (``None``: full batch).
        loss: loss for :func:`jaxdl.training.make_supervised_loss`.
        shuffle: reshuffle minibatches each epoch.

    Returns:
        A :class:`BaggingResult`.

    Example:
        >>> import optax
        >>> from jaxdl.nn import MLP
        >>> x = jax.random.normal(jax.random.key(1), (32, 2)); y = (x[:, 0] > 0).astype(int)
        >>> bag = bagging(jax.random.key(0), MLP(features=(4, 2)), optax.sgd(0.5), (x, y), 5,
        ...               num_epochs=3)
        >>> bag.resamples.counts.shape
        (5, 32)

    Reference: Breiman, "Bagging predictors", 1996.
    """
    x, y = (jnp.asarray(a) for a in data)
    check_same_leading(("x", "y"), x, y)
    if x.shape[0] == 0:
        raise ValueError(f"data must hold at least one example, got x of shape {x.shape}")
    check_positive_int("num_members", num_members)
    resample_key, init_key, run_key = jax.random.split(key, 3)
    resamples = bootstrap(resample_key, int(x.shape[0]), num_members)
    states = jax.vmap(lambda k: create_train_state(k, model, x[:1], tx))(
        jax.random.split(init_key, num_members)
    )
    return _fit_weighted_members(
        run_key,
        model,
        states,
        x,
        y,
        resamples.weights,
        resamples,
        num_epochs=num_epochs,
        batch_size=batch_size,
        loss=loss,
        shuffle=shuffle,
    )


class BaggedPerceptrons(NamedTuple):
    """What :func:`bagged_perceptrons` returns.

    Attributes:
        weights: ``[M, D]`` one perceptron per bootstrap resample.
        converged: ``[M]`` whether each perceptron separated its own resample.
        resamples: the :class:`~jaxdl.selection.splits.Bootstrap` counts and out-of-bag
            masks, one row per member.
    """

    weights: Array
    converged: Array
    resamples: Bootstrap


def bagged_perceptrons(
    key: Key,
    x: ArrayLike,
    t: ArrayLike,
    num_members: int,
    *,
    learning_rate: float = 1.0,
    max_steps: int = 10_000,
) -> BaggedPerceptrons:
    """Bagging with perceptrons: one perceptron rule per bootstrap resample, in parallel.

    1. Draw ``M`` bootstrap resamples of the ``N`` examples (with replacement);
    2. run the perceptron rule (:func:`jaxdl.nn.perceptron_fit`, from ``w = 0``) on each
       resample: every resample of a linearly separable set is separable, so each
       member converges;
    3. classify by majority vote, :func:`bagged_perceptron_predict`.

    The members run as one ``vmap`` of the perceptron's ``while_loop``.

    Args:
        key: PRNG key (split into the resampling key and one key per member).
        x: ``[N, D]`` inputs (add the constant input for a bias,
            :func:`jaxdl.nn.add_bias_input`).
        t: ``[N]`` targets in {-1, +1}.
        num_members: ``M``.
        learning_rate: the perceptron's ``eta``.
        max_steps: most examples each member visits.

    Returns:
        A :class:`BaggedPerceptrons`.

    Example:
        >>> from jaxdl.nn import add_bias_input
        >>> x = add_bias_input(jnp.array([[-2.0], [-1.0], [1.0], [2.0]]))
        >>> bag = bagged_perceptrons(jax.random.key(0), x, jnp.array([-1., -1., 1., 1.]), 3)
        >>> bag.weights.shape, bagged_perceptron_predict(bag.weights, x).tolist()
        ((3, 2), [-1.0, -1.0, 1.0, 1.0])

    Reference: Breiman, "Bagging predictors", 1996; the course's section 6.12.
    """
    x = jnp.asarray(x)
    check_rank("x", x, 2)
    check_positive_int("num_members", num_members)
    resample_key, member_key = jax.random.split(key)
    num_examples = int(x.shape[0])
    resamples = bootstrap(resample_key, num_examples, num_members)
    # Row m lists example n counts[m, n] times: the resample itself.
    index = jax.vmap(
        lambda c: jnp.repeat(jnp.arange(num_examples), c, total_repeat_length=num_examples)
    )(resamples.counts)
    t = jnp.asarray(t)
    check_floating("x", x)
    check_same_leading(("x", "t"), x, t)
    if not np.all(np.isin(np.asarray(t), (-1, 1))):
        raise ValueError(f"t must hold labels -1 or +1, got values {np.unique(t).tolist()}")
    t = t.astype(x.dtype)
    results = jax.vmap(
        lambda k, i: perceptron_fit(k, x[i], t[i], learning_rate=learning_rate, max_steps=max_steps)
    )(jax.random.split(member_key, num_members), index)
    return BaggedPerceptrons(results.weights, results.converged, resamples)


def bagged_perceptron_predict(weights: ArrayLike, x: ArrayLike) -> Array:
    """Majority vote of perceptrons: ``sign(sum_m sign(x . w_m))`` (ties give +1).

    Args:
        weights: ``[M, D]`` the members' weights.
        x: ``[N, D]`` inputs.

    Returns:
        ``[N]`` votes in {-1, +1}.

    Example:
        >>> w = jnp.array([[1.0], [1.0], [-1.0]])
        >>> bagged_perceptron_predict(w, jnp.array([[2.0]])).tolist()
        [1.0]
    """
    weights = jnp.asarray(weights)
    check_rank("weights", weights, 2)
    votes = jax.vmap(lambda w: perceptron_predict(w, x))(weights)
    return jnp.where(jnp.sum(votes, axis=0) >= 0, 1.0, -1.0).astype(votes.dtype)


def _fit_weighted_members(
    key, model, states, x, y, weights, resamples, *, num_epochs, batch_size, loss, shuffle
) -> BaggingResult:
    num_members = int(weights.shape[0])
    train_data = (
        jnp.broadcast_to(x, (num_members, *x.shape)),
        jnp.broadcast_to(y, (num_members, *y.shape)),
        weights,
    )
    result = fit_many(
        jax.random.split(key, num_members),
        states,
        _supervised_loss(model, loss, metrics=()),
        train_data,
        num_epochs=num_epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        data_axis=0,
    )
    return BaggingResult(state=result.state, resamples=resamples, fit=result)


def out_of_bag_accuracy(logits: ArrayLike, labels: ArrayLike, out_of_bag: ArrayLike) -> Array:
    """Out-of-bag accuracy: each example is predicted by the members that never saw it.

    ``p_oob(k|x_n) = mean_{m: n oob in m} softmax(z_m(x_n))_k``; examples that are in
    every resample are left out of the mean.

    Args:
        logits: ``[M, N, K]`` members' logits on the training set.
        labels: ``[N]`` integer labels.
        out_of_bag: ``[M, N]`` bool (``BaggingResult.resamples.out_of_bag``).

    Returns:
        Scalar accuracy estimate (NaN when no example is out of bag anywhere).

    Example:
        >>> logits = jnp.asarray([[[2.0, 0.0], [0.0, 1.0]], [[0.0, 3.0], [1.0, 0.0]]])
        >>> oob = jnp.asarray([[True, False], [False, True]])
        >>> float(out_of_bag_accuracy(logits, jnp.asarray([0, 0]), oob))
        1.0

    Reference: Breiman, "Out-of-bag estimation", 1996.
    """
    logits = jnp.asarray(logits)
    labels = jnp.asarray(labels)
    out_of_bag = jnp.asarray(out_of_bag)
    check_rank("logits", logits, 3)
    if logits.shape[:2] != out_of_bag.shape:
        raise ValueError(
            f"out_of_bag must have shape {logits.shape[:2]} (members, examples), "
            f"got {out_of_bag.shape}"
        )
    mask = out_of_bag.astype(logits.dtype)
    probabilities = jax.nn.softmax(logits, axis=-1)
    summed = jnp.sum(probabilities * mask[:, :, None], axis=0)
    covered = jnp.sum(mask, axis=0) > 0
    correct = (jnp.argmax(summed, axis=-1) == labels).astype(logits.dtype)
    return jnp.sum(jnp.where(covered, correct, 0.0)) / jnp.sum(covered.astype(logits.dtype))


# --------------------------------------------------------------------------- AdaBoost


def samme_alpha(error: ArrayLike, num_classes: int, learning_rate: float = 1.0) -> Array:
    """SAMME's learner weight ``alpha = eta (log((1 - err) / err) + log(K - 1))``.

    Positive exactly when the weighted error beats chance, ``err < 1 - 1/K``; for
    ``K = 2`` it is twice AdaBoost.M1's ``1/2 log((1 - err) / err)``.

    Args:
        error: weighted training error ``err`` in ``(0, 1)``.
        num_classes: ``K >= 2``.
        learning_rate: shrinkage ``eta > 0``.

    Returns:
        ``alpha`` (same shape as ``error``).

    Example:
        >>> round(float(samme_alpha(0.25, 2)), 4)
        1.0986

    Reference: Zhu, Zou, Rosset & Hastie, "Multi-class AdaBoost", 2009.
    """
    check_positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    check_positive("learning_rate", learning_rate)
    error = jnp.asarray(error)
    return learning_rate * (jnp.log((1.0 - error) / error) + math.log(num_classes - 1.0))


def samme_reweight(weights: ArrayLike, incorrect: ArrayLike, alpha: ArrayLike) -> Array:
    """SAMME's example reweighting ``w_n <- w_n exp(alpha [f(x_n) != y_n])``, renormalized.

    Args:
        weights: ``[N]`` current example weights (summing to 1).
        incorrect: ``[N]`` bool, the weak learner's mistakes.
        alpha: the learner weight from :func:`samme_alpha`.

    Returns:
        ``[N]`` new weights summing to 1.

    Example:
        >>> samme_reweight(jnp.full(4, 0.25), jnp.array([True, False, False, False]),
        ...                jnp.log(3.0)).tolist()
        [0.5, 0.1666..., 0.1666..., 0.1666...]
    """
    weights = jnp.asarray(weights)
    check_rank("weights", weights, 1)
    check_floating("weights", weights)
    incorrect = jnp.asarray(incorrect)
    if incorrect.shape != weights.shape:
        raise ValueError(f"incorrect must have shape {weights.shape}, got {incorrect.shape}")
    new = weights * jnp.exp(jnp.asarray(alpha, weights.dtype) * incorrect.astype(weights.dtype))
    return new / jnp.sum(new)


class BoostingResult(NamedTuple):
    """What :func:`adaboost_samme` returns.

    Attributes:
        learners: the weak learners' predict functions ``x [N, ...] -> [N]`` classes.
        alphas: ``[R]`` learner weights (``R`` rounds actually kept).
        errors: ``[R]`` weighted training errors of the learners.
        num_classes: ``K``.
    """

    learners: list[Callable[[Array], Array]]
    alphas: np.ndarray
    errors: np.ndarray
    num_classes: int


WeakLearnerTrainer = Callable[[Key, Array, Array, Array], Callable[[Array], Array]]
"""``train(key, x [N, ...], y [N], weights [N]) -> predict``, with ``predict(x) -> [N]``."""


def adaboost_samme(
    key: Key,
    train_weak_learner: WeakLearnerTrainer,
    data: tuple[ArrayLike, ArrayLike],
    *,
    num_classes: int,
    num_rounds: int,
    learning_rate: float = 1.0,
) -> BoostingResult:
    """AdaBoost for ``K`` classes (SAMME): weak learners fitted to reweighted examples.

    Start from ``w_n = 1/N``. Round ``m``: fit ``f_m`` with weights ``w``; weighted error
    ``err_m = sum_n w_n [f_m(x_n) != y_n]``; ``alpha_m`` by :func:`samme_alpha`;
    ``w`` by :func:`samme_reweight`. Predict ``argmax_k sum_m alpha_m [f_m(x) = k]``.
    Stops early (as scikit-learn does) when a learner is perfect (kept with ``alpha = 1``)
    or no better than chance, ``err >= 1 - 1/K`` (dropped).

    Args:
        key: PRNG key, one per round by ``fold_in``.
        train_weak_learner: ``train(key, x, y, weights) -> predict`` (e.g.
            :func:`stump_weak_learner`, :func:`network_weak_learner`).
        data: ``(x [N, ...], y [N])`` integer labels.
        num_classes: ``K``.
        num_rounds: maximum number of rounds.
        learning_rate: shrinkage ``eta`` of every ``alpha``.

    Returns:
        A :class:`BoostingResult`.

    Raises:
        ValueError: when the first weak learner is no better than chance.

    Example:
        >>> x = jax.random.normal(jax.random.key(1), (64, 2))
        >>> y = (x[:, 0] * x[:, 1] > 0).astype(jnp.int32)
        >>> boosted = adaboost_samme(jax.random.key(0), stump_weak_learner(), (x, y),
        ...                          num_classes=2, num_rounds=10)
        >>> boosted_predict(boosted, x).shape
        (64,)

    Reference: Zhu, Zou, Rosset & Hastie, "Multi-class AdaBoost", 2009; Freund &
    Schapire, "A decision-theoretic generalization of on-line learning", 1997.
    """
    x, y = (jnp.asarray(a) for a in data)
    check_same_leading(("x", "y"), x, y)
    check_integer("y", y)
    if x.shape[0] == 0:
        raise ValueError(f"data must hold at least one example, got x of shape {x.shape}")
    check_positive_int("num_classes", num_classes)
    if num_classes < 2:
        raise ValueError(f"num_classes must be >= 2, got {num_classes}")
    check_positive_int("num_rounds", num_rounds)
    check_positive("learning_rate", learning_rate)
    num_examples = int(x.shape[0])
    weights = jnp.full(num_examples, 1.0 / num_examples, jnp.float32)
    learners, alphas, errors = [], [], []
    chance = 1.0 - 1.0 / num_classes
    for round_index in range(num_rounds):
        predict = train_weak_learner(jax.random.fold_in(key, round_index), x, y, weights)
        incorrect = predict(x) != y
        error = float(jnp.sum(jnp.where(incorrect, weights, 0.0)) / jnp.sum(weights))
        if error <= 0.0:
            learners.append(predict)
            alphas.append(1.0)
            errors.append(0.0)
            break
        if error >= chance:
            if not learners:
                raise ValueError(
                    f"the first weak learner has weighted error {error:.3f} >= 1 - 1/K = "
                    f"{chance:.3f}: it is no better than chance, boosting cannot start"
                )
            break
        alpha = float(samme_alpha(error, num_classes, learning_rate))
        learners.append(predict)
        alphas.append(alpha)
        errors.append(error)
        weights = samme_reweight(weights, incorrect, alpha)
    return BoostingResult(learners, np.asarray(alphas), np.asarray(errors), num_classes)


def boosted_scores(result: BoostingResult, x: ArrayLike) -> Array:
    """Class scores of a boosted ensemble: ``s_k(x) = sum_m alpha_m [f_m(x) = k]``.

    Args:
        result: a :class:`BoostingResult`.
        x: ``[N, ...]`` inputs.

    Returns:
        ``[N, K]`` scores.

    Example:
        >>> x = jnp.asarray([[0.0], [1.0], [2.0], [3.0]]); y = jnp.asarray([0, 0, 1, 1])
        >>> boosted = adaboost_samme(jax.random.key(0), stump_weak_learner(), (x, y),
        ...                          num_classes=2, num_rounds=3)
        >>> boosted_scores(boosted, x).tolist()
        [[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]]
    """
    x = jnp.asarray(x)
    scores = jnp.zeros((x.shape[0], result.num_classes), jnp.float32)
    for alpha, predict in zip(result.alphas, result.learners, strict=True):
        scores = scores + float(alpha) * jax.nn.one_hot(predict(x), result.num_classes)
    return scores


def boosted_predict(result: BoostingResult, x: ArrayLike) -> Array:
    """Classes predicted by a boosted ensemble, ``argmax_k s_k(x)`` (``[N]`` int32).

    Example:
        >>> x = jnp.asarray([[0.0], [1.0], [2.0], [3.0]]); y = jnp.asarray([0, 0, 1, 1])
        >>> boosted = adaboost_samme(jax.random.key(0), stump_weak_learner(), (x, y),
        ...                          num_classes=2, num_rounds=3)
        >>> boosted_predict(boosted, x).tolist()
        [0, 0, 1, 1]
    """
    return jnp.argmax(boosted_scores(result, x), axis=-1).astype(jnp.int32)


# --------------------------------------------------------------------------- weak learners


class Stump(NamedTuple):
    """A decision stump: ``left_class if x[feature] <= threshold else right_class``."""

    feature: Array
    threshold: Array
    left_class: Array
    right_class: Array

    def predict(self, x: Array) -> Array:
        """``[N]`` int32 classes of ``x [N, D]``."""
        column = jnp.take(x, self.feature, axis=1)
        return jnp.where(column <= self.threshold, self.left_class, self.right_class).astype(
            jnp.int32
        )


@functools.partial(jax.jit, static_argnames="num_classes")
def fit_stump(x: Array, y: Array, weights: Array, num_classes: int) -> Stump:
    """The decision stump with the smallest weighted misclassification error.

    Every feature ``d`` and every cut between consecutive distinct sorted values is
    tried; each side predicts its weighted-majority class. ``O(N D K)`` memory, jittable.

    Args:
        x: ``[N, D]`` floating features.
        y: ``[N]`` integer labels in ``[0, num_classes)``.
        weights: ``[N]`` non-negative example weights.
        num_classes: ``K`` (static).

    Returns:
        The best :class:`Stump`.

    Example:
        >>> stump = fit_stump(jnp.array([[0.0], [1.0], [2.0]]), jnp.array([0, 1, 1]),
        ...                   jnp.ones(3), num_classes=2)
        >>> float(stump.threshold)
        0.5
    """
    check_rank("x", x, 2)
    check_floating("x", x)
    order = jnp.argsort(x, axis=0)  # [N, D]
    sorted_x = jnp.take_along_axis(x, order, axis=0)
    weighted_onehot = jax.nn.one_hot(y, num_classes, dtype=weights.dtype) * weights[:, None]
    left = jnp.cumsum(weighted_onehot[order], axis=0)  # [N, D, K]: first i+1 go left
    right = jnp.sum(weighted_onehot, axis=0)[None, None, :] - left
    correct = jnp.max(left, axis=-1) + jnp.max(right, axis=-1)  # [N, D]
    num_examples = x.shape[0]
    next_x = jnp.concatenate([sorted_x[1:], jnp.full((1, x.shape[1]), jnp.inf, x.dtype)])
    valid = (next_x > sorted_x) | (jnp.arange(num_examples)[:, None] == num_examples - 1)
    correct = jnp.where(valid, correct, -jnp.inf)
    flat = jnp.argmax(correct.reshape(-1))
    row, feature = flat // x.shape[1], flat % x.shape[1]
    threshold = jnp.where(
        row == num_examples - 1,
        sorted_x[row, feature],
        0.5 * (sorted_x[row, feature] + next_x[row, feature]),
    )
    return Stump(
        feature=feature.astype(jnp.int32),
        threshold=threshold,
        left_class=jnp.argmax(left[row, feature]).astype(jnp.int32),
        right_class=jnp.argmax(right[row, feature]).astype(jnp.int32),
    )


def stump_weak_learner(num_classes: int = 2) -> WeakLearnerTrainer:
    """A trainer of weighted decision stumps for :func:`adaboost_samme` (ignores the key).

    Example:
        >>> train = stump_weak_learner(2)
        >>> predict = train(jax.random.key(0), jnp.asarray([[0.0], [1.0]]), jnp.asarray([0, 1]),
        ...                 jnp.ones(2))
        >>> predict(jnp.asarray([[0.2], [0.9]])).tolist()
        [0, 1]
    """
    check_positive_int("num_classes", num_classes)

    def train(key: Key, x: Array, y: Array, weights: Array) -> Callable[[Array], Array]:
        del key  # a stump is deterministic
        return fit_stump(x, y, weights, num_classes).predict

    return train


def network_weak_learner(
    model: nn.Module,
    tx: optax.GradientTransformation,
    *,
    num_epochs: int,
    batch_size: int | None = None,
) -> WeakLearnerTrainer:
    """A trainer of small networks on weighted cross-entropy for :func:`adaboost_samme`.

    Each call initializes ``model`` from the round's key and runs
    :func:`jaxdl.training.fit` on ``(x, y, N * weights)``; the compiled program is
    built once and reused every round (one loss function, same sizes).

    Args:
        model: a flax classifier returning logits ``[N, K]``.
        tx: optax optimizer.
        num_epochs: epochs per round.
        batch_size: minibatch size (``None``: full batch).

    Returns:
        ``train(key, x, y, weights) -> predict``.

    Example:
        >>> import optax
        >>> from jaxdl.nn import MLP
        >>> train = network_weak_learner(MLP(features=(2,)), optax.sgd(0.5), num_epochs=20)
    """
    check_positive_int("num_epochs", num_epochs)
    loss_fn = _supervised_loss(model, "cross_entropy", metrics=())
    kwargs = {"train": False} if _takes_train(model) else {}

    @jax.jit
    def predict_with(params: PyTree, model_state: PyTree, x: Array) -> Array:
        logits = model.apply({"params": params, **model_state}, x, **kwargs)
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)

    def train(key: Key, x: Array, y: Array, weights: Array) -> Callable[[Array], Array]:
        init_key, fit_key = jax.random.split(key)
        state = create_train_state(init_key, model, x[:1], tx)
        scaled = weights * x.shape[0]
        result = fit(
            fit_key,
            state,
            loss_fn,
            (x, y, scaled),
            num_epochs=num_epochs,
            batch_size=batch_size,
            progress=False,
        )
        params, model_state = result.state.params, result.state.model_state
        return functools.partial(predict_with, params, model_state)

    return train
