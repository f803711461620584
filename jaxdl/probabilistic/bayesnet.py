"""Bayesian networks (directed graphical models) over discrete variables.

The joint distribution factorizes over a directed acyclic graph,
``P(x_1, ..., x_n) = prod_i P(x_i | pa(x_i))``, each factor a conditional
probability table (CPT). A CPT for variable ``i`` with parents ``(p_1, ..., p_r)``
has shape ``[k_{p_1}, ..., k_{p_r}, k_i]``: every row (last axis) is a
distribution over ``x_i`` for one configuration of the parents, so it holds
``(k_i - 1) prod_j k_{p_j}`` free parameters.

Ancestral sampling draws the variables in topological order, each from its CPT
row selected by the already-drawn parents (Koller & Friedman, "Probabilistic
Graphical Models", 2009, ch. 3 and 12).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from jaxdl._checks import check_positive_int, check_probabilities, is_concrete
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "BayesianNetwork",
    "ancestral_sample",
    "bayesian_network",
    "conditional",
    "joint_table",
    "log_joint",
    "marginal",
    "num_parameters",
    "num_parameters_full_table",
    "topological_order",
]

_MAX_STATES = 2**22


@struct.dataclass
class BayesianNetwork:
    """A validated discrete Bayesian network.

    Attributes:
        cardinalities: number of values ``k_i`` of each variable (static).
        parents: the parents of each variable, in CPT axis order (static).
        order: a topological order of the variables (static).
        names: optional variable names (static).
        cpts: one table per variable, ``[k_{p_1}, ..., k_{p_r}, k_i]``.
    """

    cardinalities: tuple[int, ...] = struct.field(pytree_node=False)
    parents: tuple[tuple[int, ...], ...] = struct.field(pytree_node=False)
    order: tuple[int, ...] = struct.field(pytree_node=False)
    names: tuple[str, ...] = struct.field(pytree_node=False)
    cpts: tuple[Array, ...]


def topological_order(parents: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """A topological order of a directed graph given as parent lists (Kahn's algorithm).

    Ties are broken by the smallest index first, so the order is deterministic.

    Args:
        parents: ``parents[i]`` lists the parents of variable ``i``.

    Returns:
        A tuple with every variable after all its parents.

    Raises:
        ValueError: if a parent index is out of range, a node is its own parent,
            or the graph has a directed cycle (the message names the variables on it).

    Example:
        >>> topological_order([[1], [], [0, 1]])  # (1, 0, 2)
        (1, 0, 2)
    """
    n = len(parents)
    children: list[list[int]] = [[] for _ in range(n)]
    in_degree = [0] * n
    for i, pa in enumerate(parents):
        for p in pa:
            if not 0 <= p < n:
                raise ValueError(f"parents[{i}] has parent {p}, expected an index in [0, {n})")
            if p == i:
                raise ValueError(f"parents[{i}] lists variable {i} as its own parent (a cycle)")
            children[p].append(i)
            in_degree[i] += 1
    ready = sorted(i for i in range(n) if in_degree[i] == 0)
    order: list[int] = []
    while ready:
        node = ready.pop(0)
        order.append(node)
        for c in children[node]:
            in_degree[c] -= 1
            if in_degree[c] == 0:
                ready.append(c)
                ready.sort()
    if len(order) != n:
        on_cycle = sorted(i for i in range(n) if in_degree[i] > 0)
        raise ValueError(
            f"the network must be acyclic, but variables {on_cycle} lie on or after a "
            "directed cycle"
        )
    return tuple(order)


def num_parameters(cardinalities: Sequence[int], parents: Sequence[Sequence[int]]) -> int:
    """Free parameters of the CPTs: ``sum_i (k_i - 1) prod_{p in pa(i)} k_p``.

    Args:
        cardinalities: ``k_i`` of each variable.
        parents: parent lists.

    Returns:
        The count as a Python int.

    Example:
        >>> num_parameters((100, 100, 100), [[], [0], [1]])  # 19899
        19899
    """
    if len(cardinalities) != len(parents):
        raise ValueError(
            f"cardinalities and parents must have one entry per variable, got "
            f"{len(cardinalities)} and {len(parents)}"
        )
    return sum(
        (int(k) - 1) * math.prod(int(cardinalities[p]) for p in pa)
        for k, pa in zip(cardinalities, parents, strict=True)
    )


def num_parameters_full_table(cardinalities: Sequence[int]) -> int:
    """Free parameters of an unstructured joint table: ``prod_i k_i - 1``.

    Example:
        >>> num_parameters_full_table((100, 100, 100))  # 999999
        999999
    """
    return math.prod(int(k) for k in cardinalities) - 1


def bayesian_network(
    cardinalities: Sequence[int],
    parents: Sequence[Sequence[int]],
    cpts: Sequence[ArrayLike],
    names: Sequence[str] | None = None,
) -> BayesianNetwork:
    """Build and validate a :class:`BayesianNetwork`.

    Checks: acyclicity (topological sort), CPT shapes
    ``[k_{p_1}, ..., k_{p_r}, k_i]``, entries in [0, 1] and rows summing to 1.

    Args:
        cardinalities: ``k_i`` for each variable.
        parents: ``parents[i]``, the parents of variable ``i`` (the CPT's leading axes).
        cpts: one conditional probability table per variable.
        names: optional names, used in error messages.

    Returns:
        The network.

    Example:
        >>> net = bayesian_network((2, 2), [[], [0]],
        ...                        [jnp.array([0.6, 0.4]), jnp.array([[0.9, 0.1], [0.2, 0.8]])])

    Reference: Pearl, "Probabilistic Reasoning in Intelligent Systems", 1988.
    """
    cardinalities = tuple(int(k) for k in cardinalities)
    parents = tuple(tuple(int(p) for p in pa) for pa in parents)
    n = len(cardinalities)
    for i, k in enumerate(cardinalities):
        check_positive_int(f"cardinalities[{i}]", k)
    if len(parents) != n or len(cpts) != n:
        raise ValueError(
            f"cardinalities, parents and cpts must have one entry per variable, got "
            f"{n}, {len(parents)} and {len(cpts)}"
        )
    names = tuple(f"x{i}" for i in range(n)) if names is None else tuple(names)
    if len(names) != n:
        raise ValueError(f"names must have {n} entries, got {len(names)}")
    for i, pa in enumerate(parents):
        if len(set(pa)) != len(pa):
            raise ValueError(f"parents[{i}] repeats a parent: {pa}")
    order = topological_order(parents)
    tables = []
    for i, (k, pa, cpt) in enumerate(zip(cardinalities, parents, cpts, strict=True)):
        cpt = jnp.asarray(cpt)
        if not jnp.issubdtype(cpt.dtype, jnp.floating):
            raise TypeError(f"cpts[{i}] ({names[i]}) must have a floating dtype, got {cpt.dtype}")
        expected = tuple(cardinalities[p] for p in pa) + (k,)
        if tuple(cpt.shape) != expected:
            raise ValueError(
                f"cpts[{i}] ({names[i]}) must have shape {expected} (parents' cardinalities, then "
                f"its own), got {tuple(cpt.shape)}"
            )
        check_probabilities(f"cpts[{i}] ({names[i]})", cpt, axis=-1)
        tables.append(cpt)
    return BayesianNetwork(cardinalities, parents, order, names, tuple(tables))


def log_joint(network: BayesianNetwork, x: ArrayLike) -> Array:
    """Chain rule: ``log P(x) = sum_i log P(x_i | pa(x_i))`` for one joint state.

    Args:
        network: the network.
        x: ``[n]`` integer state (vmap for a batch).

    Returns:
        Scalar log-probability (``-inf`` for impossible states).

    Example:
        >>> net = bayesian_network((2, 2), [[], [0]],
        ...                        [jnp.array([0.6, 0.4]), jnp.array([[0.9, 0.1], [0.2, 0.8]])])
        >>> jnp.exp(log_joint(net, jnp.array([0, 1]))).round(4)  # 0.6 * 0.1
        Array(0.06, dtype=float32)
    """
    x = jnp.asarray(x)
    n = len(network.cardinalities)
    if x.shape != (n,):
        raise ValueError(f"x must have shape ({n},), got {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.integer):
        raise TypeError(f"x must have an integer dtype, got {x.dtype}")
    total = jnp.zeros((), jnp.result_type(*network.cpts))
    for i, (pa, cpt) in enumerate(zip(network.parents, network.cpts, strict=True)):
        total = total + jnp.log(cpt[tuple(x[p] for p in pa) + (x[i],)])
    return total


def ancestral_sample(key: Key, network: BayesianNetwork, num_samples: int) -> Array:
    """Draw joint samples by ancestral sampling, vmapped over ``num_samples``.

    Variables are drawn in topological order, ``x_i ~ P(x_i | pa(x_i))`` with the
    parents' values already drawn; every (sample, variable) pair gets its own key.

    Args:
        key: PRNG key.
        network: the network.
        num_samples: number of independent joint samples.

    Returns:
        ``[num_samples, n]`` int32 states.

    Example:
        >>> net = bayesian_network((2, 2), [[], [0]],
        ...                        [jnp.array([0.6, 0.4]), jnp.array([[0.9, 0.1], [0.2, 0.8]])])
        >>> samples = ancestral_sample(jax.random.key(0), net, 1000)

    Reference: Koller & Friedman, 2009, sec. 12.1.
    """
    check_positive_int("num_samples", num_samples)
    n = len(network.cardinalities)

    def one_sample(sample_keys):
        values: list[Array | None] = [None] * n
        for i in network.order:
            row = network.cpts[i][tuple(values[p] for p in network.parents[i])]
            values[i] = jax.random.categorical(sample_keys[i], jnp.log(row)).astype(jnp.int32)
        return jnp.stack(values)

    return jax.vmap(one_sample)(jax.random.split(key, (num_samples, n)))


def joint_table(network: BayesianNetwork) -> Array:
    """The full joint ``P(x_1, ..., x_n)`` as a table with one axis per variable.

    Built as the product of the CPTs broadcast over the joint axes (small networks).

    Example:
        >>> net = bayesian_network((2, 2), [[], [0]],
        ...                        [jnp.array([0.6, 0.4]), jnp.array([[0.9, 0.1], [0.2, 0.8]])])
        >>> joint_table(net).sum()  # 1.0
        Array(1., dtype=float32)
    """
    n = len(network.cardinalities)
    if math.prod(network.cardinalities) > _MAX_STATES:
        raise ValueError(f"the network has more than {_MAX_STATES} joint states to enumerate")
    table = jnp.ones(network.cardinalities, jnp.result_type(*network.cpts))
    for i, (pa, cpt) in enumerate(zip(network.parents, network.cpts, strict=True)):
        scope = list(pa) + [i]
        order = np.argsort(scope)
        shape = [1] * n
        for v in scope:
            shape[v] = network.cardinalities[v]
        table = table * jnp.transpose(cpt, order).reshape(shape)
    return table


def marginal(network: BayesianNetwork, variables: int | Sequence[int]) -> Array:
    """Exact marginal ``P(x_variables)`` by summing the joint table.

    Args:
        network: the network.
        variables: one index, or several (the output axes follow their order).

    Returns:
        ``[k_v]`` or ``[k_{v_1}, ..., k_{v_r}]`` probabilities.

    Example:
        >>> net = bayesian_network((2, 2), [[], [0]],
        ...                        [jnp.array([0.6, 0.4]), jnp.array([[0.9, 0.1], [0.2, 0.8]])])
        >>> marginal(net, 1).round(4)  # [0.62, 0.38]
        Array([0.62, 0.38], dtype=float32)
    """
    single = isinstance(variables, int | np.integer)
    keep = (int(variables),) if single else tuple(int(v) for v in variables)
    n = len(network.cardinalities)
    for v in keep:
        if not 0 <= v < n:
            raise ValueError(f"variables must lie in [0, {n}), got {v}")
    table = joint_table(network)
    summed = jnp.sum(table, axis=tuple(j for j in range(n) if j not in keep))
    return jnp.transpose(summed, np.argsort(np.argsort(keep)))


def conditional(
    network: BayesianNetwork, query: int | Sequence[int], evidence: Mapping[int, int]
) -> Array:
    """Exact ``P(x_query | x_e = value for e in evidence)`` by enumeration.

    Args:
        network: the network.
        query: the queried variable(s).
        evidence: observed values ``{variable: value}`` (concrete ints).

    Returns:
        Probabilities over the query variables' values.

    Raises:
        ValueError: on out-of-range values or evidence of probability zero.

    Example:
        >>> net = bayesian_network((2, 2), [[], [0]],
        ...                        [jnp.array([0.6, 0.4]), jnp.array([[0.9, 0.1], [0.2, 0.8]])])
        >>> conditional(net, 0, {1: 1}).round(4)  # Bayes' rule: P(x0 | x1 = 1)
        Array([0.15789999, 0.84209996], dtype=float32)
    """
    n = len(network.cardinalities)
    single = isinstance(query, int | np.integer)
    keep = (int(query),) if single else tuple(int(v) for v in query)
    for v, value in evidence.items():
        if not 0 <= int(v) < n:
            raise ValueError(f"evidence variable must lie in [0, {n}), got {v}")
        if not 0 <= int(value) < network.cardinalities[v]:
            raise ValueError(
                f"evidence value for variable {v} must lie in [0, {network.cardinalities[v]}), "
                f"got {value}"
            )
        if int(v) in keep:
            raise ValueError(f"variable {v} is both queried and observed")
    table = joint_table(network)
    index = tuple(int(evidence[j]) if j in evidence else slice(None) for j in range(n))
    restricted = table[index]
    remaining = [j for j in range(n) if j not in evidence]
    summed = jnp.sum(restricted, axis=tuple(a for a, j in enumerate(remaining) if j not in keep))
    kept_in_order = [j for j in remaining if j in keep]
    summed = jnp.transpose(summed, [kept_in_order.index(v) for v in keep])
    total = jnp.sum(summed)
    if is_concrete(total) and float(total) == 0.0:
        raise ValueError(f"the evidence {dict(evidence)} has probability zero")
    return summed / total
