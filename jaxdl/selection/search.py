"""Hyperparameter search: grid and random search with cross-validated scores.

Candidates differ only in hyperparameters injected in the optimizer state
(``optax.inject_hyperparams``: learning rate, weight decay, momentum, ...), so all of
them share array shapes. Every (candidate, fold) pair is one member of a population
trained by :func:`jaxdl.training.fit_many`: ``C`` candidates times ``K`` folds run as
ONE compiled program, the folds entering as per-member example weights (the training
mask) with ``data_axis=0``. Candidates of one fold start from the same initial
parameters (common random numbers), so their scores differ by the hyperparameters
alone.

The result table follows scikit-learn's ``cv_results_``.
"""

from __future__ import annotations

import functools
import inspect
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl._checks import check_positive_int, check_same_leading
from jaxdl.selection.splits import Folds
from jaxdl.training import (
    FitManyResult,
    create_train_state,
    fit_many,
    get_hyperparams,
    make_supervised_loss,
    set_hyperparams,
)
from jaxdl.typing import Array, ArrayLike, Key, PyTree

__all__ = [
    "DISTRIBUTIONS",
    "SCORERS",
    "Distribution",
    "SearchResult",
    "choice",
    "cross_validate",
    "grid_search",
    "log_uniform",
    "parameter_grid",
    "random_search",
    "sample_candidates",
    "uniform",
]


# --------------------------------------------------------------------------- candidates


class Distribution(NamedTuple):
    """A prior over one hyperparameter for random search.

    Attributes:
        kind: ``"uniform"``, ``"log_uniform"`` or ``"choice"``.
        low: lower bound (``uniform``/``log_uniform``).
        high: upper bound (``uniform``/``log_uniform``).
        values: the options of ``choice``.
    """

    kind: str
    low: float = 0.0
    high: float = 1.0
    values: tuple = ()


DISTRIBUTIONS = ("uniform", "log_uniform", "choice")
"""Names accepted as ``Distribution.kind`` (or as the first item of a tuple spec)."""


def uniform(low: float, high: float) -> Distribution:
    """``U(low, high)``.

    Example:
        >>> uniform(0.0, 0.9).kind
        'uniform'
    """
    if not low < high:
        raise ValueError(f"uniform needs low < high, got low={low}, high={high}")
    return Distribution("uniform", float(low), float(high))


def log_uniform(low: float, high: float) -> Distribution:
    """``exp(U(log low, log high))``: equal mass per decade, the usual prior on rates.

    Example:
        >>> log_uniform(1e-4, 1e-1).kind
        'log_uniform'

    Reference: Bergstra & Bengio, "Random search for hyper-parameter optimization", 2012.
    """
    if not 0 < low < high:
        raise ValueError(f"log_uniform needs 0 < low < high, got low={low}, high={high}")
    return Distribution("log_uniform", float(low), float(high))


def choice(values: Sequence[float]) -> Distribution:
    """A uniform choice among ``values``.

    Example:
        >>> choice([0.0, 0.9]).values
        (0.0, 0.9)
    """
    values = tuple(float(v) for v in values)
    if not values:
        raise ValueError("choice needs at least one value, got an empty sequence")
    return Distribution("choice", values=values)


def _as_distribution(name: str, spec: Any) -> Distribution:
    if isinstance(spec, Distribution):
        distribution = spec
    elif isinstance(spec, tuple | list) and spec and isinstance(spec[0], str):
        kind = spec[0]
        builders = {"uniform": uniform, "log_uniform": log_uniform}
        if kind == "choice":
            return choice(*spec[1:])
        if kind not in builders:
            raise ValueError(
                f"distribution of {name!r} must be one of {list(DISTRIBUTIONS)}, got {kind!r}"
            )
        return builders[kind](*spec[1:])
    else:
        raise TypeError(
            f"distribution of {name!r} must be a Distribution or a tuple such as "
            f"('log_uniform', 1e-4, 1e-1), got {spec!r}"
        )
    if distribution.kind not in DISTRIBUTIONS:
        raise ValueError(
            f"distribution of {name!r} must be one of {list(DISTRIBUTIONS)}, "
            f"got {distribution.kind!r}"
        )
    return distribution


