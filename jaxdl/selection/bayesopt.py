"""Model-based hyperparameter search: a Gaussian-process surrogate and expected improvement.

Each hyperparameter is a :class:`Dimension` (continuous, log-scaled or integer) mapped to
``[0, 1]``; the search works in the unit cube ``u``. After a few random candidates, every
round fits a Gaussian process to the scores seen so far (RBF kernel, length scale chosen
by the log marginal likelihood), and proposes the batch of candidates with the highest
expected improvement over the best score,

    ``EI(u) = (mu(u) - s* - xi) Phi(z) + sigma(u) phi(z)``, ``z = (mu(u) - s* - xi) / sigma(u)``,

choosing a batch greedily with the "kriging believer" rule (a chosen point is added to the
surrogate with its predicted mean as if observed, so the next one goes elsewhere). A batch
is evaluated by one call of the user's ``evaluate`` (e.g. :func:`cv_evaluator`: one
compiled ``fit_many`` over candidates x folds). The surrogate works on a fixed number of
slots with a mask, so every round reuses one compiled program.

Reference: Snoek, Larochelle & Adams, "Practical Bayesian optimization of machine
learning algorithms", 2012; Jones, Schonlau & Welch, "Efficient global optimization",
1998; Goodfellow et al., 2016, sec. 11.4.5 (the course's 9.1.5).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.stats import norm

from jaxdl._checks import check_positive_int
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "Dimension",
    "GaussianProcess",
    "ModelBasedSearchResult",
    "continuous",
    "cv_evaluator",
    "expected_improvement",
    "from_unit",
    "gp_fit",
    "gp_predict",
    "integer",
    "log_scaled",
    "model_based_search",
    "propose_batch",
    "to_unit",
]

LENGTH_SCALES = (0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.5)
"""Candidate RBF length scales (in the unit cube) among which :func:`gp_fit` picks."""


class Dimension(NamedTuple):
    """One hyperparameter's range: ``kind`` is ``"continuous"``, ``"log"`` or ``"integer"``.

    Attributes:
        kind: how ``[0, 1]`` maps onto ``[low, high]``: linearly, linearly in
            ``log``, or onto the integers ``low, ..., high``.
        low: smallest value.
        high: largest value.
    """

    kind: str
    low: float
    high: float


def continuous(low: float, high: float) -> Dimension:
    """A real hyperparameter in ``[low, high]`` (e.g. a momentum).

    Example:
        >>> continuous(0.0, 0.9).kind
        'continuous'
    """
    if not low < high:
        raise ValueError(f"continuous needs low < high, got low={low}, high={high}")
    return Dimension("continuous", float(low), float(high))


def log_scaled(low: float, high: float) -> Dimension:
    """A positive hyperparameter searched on a log scale (e.g. a learning rate).

    Example:
        >>> log_scaled(1e-4, 1.0).kind
        'log'
    """
    if not 0 < low < high:
        raise ValueError(f"log_scaled needs 0 < low < high, got low={low}, high={high}")
    return Dimension("log", float(low), float(high))


def integer(low: int, high: int) -> Dimension:
    """An integer hyperparameter in ``{low, ..., high}`` (e.g. a number of epochs).

    Example:
        >>> integer(1, 8).kind
        'integer'
    """
    if int(low) != low or int(high) != high or not low < high:
        raise ValueError(f"integer needs integers low < high, got low={low}, high={high}")
    return Dimension("integer", float(low), float(high))


def _check_space(space: Mapping[str, Dimension]) -> list[str]:
    if not space:
        raise ValueError("space must name at least one hyperparameter, got {}")
    for name, dim in space.items():
        if not isinstance(dim, Dimension) or dim.kind not in ("continuous", "log", "integer"):
            raise ValueError(
                f"space[{name!r}] must be a Dimension from continuous, log_scaled or integer, "
                f"got {dim!r}"
            )
    return sorted(space)


def from_unit(space: Mapping[str, Dimension], u: ArrayLike) -> dict[str, np.ndarray]:
    """Hyperparameter values of points ``u`` of the unit cube (columns in sorted name order).

    Args:
        space: name -> :class:`Dimension`.
        u: ``[C, D]`` points in ``[0, 1]^D``.

    Returns:
        name -> ``[C]`` values (integers as whole floats).

    Example:
        >>> space = {"lr": log_scaled(1e-3, 1e-1), "width": integer(1, 4)}
        >>> {k: v.round(6).tolist() for k, v in from_unit(space, [[0.5, 0], [1, 0.99]]).items()}
        {'lr': [0.01, 0.1], 'width': [1.0, 4.0]}
    """
    names = _check_space(space)
    u = np.clip(np.asarray(u, np.float64), 0.0, 1.0)
    if u.ndim != 2 or u.shape[1] != len(names):
        raise ValueError(f"u must have shape (C, {len(names)}), got {u.shape}")
    values = {}
    for j, name in enumerate(names):
        dim = space[name]
        if dim.kind == "continuous":
            values[name] = dim.low + u[:, j] * (dim.high - dim.low)
        elif dim.kind == "log":
            values[name] = np.exp(np.log(dim.low) + u[:, j] * np.log(dim.high / dim.low))
        else:
            count = dim.high - dim.low + 1
            values[name] = np.minimum(dim.low + np.floor(u[:, j] * count), dim.high)
    return values


def to_unit(space: Mapping[str, Dimension], values: Mapping[str, ArrayLike]) -> np.ndarray:
    """The unit-cube points of hyperparameter values (inverse of :func:`from_unit`;
    integers map to the centres of their cells).

    Example:
        >>> to_unit({"lr": log_scaled(1e-3, 1e-1)}, {"lr": [0.01]}).round(6).tolist()
        [[0.5]]
    """
    names = _check_space(space)
    columns = []
    for name in names:
        dim, v = space[name], np.asarray(values[name], np.float64).reshape(-1)
        if dim.kind == "continuous":
            columns.append((v - dim.low) / (dim.high - dim.low))
        elif dim.kind == "log":
            columns.append(np.log(v / dim.low) / np.log(dim.high / dim.low))
        else:
            columns.append((v - dim.low + 0.5) / (dim.high - dim.low + 1))
    return np.stack(columns, axis=1)


class GaussianProcess(NamedTuple):
    """A fitted GP surrogate on (masked) observations in the unit cube.

    Attributes:
        x: ``[S, D]`` observation slots; ``mask`` says which hold observations.
        mask: ``[S]`` bool.
        chol: ``[S, S]`` Cholesky factor of ``K + noise I`` (masked slots decoupled).
        alpha: ``[S]`` ``(K + noise I)^{-1} y`` of the standardized scores.
        length_scale: the RBF length scale chosen.
        y_mean: mean of the observed scores (the standardization).
        y_std: their standard deviation.
        noise: the noise variance (standardized units).
    """

    x: Array
    mask: Array
    chol: Array
    alpha: Array
    length_scale: Array
    y_mean: Array
    y_std: Array
    noise: Array


def _rbf(a: Array, b: Array, length_scale: Array) -> Array:
    d2 = jnp.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1)
    return jnp.exp(-0.5 * d2 / length_scale**2)


def _masked_system(x, mask, length_scale, noise):
    m = mask.astype(x.dtype)
    k = _rbf(x, x, length_scale) * m[:, None] * m[None, :]
    return k + jnp.diag(noise * m + (1.0 - m))


@jax.jit
def _gp_fit(x: Array, y: Array, mask: Array, noise: Array) -> GaussianProcess:
    m = mask.astype(x.dtype)
    count = jnp.maximum(jnp.sum(m), 1.0)
    y_mean = jnp.sum(y * m) / count
    y_std = jnp.sqrt(jnp.sum(m * (y - y_mean) ** 2) / count)
    y_std = jnp.where(y_std > 1e-12 * (1.0 + jnp.abs(y_mean)), y_std, 1.0)
    z = jnp.where(mask, (y - y_mean) / y_std, 0.0)

    def log_marginal(length_scale):
        chol = jnp.linalg.cholesky(_masked_system(x, mask, length_scale, noise))
        alpha = jax.scipy.linalg.cho_solve((chol, True), z)
        return -0.5 * z @ alpha - jnp.sum(jnp.log(jnp.diag(chol)))

    scales = jnp.asarray(LENGTH_SCALES, x.dtype)
    evidence = jax.vmap(log_marginal)(scales)
    length_scale = scales[jnp.argmax(jnp.where(jnp.isfinite(evidence), evidence, -jnp.inf))]
    chol = jnp.linalg.cholesky(_masked_system(x, mask, length_scale, noise))
    alpha = jax.scipy.linalg.cho_solve((chol, True), z)
    return GaussianProcess(x, mask, chol, alpha, length_scale, y_mean, y_std, noise)


def gp_fit(
    x: ArrayLike, y: ArrayLike, mask: ArrayLike | None = None, *, noise: float = 1e-4
) -> GaussianProcess:
    """Fit a zero-mean GP with an RBF kernel to standardized scores.

    ``k(u, v) = exp(-||u - v||^2 / (2 l^2))`` with ``l`` the entry of
    :data:`LENGTH_SCALES` of highest log marginal likelihood
    ``-1/2 z^T (K + s I)^{-1} z - 1/2 log det(K + s I)``. Slots with ``mask = False`` are
    ignored (their rows of the kernel are replaced by the identity), so the shapes, and
    the compiled program, stay fixed while observations accumulate.

    Args:
        x: ``[S, D]`` points in the unit cube.
        y: ``[S]`` scores (higher is better; masked slots may hold anything finite).
        mask: ``[S]`` which slots are observations (default: all).
        noise: observation noise variance ``s`` in standardized units (> 0).

    Returns:
        A :class:`GaussianProcess`.

    Example:
        >>> gp = gp_fit(jnp.array([[0.0], [0.5], [1.0]]), jnp.array([0.0, 1.0, 0.0]))
        >>> mean, std = gp_predict(gp, jnp.array([[0.5]]))
        >>> round(float(mean[0]), 3), bool(std[0] < 0.05)
        (1.0, True)

    Reference: Rasmussen & Williams, "Gaussian Processes for Machine Learning", 2006,
    algorithm 2.1.
    """
    x = jnp.asarray(x, jnp.float32)
    y = jnp.asarray(y, jnp.float32)
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be [S, D] and y [S], got shapes {x.shape} and {y.shape}")
    mask = jnp.ones(y.shape, bool) if mask is None else jnp.asarray(mask, bool)
    if not noise > 0:
        raise ValueError(f"noise must be > 0, got {noise}")
    return _gp_fit(x, jnp.where(mask, y, 0.0), mask, jnp.float32(noise))


@jax.jit
def gp_predict(gp: GaussianProcess, x_new: ArrayLike) -> tuple[Array, Array]:
    """Posterior mean and standard deviation of the scores at ``x_new`` (original units).

    ``mu = k_*^T alpha``, ``var = 1 - ||L^{-1} k_*||^2`` (standardized), rescaled.

    Args:
        gp: from :func:`gp_fit`.
        x_new: ``[M, D]`` points in the unit cube.

    Returns:
        ``(mean [M], std [M])``.

    Example:
        >>> gp = gp_fit(jnp.array([[0.2]]), jnp.array([3.0]))
        >>> [round(float(v), 3) for v in gp_predict(gp, jnp.array([[0.2]]))[0]]
        [3.0]
    """
    x_new = jnp.asarray(x_new, gp.x.dtype)
    k_star = _rbf(gp.x, x_new, gp.length_scale) * gp.mask[:, None].astype(gp.x.dtype)
    mean = k_star.T @ gp.alpha
    v = jax.scipy.linalg.solve_triangular(gp.chol, k_star, lower=True)
    var = jnp.maximum(1.0 - jnp.sum(v * v, axis=0), 1e-12)
    return gp.y_mean + gp.y_std * mean, gp.y_std * jnp.sqrt(var)


def expected_improvement(
    mean: ArrayLike, std: ArrayLike, best: ArrayLike, xi: float = 0.01
) -> Array:
    """Expected improvement over ``best`` of a Gaussian ``N(mean, std^2)`` (maximization).

    ``EI = (mu - best - xi) Phi(z) + sigma phi(z)`` with ``z = (mu - best - xi) / sigma``;
    it grows with both the predicted score and the uncertainty.

    Args:
        mean: ``[M]`` posterior means.
        std: ``[M]`` posterior standard deviations (> 0).
        best: the best score observed.
        xi: a margin that favours exploration.

    Returns:
        ``[M]`` non-negative expected improvements.

    Example:
        >>> round(float(expected_improvement(0.0, 1.0, 0.0, xi=0.0)), 4)  # 1/sqrt(2 pi)
        0.3989
    """
    mean, std = jnp.asarray(mean), jnp.asarray(std)
    if not jnp.issubdtype(mean.dtype, jnp.floating):
        mean = mean.astype(jnp.float32)
    std = std.astype(mean.dtype)
    gap = mean - best - xi
    z = gap / std
    return jnp.maximum(gap * norm.cdf(z) + std * norm.pdf(z), 0.0)


@functools.partial(jax.jit, static_argnames="num_proposals")
def _propose(key, x, y, mask, noise, best, xi, num_proposals: int):
    pool = jax.random.uniform(key, (1024, x.shape[1]), x.dtype)

    def one(carry, _):
        x, y, mask = carry
        gp = _gp_fit(x, y, mask, noise)
        mean, std = gp_predict(gp, pool)
        ei = expected_improvement(mean, std, best, xi)
        i = jnp.argmax(ei)
        slot = jnp.argmin(mask)  # the first free slot
        x = x.at[slot].set(pool[i])
        y = y.at[slot].set(mean[i])  # the kriging believer: pretend we saw the mean
        mask = mask.at[slot].set(True)
        return (x, y, mask), (pool[i], ei[i])

    _, (chosen, ei) = jax.lax.scan(one, (x, y, mask), None, length=num_proposals)
    return chosen, ei


def propose_batch(
    key: Key,
    x: ArrayLike,
    y: ArrayLike,
    mask: ArrayLike,
    num_proposals: int,
    *,
    noise: float = 1e-4,
    xi: float = 0.01,
) -> tuple[Array, Array]:
    """The next ``num_proposals`` points by expected improvement (kriging believer).

    Scores 1,024 uniform points of the unit cube under the GP fitted to the masked
    observations, takes the one of highest EI, adds it with its predicted mean as a
    pseudo-observation, refits and repeats. ``x`` needs ``num_proposals`` free slots.

    Args:
        key: PRNG key for the candidate pool.
        x: ``[S, D]`` observation slots.
        y: ``[S]`` scores.
        mask: ``[S]`` which slots are observed.
        num_proposals: ``q``.
        noise: GP noise variance (standardized units).
        xi: EI margin.

    Returns:
        ``(points [q, D], their EI [q])``.

    Example:
        >>> x = jnp.zeros((6, 1)).at[:2, 0].set(jnp.array([0.1, 0.9]))
        >>> mask = jnp.arange(6) < 2
        >>> points, ei = propose_batch(jax.random.key(0), x, jnp.array([0., 1., 0, 0, 0, 0]),
        ...                            mask, 2)
        >>> points.shape
        (2, 1)
    """
    check_positive_int("num_proposals", num_proposals)
    x = jnp.asarray(x, jnp.float32)
    y = jnp.asarray(y, jnp.float32)
    mask = jnp.asarray(mask, bool)
    free = int(np.sum(~np.asarray(mask)))
    if free < num_proposals:
        raise ValueError(f"x must have {num_proposals} free slots (mask False), got {free}")
    best = jnp.max(jnp.where(mask, y, -jnp.inf))
    y = jnp.where(mask, y, 0.0)
    return _propose(key, x, y, mask, jnp.float32(noise), best, jnp.float32(xi), num_proposals)


class ModelBasedSearchResult(NamedTuple):
    """What :func:`model_based_search` returns.

    Attributes:
        params: one dict of hyperparameters per evaluated candidate, in order.
        scores: ``[T]`` their scores (NaN for failed runs, treated as the worst score).
        rounds: ``[T]`` the round of each candidate (0: the random initial batch).
        best_params: the best candidate's hyperparameters.
        best_score: its score.
        best_so_far: ``[T]`` the running maximum of the scores.
        surrogate: the GP fitted to all observations (for plots).
    """

    params: list[dict[str, float]]
    scores: np.ndarray
    rounds: np.ndarray
    best_params: dict[str, float]
    best_score: float
    best_so_far: np.ndarray
    surrogate: GaussianProcess


def model_based_search(
    key: Key,
    evaluate: Callable[[dict[str, np.ndarray]], ArrayLike],
    space: Mapping[str, Dimension],
    *,
    num_initial: int,
    num_rounds: int,
    batch_size: int,
    noise: float = 1e-4,
    xi: float = 0.01,
) -> ModelBasedSearchResult:
    """Bayesian optimization of hyperparameters: random start, then GP + EI batches.

    ``num_initial`` candidates are drawn uniformly in the unit cube and evaluated as one
    batch; then each of ``num_rounds`` rounds fits the GP to every score so far and
    evaluates the ``batch_size`` candidates :func:`propose_batch` picks. The budget is
    ``num_initial + num_rounds * batch_size`` evaluations. Failed runs (NaN scores) enter
    the surrogate as the worst score seen.

    Args:
        key: PRNG key.
        evaluate: ``evaluate({name: [C] values}) -> [C] scores`` (higher is better), e.g.
            :func:`cv_evaluator`.
        space: name -> :class:`Dimension`.
        num_initial: size of the random first batch.
        num_rounds: rounds of model-based proposals.
        batch_size: candidates per round.
        noise: GP noise variance in standardized units.
        xi: EI margin.

    Returns:
        A :class:`ModelBasedSearchResult`.

    Example:
        >>> space = {"x": continuous(-2.0, 2.0)}
        >>> result = model_based_search(jax.random.key(0), lambda p: -(p["x"] - 0.7) ** 2,
        ...                             space, num_initial=4, num_rounds=3, batch_size=2)
        >>> abs(result.best_params["x"] - 0.7) < 0.2
        True
    """
    names = _check_space(space)
    check_positive_int("num_initial", num_initial)
    check_positive_int("num_rounds", num_rounds, allow_zero=True)
    check_positive_int("batch_size", batch_size)
    total = num_initial + num_rounds * batch_size
    slots = total
    x = np.zeros((slots, len(names)), np.float32)
    y = np.zeros(slots, np.float32)
    observed = np.zeros(slots, bool)
    scores = np.full(total, np.nan)
    rounds = np.zeros(total, np.int32)
    init_key, round_key = jax.random.split(key)

    def run(points: np.ndarray, start: int, round_index: int) -> None:
        values = from_unit(space, points)
        out = np.asarray(evaluate({n: values[n] for n in names}), np.float64).reshape(-1)
        if out.shape != (len(points),):
            raise ValueError(
                f"evaluate must return one score per candidate ({len(points)}), got shape "
                f"{out.shape}"
            )
        end = start + len(points)
        scores[start:end] = out
        rounds[start:end] = round_index
        x[start:end] = to_unit(space, values)  # integers snap to their cell centres
        observed[start:end] = True

    def surrogate_targets() -> np.ndarray:
        seen = scores[observed]
        worst = np.nanmin(seen) if np.any(np.isfinite(seen)) else 0.0
        return np.where(np.isfinite(scores), scores, worst)[: len(y)].astype(np.float32)

    run(np.asarray(jax.random.uniform(init_key, (num_initial, len(names)))), 0, 0)
    for r in range(num_rounds):
        start = num_initial + r * batch_size
        points, _ = propose_batch(
            jax.random.fold_in(round_key, r),
            x,
            surrogate_targets(),
            observed,
            batch_size,
            noise=noise,
            xi=xi,
        )
        run(np.asarray(points, np.float64), start, r + 1)

    filled = np.where(np.isfinite(scores), scores, -np.inf)
    best = int(np.argmax(filled))
    values = from_unit(space, x.astype(np.float64))
    params = [{n: float(values[n][t]) for n in names} for t in range(total)]
    surrogate = gp_fit(x, surrogate_targets(), observed, noise=noise)
    return ModelBasedSearchResult(
        params=params,
        scores=scores,
        rounds=rounds,
        best_params=params[best],
        best_score=float(scores[best]),
        best_so_far=np.maximum.accumulate(filled),
        surrogate=surrogate,
    )


def cv_evaluator(key: Key, model: Any, tx: Any, data: Any, folds: Any, **kwargs: Any):
    """An ``evaluate`` for :func:`model_based_search` that cross-validates each batch.

    Every batch is one :func:`jaxdl.selection.cross_validate` call: its candidates x folds
    train as one compiled ``fit_many`` (the same ``key`` each time, so candidates share
    initial parameters per fold); the score is the mean validation score over the folds.

    Args:
        key: PRNG key reused for every batch (common random numbers).
        model, tx, data, folds: as for :func:`jaxdl.selection.cross_validate`; the
            hyperparameters must be injected in ``tx``.
        **kwargs: ``num_epochs``, ``batch_size``, ``loss``, ``scoring``, ``shuffle``.

    Returns:
        ``evaluate(candidates) -> [C]`` mean validation scores; its ``results`` attribute
        lists every batch's :class:`~jaxdl.selection.SearchResult`.

    Example:
        >>> import optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.selection import kfold
        >>> x = jax.random.normal(jax.random.key(1), (40, 2)); y = (x[:, 0] > 0).astype(int)
        >>> tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
        >>> evaluate = cv_evaluator(jax.random.key(0), MLP(features=(8, 2)), tx, (x, y),
        ...                         kfold(None, 40, 2), num_epochs=3)
        >>> evaluate({"learning_rate": np.array([0.1, 1.0])}).shape  # doctest: +SKIP
        (2,)

        (The training call is skipped in the doctest run to save a compilation; the
        ``hyperparameter-search`` smoke test runs it.)
    """
    from jaxdl.selection.search import cross_validate

    results = []

    def evaluate(candidates: dict[str, np.ndarray]) -> np.ndarray:
        result = cross_validate(jax.random.clone(key), model, tx, data, folds, candidates, **kwargs)
        results.append(result)
        return np.asarray(result.cv_results["mean_test_score"])

    evaluate.results = results
    return evaluate
