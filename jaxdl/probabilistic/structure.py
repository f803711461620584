"""Structure learning for discrete Bayesian networks: greedy search on the BIC score.

Given samples of ``n`` discrete variables, find a DAG ``G`` that explains them. The score
of a graph is the maximized log-likelihood minus a complexity penalty (the Bayesian
information criterion, Schwarz 1978):

    ``BIC(G) = sum_i [ sum_{pa, x} N(pa, x) log (N(pa, x) / N(pa)) - (log N / 2) d_i ]``

with ``N(pa, x)`` the number of samples where variable ``i`` has value ``x`` and its
parents the configuration ``pa``, and ``d_i = (k_i - 1) prod_{p in pa(i)} k_p`` the free
parameters of its CPT. The score decomposes over families, so a local move (add, remove
or reverse one edge) changes one or two family terms. Greedy hill climbing applies the
best-scoring move until none improves the score, staying acyclic.

Graphs with the same skeleton and the same v-structures (``a -> c <- b`` with ``a`` and
``b`` not adjacent) are Markov equivalent and get the same BIC, so samples identify a
graph only up to its equivalence class: compare :func:`skeleton` and
:func:`v_structures`, not edge directions.

Reference: Koller & Friedman, "Probabilistic Graphical Models", 2009, ch. 18
(sec. 18.3 scores, 18.4 search); Goodfellow et al., 2016, sec. 16.7 (the course's 18.1.1).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from jaxdl._checks import check_positive_int
from jaxdl.probabilistic.bayesnet import BayesianNetwork, bayesian_network, topological_order
from jaxdl.typing import ArrayLike

__all__ = [
    "StructureSearchResult",
    "bic_score",
    "family_bic",
    "fit_cpts",
    "greedy_structure_search",
    "skeleton",
    "v_structures",
]


def _check_data(data: ArrayLike, cardinalities: Sequence[int]) -> tuple[np.ndarray, tuple]:
    cardinalities = tuple(int(k) for k in cardinalities)
    for i, k in enumerate(cardinalities):
        check_positive_int(f"cardinalities[{i}]", k)
    data = np.asarray(data)
    if data.ndim != 2 or data.shape[1] != len(cardinalities) or data.shape[0] == 0:
        raise ValueError(
            f"data must have shape (N, {len(cardinalities)}) with N >= 1 (one column per "
            f"variable), got {data.shape}"
        )
    if not np.issubdtype(data.dtype, np.integer):
        raise TypeError(f"data must have an integer dtype, got {data.dtype}")
    bad = (data < 0) | (data >= np.asarray(cardinalities)[None, :])
    if np.any(bad):
        row, col = np.argwhere(bad)[0]
        raise ValueError(
            f"data[{row}, {col}] = {data[row, col]} is outside [0, {cardinalities[col]}) "
            f"(the cardinality of variable {col})"
        )
    return data.astype(np.int64), cardinalities


def _family_counts(data: np.ndarray, cardinalities: tuple, child: int, parents: tuple):
    shape = tuple(cardinalities[p] for p in parents) + (cardinalities[child],)
    columns = [data[:, p] for p in parents] + [data[:, child]]
    flat = np.ravel_multi_index(columns, shape) if parents else data[:, child]
    return np.bincount(flat, minlength=math.prod(shape)).reshape(shape)


def family_bic(
    data: ArrayLike, cardinalities: Sequence[int], child: int, parents: Sequence[int]
) -> float:
    """One family's BIC term: ``sum N(pa, x) log(N(pa, x) / N(pa)) - (log N / 2) d_i``.

    Args:
        data: ``[N, n]`` integer samples.
        cardinalities: ``k_i`` of each variable.
        child: the variable ``i``.
        parents: its parents.

    Returns:
        The term in nats (the maximized log-likelihood of ``i``'s CPT minus its penalty).

    Example:
        >>> data = np.array([[0, 0], [1, 1], [0, 0], [1, 1]])
        >>> round(family_bic(data, (2, 2), 1, [0]), 4)  # x1 = x0: likelihood 1, 2 parameters
        -1.3863
    """
    data, cardinalities = _check_data(data, cardinalities)
    return _family_bic(data, cardinalities, int(child), tuple(int(p) for p in parents))


def _family_bic(data: np.ndarray, cardinalities: tuple, child: int, parents: tuple) -> float:
    counts = _family_counts(data, cardinalities, child, parents).astype(np.float64)
    totals = counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(counts > 0, counts * np.log(counts / np.maximum(totals, 1.0)), 0.0)
    free = (cardinalities[child] - 1) * math.prod(cardinalities[p] for p in parents)
    return float(terms.sum() - 0.5 * math.log(data.shape[0]) * free)


def bic_score(
    data: ArrayLike, cardinalities: Sequence[int], parents: Sequence[Sequence[int]]
) -> float:
    """The BIC of a graph: maximized log-likelihood minus ``(log N / 2)`` x free parameters.

    Args:
        data: ``[N, n]`` integer samples.
        cardinalities: ``k_i`` of each variable.
        parents: ``parents[i]``, the parents of variable ``i`` (must be acyclic).

    Returns:
        ``sum_i family_bic(data, cardinalities, i, parents[i])`` in nats.

    Example:
        >>> data = np.array([[0, 0], [1, 1], [0, 0], [1, 1]])
        >>> bic_score(data, (2, 2), [[], [0]]) > bic_score(data, (2, 2), [[], []])
        True
    """
    data, cardinalities = _check_data(data, cardinalities)
    if len(parents) != len(cardinalities):
        raise ValueError(
            f"parents must list one parent set per variable ({len(cardinalities)}), got "
            f"{len(parents)}"
        )
    topological_order(parents)
    return sum(_family_bic(data, cardinalities, i, tuple(pa)) for i, pa in enumerate(parents))


def fit_cpts(
    data: ArrayLike,
    cardinalities: Sequence[int],
    parents: Sequence[Sequence[int]],
    pseudocount: float = 0.0,
) -> BayesianNetwork:
    """Maximum-likelihood (or smoothed) CPTs for a given graph: normalized family counts.

    ``P(x_i = x | pa) = (N(pa, x) + a) / (N(pa) + a k_i)``; a parent configuration never
    seen with ``a = 0`` gets the uniform row.

    Args:
        data: ``[N, n]`` integer samples.
        cardinalities: ``k_i`` of each variable.
        parents: parent lists (acyclic).
        pseudocount: ``a >= 0`` (1 is Laplace smoothing).

    Returns:
        The :class:`~jaxdl.probabilistic.bayesnet.BayesianNetwork`.

    Example:
        >>> net = fit_cpts(np.array([[0, 0], [0, 1], [1, 1], [1, 1]]), (2, 2), [[], [0]])
        >>> net.cpts[1].tolist()
        [[0.5, 0.5], [0.0, 1.0]]
    """
    data, cardinalities = _check_data(data, cardinalities)
    if pseudocount < 0:
        raise ValueError(f"pseudocount must be >= 0, got {pseudocount}")
    cpts = []
    for i, pa in enumerate(parents):
        counts = _family_counts(data, cardinalities, i, tuple(pa)) + pseudocount
        totals = counts.sum(axis=-1, keepdims=True)
        uniform = np.full_like(counts, 1.0 / cardinalities[i], dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            cpts.append(np.where(totals > 0, counts / np.maximum(totals, 1e-300), uniform))
    return bayesian_network(cardinalities, parents, [np.float32(c) for c in cpts])


class StructureSearchResult(NamedTuple):
    """What :func:`greedy_structure_search` returns.

    Attributes:
        parents: the learned graph as parent lists (sorted).
        score: its BIC in nats.
        num_moves: the moves applied.
        scores: the BIC after each move (the first entry: the starting graph).
    """

    parents: tuple[tuple[int, ...], ...]
    score: float
    num_moves: int
    scores: list[float]


def _is_acyclic(parents: list[set[int]]) -> bool:
    try:
        topological_order([sorted(pa) for pa in parents])
    except ValueError:
        return False
    return True


def greedy_structure_search(
    data: ArrayLike,
    cardinalities: Sequence[int],
    *,
    max_parents: int | None = None,
    max_moves: int = 1000,
    initial_parents: Sequence[Sequence[int]] | None = None,
) -> StructureSearchResult:
    """Hill climbing over DAGs on the BIC: add, remove or reverse one edge at a time.

    From ``initial_parents`` (default: no edges), every move that keeps the graph acyclic
    (and within ``max_parents``) is scored by the change of the one or two family terms
    it touches; the best improving move is applied, until no move improves the score
    (a local maximum) or ``max_moves`` moves were made. Family terms are cached, so each
    family's counts are computed once.

    Args:
        data: ``[N, n]`` integer samples.
        cardinalities: ``k_i`` of each variable.
        max_parents: most parents per variable (``None``: no limit).
        max_moves: most moves to apply.
        initial_parents: the starting graph (acyclic parent lists).

    Returns:
        A :class:`StructureSearchResult`.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x0 = rng.integers(0, 2, 500)
        >>> x1 = np.where(rng.random(500) < 0.9, x0, 1 - x0)  # a noisy copy of x0
        >>> result = greedy_structure_search(np.stack([x0, x1], 1), (2, 2))
        >>> skeleton(result.parents)
        {(0, 1)}

    Reference: Koller & Friedman, 2009, sec. 18.4.3.
    """
    data, cardinalities = _check_data(data, cardinalities)
    n = len(cardinalities)
    check_positive_int("max_moves", max_moves)
    if max_parents is not None:
        check_positive_int("max_parents", max_parents, allow_zero=True)
    limit = n - 1 if max_parents is None else max_parents
    if initial_parents is None:
        parents = [set() for _ in range(n)]
    else:
        if len(initial_parents) != n:
            raise ValueError(
                f"initial_parents must list {n} parent sets, got {len(initial_parents)}"
            )
        topological_order(initial_parents)
        parents = [set(int(p) for p in pa) for pa in initial_parents]

    cache: dict[tuple[int, tuple[int, ...]], float] = {}

    def family(child: int, pa: set[int]) -> float:
        key = (child, tuple(sorted(pa)))
        if key not in cache:
            cache[key] = _family_bic(data, cardinalities, child, key[1])
        return cache[key]

    score = sum(family(i, parents[i]) for i in range(n))
    scores = [score]
    moves = 0
    while moves < max_moves:
        best_gain, best_move = 1e-9 * max(1.0, abs(score)), None
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                # moves on the edge i -> j
                if i in parents[j]:
                    removed = parents[j] - {i}
                    gain = family(j, removed) - family(j, parents[j])
                    if gain > best_gain:
                        best_gain, best_move = gain, ("remove", i, j)
                    if len(parents[i]) < limit:
                        trial = [set(pa) for pa in parents]
                        trial[j].discard(i)
                        trial[i].add(j)
                        if _is_acyclic(trial):
                            gain = (
                                family(j, trial[j])
                                + family(i, trial[i])
                                - family(j, parents[j])
                                - family(i, parents[i])
                            )
                            if gain > best_gain:
                                best_gain, best_move = gain, ("reverse", i, j)
                elif j not in parents[i] and len(parents[j]) < limit:
                    trial = [set(pa) for pa in parents]
                    trial[j].add(i)
                    if _is_acyclic(trial):
                        gain = family(j, trial[j]) - family(j, parents[j])
                        if gain > best_gain:
                            best_gain, best_move = gain, ("add", i, j)
        if best_move is None:
            break
        kind, i, j = best_move
        if kind == "add":
            parents[j].add(i)
        elif kind == "remove":
            parents[j].discard(i)
        else:
            parents[j].discard(i)
            parents[i].add(j)
        score = sum(family(v, parents[v]) for v in range(n))
        scores.append(score)
        moves += 1
    learned = tuple(tuple(sorted(pa)) for pa in parents)
    return StructureSearchResult(learned, score, moves, scores)


def skeleton(parents: Sequence[Sequence[int]]) -> set[tuple[int, int]]:
    """The undirected edges of a DAG, each as ``(smaller, larger)``.

    Example:
        >>> sorted(skeleton([[], [0], [1]]))
        [(0, 1), (1, 2)]
    """
    return {(min(p, c), max(p, c)) for c, pa in enumerate(parents) for p in pa}


def v_structures(parents: Sequence[Sequence[int]]) -> set[tuple[int, int, int]]:
    """The v-structures ``a -> c <- b`` with ``a`` and ``b`` not adjacent, as ``(a, c, b)``
    with ``a < b``.

    Example:
        >>> v_structures([[], [], [0, 1]])  # x0 -> x2 <- x1
        {(0, 2, 1)}
    """
    edges = skeleton(parents)
    found = set()
    for c, pa in enumerate(parents):
        pa = sorted(pa)
        for x, a in enumerate(pa):
            for b in pa[x + 1 :]:
                if (min(a, b), max(a, b)) not in edges:
                    found.add((a, c, b))
    return found