def _sample(key: Key, distribution: Distribution, num_samples: int) -> Array:
    if distribution.kind == "choice":
        options = jnp.asarray(distribution.values, jnp.float32)
        return options[jax.random.randint(key, (num_samples,), 0, options.shape[0])]
    u = jax.random.uniform(key, (num_samples,))
    if distribution.kind == "uniform":
        return distribution.low + (distribution.high - distribution.low) * u
    log_low, log_high = math.log(distribution.low), math.log(distribution.high)
    return jnp.exp(log_low + (log_high - log_low) * u)


def sample_candidates(
    key: Key, distributions: Mapping[str, Distribution | tuple], num_candidates: int
) -> dict[str, Array]:
    """Draw ``num_candidates`` independent hyperparameter settings.

    Each name gets its own key (``fold_in`` of its position in sorted order).

    Args:
        key: PRNG key.
        distributions: name -> :class:`Distribution` or a tuple spec
            ``("log_uniform", low, high)``, ``("uniform", low, high)``,
            ``("choice", [v1, v2, ...])``.
        num_candidates: ``C``.

    Returns:
        name -> ``[C]`` float32 values.

    Example:
        >>> c = sample_candidates(jax.random.key(0), {"learning_rate": log_uniform(1e-3, 1.0)}, 5)
        >>> c["learning_rate"].shape
        (5,)
    """
    if not distributions:
        raise ValueError("distributions must name at least one hyperparameter, got {}")
    check_positive_int("num_candidates", num_candidates)
    parsed = {name: _as_distribution(name, spec) for name, spec in distributions.items()}
    names = sorted(parsed)
    keys = jax.random.split(key, len(names))
    return {
        name: _sample(k, parsed[name], num_candidates) for name, k in zip(names, keys, strict=True)
    }


def parameter_grid(grid: Mapping[str, Sequence[float]]) -> dict[str, Array]:
    """Every combination of a grid, as columns (scikit-learn's ``ParameterGrid`` order).

    Names are sorted; the last name varies fastest.

    Args:
        grid: name -> non-empty sequence of values.

    Returns:
        name -> ``[C]`` float64 NumPy values, ``C`` the product of the sequence lengths.

    Example:
        >>> g = parameter_grid({"learning_rate": [0.1, 1.0], "momentum": [0.0, 0.9]})
        >>> g["learning_rate"].tolist(), g["momentum"].tolist()
        ([0.1, 0.1, 1.0, 1.0], [0.0, 0.9, 0.0, 0.9])
    """
    if not grid:
        raise ValueError("grid must name at least one hyperparameter, got an empty grid")
    names = sorted(grid)
    for name in names:
        if len(grid[name]) == 0:
            raise ValueError(f"grid[{name!r}] must hold at least one value, got an empty list")
    rows = list(itertools.product(*(list(grid[name]) for name in names)))
    return {name: np.asarray([row[i] for row in rows], np.float64) for i, name in enumerate(names)}


# --------------------------------------------------------------------------- scoring


def _accuracy_score(outputs: Array, targets: Array) -> Array:
    predicted = jnp.argmax(outputs, axis=-1)
    return (predicted == targets).astype(jnp.float32)


def _neg_squared_error(outputs: Array, targets: Array) -> Array:
    error = outputs - targets.reshape(outputs.shape).astype(outputs.dtype)
    return -jnp.mean(jnp.square(error.reshape(error.shape[0], -1)), axis=-1)


SCORERS: dict[str, Callable[[Array, Array], Array]] = {
    "accuracy": _accuracy_score,
    "neg_mean_squared_error": _neg_squared_error,
}
"""Per-example scores (higher is better): ``scorer(outputs [N, ...], targets [N, ...]) -> [N]``."""


def _takes_train(model: nn.Module) -> bool:
    try:
        return "train" in inspect.signature(type(model).__call__).parameters
    except (TypeError, ValueError):
        return False


def _predict(model: nn.Module, params: PyTree, model_state: PyTree, x: Array) -> Array:
    kwargs = {"train": False} if _takes_train(model) else {}
    return model.apply({"params": params, **model_state}, x, **kwargs)


def _masked_mean(scores: Array, mask: Array) -> Array:
    weights = mask.astype(scores.dtype)
    return jnp.sum(scores * weights, axis=-1) / jnp.maximum(jnp.sum(weights, axis=-1), 1.0)


# --------------------------------------------------------------------------- search


class SearchResult(NamedTuple):
    """What :func:`cross_validate`, :func:`grid_search` and :func:`random_search` return.

    Attributes:
        cv_results: dict like scikit-learn's ``cv_results_``: ``params`` (list of dicts),
            ``param_<name>`` ``[C]``, ``split<k>_test_score`` ``[C]``, ``mean_test_score``,
            ``std_test_score``, ``rank_test_score`` (1 = best; non-finite runs last),
            ``split<k>_train_score``, ``mean_train_score``, ``std_train_score``.
        best_index: index of the best candidate (highest mean test score).
        best_params: its hyperparameters.
        best_score: its mean test score.
        fit: the :class:`jaxdl.training.FitManyResult` of all ``C * K`` members (member
            ``c * K + k`` is candidate ``c`` on fold ``k``), with the training histories.
    """

    cv_results: dict[str, Any]
    best_index: int
    best_params: dict[str, float]
    best_score: float
    fit: FitManyResult


@functools.lru_cache(maxsize=16)
def _cached_search_loss(model: nn.Module, loss: Any):
    return make_supervised_loss(model, loss, metrics=())


def _search_loss(model: nn.Module, loss: Any):
    """One loss object per (model, loss), so repeated searches (the rounds of a
    model-based search) reuse ``fit_many``'s compiled program instead of recompiling."""
    try:
        return _cached_search_loss(model, loss)
    except TypeError:  # an unhashable model or loss: build a fresh one
        return make_supervised_loss(model, loss, metrics=())


def _rank_descending(values: np.ndarray) -> np.ndarray:
    """Rank 1 for the highest value; ties share the lowest rank; NaN ranks last."""
    filled = np.where(np.isnan(values), -np.inf, values)
    return np.asarray([1 + np.sum(filled > v) for v in filled], dtype=np.int32)


def cross_validate(
    key: Key,
    model: nn.Module,
    tx: optax.GradientTransformation,
    data: tuple[ArrayLike, ArrayLike],
    folds: Folds,
    candidates: Mapping[str, ArrayLike],
    *,
    num_epochs: int,
    batch_size: int | None = None,
    loss: str | Callable[[Array, Array], Array] = "cross_entropy",
    scoring: str | Callable[[Array, Array], Array] = "accuracy",
    shuffle: bool = True,
) -> SearchResult:
    """Cross-validated scores of hyperparameter candidates, all trained in one program.

    For candidate ``c`` and fold ``k`` the model is trained on the fold's training part
    (weights ``train_mask[k]`` in the weighted mean loss) with the hyperparameters of
    ``c`` written into the injected optimizer state, and scored on the test part:
    ``score_{c,k} = mean_{n in test_k} s(f_{c,k}(x_n), y_n)``. The table holds the mean
    and (population) standard deviation over folds.

    Args:
        key: PRNG key (initialization per fold, then shuffling and dropout per member).
        model: a flax module.
        tx: an optimizer built with ``optax.inject_hyperparams`` whose injected names
            include every candidate name.
        data: ``(x [N, ...], y [N, ...])``.
        folds: :class:`~jaxdl.selection.splits.Folds` with masks ``[K, N]``.
        candidates: name -> ``[C]`` values (see :func:`parameter_grid`,
            :func:`sample_candidates`).
        num_epochs: epochs per member.
        batch_size: minibatch size (``None``: full batch).
        loss: loss name or per-example callable for :func:`jaxdl.training.make_supervised_loss`.
        scoring: ``"accuracy"``, ``"neg_mean_squared_error"`` or a per-example callable
            ``(outputs [N, ...], targets [N, ...]) -> [N]`` (higher is better).
        shuffle: reshuffle minibatches every epoch.

    Returns:
        A :class:`SearchResult`.

    Example:
        >>> import optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.selection import kfold, parameter_grid
        >>> x = jax.random.normal(jax.random.key(1), (40, 2)); y = (x[:, 0] > 0).astype(int)
        >>> tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
        >>> result = cross_validate(jax.random.key(0), MLP(features=(8, 2)), tx, (x, y),
        ...     kfold(None, 40, 2), parameter_grid({"learning_rate": [0.1, 1.0]}), num_epochs=5)
        >>> sorted(result.best_params)
        ['learning_rate']

    Reference: Stone, "Cross-validatory choice and assessment of statistical
    predictions", 1974.
    """
    x, y = (jnp.asarray(a) for a in data)
    check_same_leading(("x", "y"), x, y)
    num_examples = int(x.shape[0])
    if num_examples == 0:
        raise ValueError(f"data must hold at least one example, got x of shape {x.shape}")
    if tuple(folds.train_mask.shape[1:]) != (num_examples,):
        raise ValueError(
            f"folds must have masks of shape (K, {num_examples}) for {num_examples} examples, "
            f"got {tuple(folds.train_mask.shape)}"
        )
    if not candidates:
        raise ValueError("candidates must name at least one hyperparameter, got {}")
    columns = {
        name: jnp.asarray(values, jnp.float32).reshape(-1) for name, values in candidates.items()
    }
    sizes = {name: int(v.shape[0]) for name, v in columns.items()}
    if len(set(sizes.values())) != 1 or 0 in sizes.values():
        raise ValueError(f"candidates must be non-empty columns of one length, got sizes {sizes}")
    if isinstance(scoring, str):
        if scoring not in SCORERS:
            raise ValueError(
                f"scoring must be one of {sorted(SCORERS)} or a callable, got {scoring!r}"
            )
        scorer = SCORERS[scoring]
    else:
        scorer = scoring
    num_candidates = next(iter(sizes.values()))
    num_folds = folds.num_folds
    num_members = num_candidates * num_folds

    init_key, run_key = jax.random.split(key)
    fold_states = jax.vmap(lambda k: create_train_state(k, model, x[:1], tx))(
        jax.random.split(init_key, num_folds)
    )
    available = get_hyperparams(jax.tree.map(lambda a: a[0], fold_states.opt_state))
    missing = sorted(set(columns) - set(available))
    if missing:
        raise ValueError(
            f"candidates {missing} are not injected hyperparameters of tx; available: "
            f"{sorted(available)} (build tx with optax.inject_hyperparams)"
        )
    states = jax.tree.map(
        lambda a: jnp.tile(a, (num_candidates,) + (1,) * (a.ndim - 1)), fold_states
    )
    states = states.replace(
        opt_state=set_hyperparams(
            states.opt_state,
            **{name: jnp.repeat(values, num_folds) for name, values in columns.items()},
        )
    )
    train_weights = jnp.tile(folds.train_weights, (num_candidates, 1))
    train_data = (
        jnp.broadcast_to(x, (num_members, *x.shape)),
        jnp.broadcast_to(y, (num_members, *y.shape)),
        train_weights,
    )
    loss_fn = _search_loss(model, loss)
    result = fit_many(
        jax.random.split(run_key, num_members),
        states,
        loss_fn,
        train_data,
        num_epochs=num_epochs,
        batch_size=batch_size,
        shuffle=shuffle,
        data_axis=0,
    )

    @jax.jit
    def member_scores(params, model_state, train_mask, test_mask):
        scores = scorer(_predict(model, params, model_state, x), y)
        return _masked_mean(scores, train_mask), _masked_mean(scores, test_mask)

    train_scores, test_scores = jax.vmap(member_scores)(
        result.state.params,
        result.state.model_state,
        jnp.tile(folds.train_mask, (num_candidates, 1)),
        jnp.tile(folds.test_mask, (num_candidates, 1)),
    )
    failed = np.asarray(result.nonfinite_step) >= 0
    train_scores = np.where(failed, np.nan, np.asarray(train_scores, np.float64))
    test_scores = np.where(failed, np.nan, np.asarray(test_scores, np.float64))
    train_scores = train_scores.reshape(num_candidates, num_folds)
    test_scores = test_scores.reshape(num_candidates, num_folds)

    table: dict[str, Any] = {}
    host_columns = {
        name: np.asarray(values, np.float64).reshape(-1) for name, values in candidates.items()
    }
    table["params"] = [
        {name: float(host_columns[name][c]) for name in sorted(host_columns)}
        for c in range(num_candidates)
    ]
    for name in sorted(host_columns):
        table[f"param_{name}"] = host_columns[name]
    for k in range(num_folds):
        table[f"split{k}_test_score"] = test_scores[:, k]
    table["mean_test_score"] = test_scores.mean(axis=1)
    table["std_test_score"] = test_scores.std(axis=1)
    table["rank_test_score"] = _rank_descending(table["mean_test_score"])
    for k in range(num_folds):
        table[f"split{k}_train_score"] = train_scores[:, k]
    table["mean_train_score"] = train_scores.mean(axis=1)
    table["std_train_score"] = train_scores.std(axis=1)

    means = np.where(np.isnan(table["mean_test_score"]), -np.inf, table["mean_test_score"])
    best_index = int(np.argmax(means))
    return SearchResult(
        cv_results=table,
        best_index=best_index,
        best_params=table["params"][best_index],
        best_score=float(table["mean_test_score"][best_index]),
        fit=result,
    )


def grid_search(
    key: Key,
    model: nn.Module,
    tx: optax.GradientTransformation,
    data: tuple[ArrayLike, ArrayLike],
    folds: Folds,
    grid: Mapping[str, Sequence[float]],
    **kwargs: Any,
) -> SearchResult:
    """Exhaustive search over a grid of injected hyperparameters, cross-validated.

    ``cross_validate(key, model, tx, data, folds, parameter_grid(grid), **kwargs)``.

    Args:
        key: PRNG key.
        model, tx, data, folds: as for :func:`cross_validate`.
        grid: name -> values, e.g. ``{"learning_rate": [1e-3, 1e-2, 1e-1]}``.
        **kwargs: ``num_epochs``, ``batch_size``, ``loss``, ``scoring``, ``shuffle``.

    Returns:
        A :class:`SearchResult` (candidates in :func:`parameter_grid` order).

    Example:
        >>> import optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.selection import kfold
        >>> x = jax.random.normal(jax.random.key(1), (40, 2)); y = (x[:, 0] > 0).astype(int)
        >>> tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
        >>> result = grid_search(jax.random.key(0), MLP(features=(8, 2)), tx, (x, y),
        ...     kfold(None, 40, 2), {"learning_rate": [0.01, 0.1, 1.0]}, num_epochs=5)
        >>> result.cv_results["rank_test_score"].shape
        (3,)
    """
    return cross_validate(key, model, tx, data, folds, parameter_grid(grid), **kwargs)


def random_search(
    key: Key,
    model: nn.Module,
    tx: optax.GradientTransformation,
    data: tuple[ArrayLike, ArrayLike],
    folds: Folds,
    distributions: Mapping[str, Distribution | tuple],
    num_candidates: int,
    **kwargs: Any,
) -> SearchResult:
    """Random search: ``num_candidates`` settings drawn from priors, cross-validated.

    On the same budget random search covers each important hyperparameter with
    ``num_candidates`` distinct values where a grid covers it with only a few.

    Args:
        key: PRNG key, split into a sampling key and a training key.
        model, tx, data, folds: as for :func:`cross_validate`.
        distributions: name -> :class:`Distribution` or tuple spec.
        num_candidates: ``C``.
        **kwargs: ``num_epochs``, ``batch_size``, ``loss``, ``scoring``, ``shuffle``.

    Returns:
        A :class:`SearchResult`.

    Example:
        >>> import optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.selection import kfold
        >>> x = jax.random.normal(jax.random.key(1), (40, 2)); y = (x[:, 0] > 0).astype(int)
        >>> tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
        >>> result = random_search(jax.random.key(0), MLP(features=(8, 2)), tx, (x, y),
        ...     kfold(None, 40, 2), {"learning_rate": log_uniform(1e-3, 1.0)}, 4, num_epochs=5)
        >>> len(result.cv_results["params"])
        4

    Reference: Bergstra & Bengio, "Random search for hyper-parameter optimization", 2012.
    """
    sample_key, train_key = jax.random.split(key)
    candidates = sample_candidates(sample_key, distributions, num_candidates)
    return cross_validate(train_key, model, tx, data, folds, candidates, **kwargs)
