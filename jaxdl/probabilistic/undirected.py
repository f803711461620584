"""Undirected graphical models: factor graphs and energy-based models.

An undirected model multiplies non-negative clique potentials,
``p~(x) = prod_C phi_C(x_C)``, and normalizes by the partition function
``Z = sum_x p~(x)``. An energy-based model writes ``p~(x) = exp(-E(x))`` with
``E(x) = sum_C E_C(x_C)`` (a Boltzmann distribution). ``Z`` is a sum over every
joint state, so the exact routines here enumerate states and are meant for
small models (tests, teaching, checking samplers).

The Ising model, with its Gibbs kernels, is in :mod:`jaxdl.probabilistic.ising`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct

from jaxdl._checks import check_floating, check_positive_int, is_concrete
from jaxdl.typing import Array, ArrayLike

__all__ = [
    "Factor",
    "FactorGraph",
    "boltzmann_probabilities",
    "enumerate_states",
    "exact_energy_model",
    "factor",
    "factor_graph",
    "joint_table",
    "log_partition_function",
    "log_unnormalized_probability",
    "marginals",
    "partition_function",
]

_MAX_STATES = 2**22


@struct.dataclass
class Factor:
    """A clique potential ``phi(x_variables) >= 0``.

    Attributes:
        variables: indices of the variables in its scope (static).
        potential: ``[k_{v_1}, ..., k_{v_r}]`` non-negative table.
    """

    variables: tuple[int, ...] = struct.field(pytree_node=False)
    potential: Array


@struct.dataclass
class FactorGraph:
    """Discrete variables with cardinalities and a list of factors over them.

    Attributes:
        cardinalities: number of values ``k_i`` of each variable (static).
        factors: the clique potentials.
    """

    cardinalities: tuple[int, ...] = struct.field(pytree_node=False)
    factors: tuple[Factor, ...]


def factor(variables: Sequence[int], potential: ArrayLike) -> Factor:
    """Build a validated :class:`Factor`.

    Args:
        variables: distinct variable indices (the factor's scope).
        potential: non-negative table with one axis per variable.

    Returns:
        The factor.

    Example:
        >>> phi = factor((0, 1), jnp.array([[2.0, 1.0], [1.0, 2.0]]))
    """
    variables = tuple(int(v) for v in variables)
    potential = jnp.asarray(potential)
    check_floating("potential", potential)
    if len(set(variables)) != len(variables):
        raise ValueError(f"variables must be distinct, got {variables}")
    if potential.ndim != len(variables):
        raise ValueError(
            f"potential must have one axis per variable ({len(variables)}), got shape "
            f"{potential.shape}"
        )
    if is_concrete(potential) and np.any(np.asarray(potential) < 0):
        raise ValueError(
            f"potential must be non-negative, got minimum {float(np.min(np.asarray(potential)))}"
        )
    return Factor(variables=variables, potential=potential)


def factor_graph(cardinalities: Sequence[int], factors: Sequence[Factor]) -> FactorGraph:
    """Build a validated :class:`FactorGraph` (scopes in range, table shapes match).

    Args:
        cardinalities: ``k_i`` for each variable.
        factors: factors over those variables.

    Returns:
        The factor graph.

    Example:
        >>> g = factor_graph((2, 2), [factor((0, 1), jnp.ones((2, 2)))])
    """
    cardinalities = tuple(int(k) for k in cardinalities)
    for i, k in enumerate(cardinalities):
        check_positive_int(f"cardinalities[{i}]", k)
    for index, f in enumerate(factors):
        for v in f.variables:
            if not 0 <= v < len(cardinalities):
                raise ValueError(
                    f"factors[{index}] refers to variable {v}, expected an index in "
                    f"[0, {len(cardinalities)})"
                )
        expected = tuple(cardinalities[v] for v in f.variables)
        if tuple(f.potential.shape) != expected:
            raise ValueError(
                f"factors[{index}].potential must have shape {expected}, got "
                f"{tuple(f.potential.shape)}"
            )
    return FactorGraph(cardinalities=cardinalities, factors=tuple(factors))


def enumerate_states(cardinalities: Sequence[int]) -> Array:
    """Every joint state of discrete variables, in row-major order (last variable fastest).

    Args:
        cardinalities: ``(k_1, ..., k_n)``; the product must be at most 2^22.

    Returns:
        ``[prod k, n]`` int32 states.

    Example:
        >>> enumerate_states((2, 3)).shape  # (6, 2)
        (6, 2)
    """
    cardinalities = tuple(int(k) for k in cardinalities)
    total = math.prod(cardinalities)
    if total > _MAX_STATES:
        raise ValueError(f"cardinalities give {total} states, more than {_MAX_STATES} to enumerate")
    grid = np.array(list(itertools.product(*[range(k) for k in cardinalities])), dtype=np.int32)
    return jnp.asarray(grid.reshape(total, len(cardinalities)))


def log_unnormalized_probability(graph: FactorGraph, x: ArrayLike) -> Array:
    """``log p~(x) = sum_C log phi_C(x_C)`` for one joint state.

    Args:
        graph: the factor graph.
        x: ``[n]`` integer state (vmap for batches).

    Returns:
        Scalar log unnormalized probability (``-inf`` where a potential is 0).

    Example:
        >>> g = factor_graph((2, 2), [factor((0, 1), jnp.array([[2.0, 1.0], [1.0, 2.0]]))])
        >>> log_unnormalized_probability(g, jnp.array([0, 1]))
        Array(0., dtype=float32)
    """
    x = jnp.asarray(x)
    if x.shape != (len(graph.cardinalities),):
        raise ValueError(f"x must have shape ({len(graph.cardinalities)},), got {x.shape}")
    total = jnp.zeros((), jnp.result_type(*[f.potential for f in graph.factors], jnp.float32))
    for f in graph.factors:
        total = total + jnp.log(f.potential[tuple(x[v] for v in f.variables)])
    return total


def joint_table(graph: FactorGraph, *, normalize: bool = True) -> Array:
    """The full table ``p(x)`` (or ``p~(x)``) with one axis per variable.

    Each factor is broadcast over the axes of its scope and the tables are multiplied.

    Args:
        graph: the factor graph (small: the table has ``prod k_i`` entries).
        normalize: divide by the partition function.

    Returns:
        ``[k_1, ..., k_n]`` probabilities.

    Example:
        >>> g = factor_graph((2, 2), [factor((0, 1), jnp.array([[2.0, 1.0], [1.0, 2.0]]))])
        >>> joint_table(g).sum()  # 1.0
        Array(1., dtype=float32)
    """
    n = len(graph.cardinalities)
    if math.prod(graph.cardinalities) > _MAX_STATES:
        raise ValueError(f"the model has more than {_MAX_STATES} joint states to enumerate")
    dtype = jnp.result_type(*[f.potential for f in graph.factors], jnp.float32)
    table = jnp.ones(graph.cardinalities, dtype)
    for f in graph.factors:
        order = np.argsort(f.variables)
        sorted_vars = [f.variables[i] for i in order]
        potential = jnp.transpose(f.potential, order)
        shape = [1] * n
        for v in sorted_vars:
            shape[v] = graph.cardinalities[v]
        table = table * potential.reshape(shape)
    if normalize:
        table = table / jnp.sum(table)
    return table


def partition_function(graph: FactorGraph) -> Array:
    """``Z = sum_x prod_C phi_C(x_C)`` by enumeration.

    Example:
        >>> g = factor_graph((2, 2), [factor((0, 1), jnp.array([[2.0, 1.0], [1.0, 2.0]]))])
        >>> partition_function(g)
        Array(6., dtype=float32)
    """
    return jnp.sum(joint_table(graph, normalize=False))


def log_partition_function(graph: FactorGraph) -> Array:
    """``log Z`` by enumeration in log space (stable for large potentials).

    Example:
        >>> g = factor_graph((2, 2), [factor((0, 1), jnp.array([[2.0, 1.0], [1.0, 2.0]]))])
        >>> log_partition_function(g).round(4)
        Array(1.7917999, dtype=float32)
    """
    log_table = jnp.log(joint_table(graph, normalize=False))
    return jax.scipy.special.logsumexp(log_table)


def marginals(graph: FactorGraph) -> list[Array]:
    """Exact single-variable marginals ``p(x_i)`` by enumeration.

    Args:
        graph: the factor graph.

    Returns:
        A list of ``n`` arrays, ``[k_i]`` each.

    Example:
        >>> g = factor_graph((2, 2), [factor((0, 1), jnp.array([[2.0, 1.0], [1.0, 2.0]]))])
        >>> p0, p1 = marginals(g)
    """
    table = joint_table(graph)
    n = len(graph.cardinalities)
    return [jnp.sum(table, axis=tuple(j for j in range(n) if j != i)) for i in range(n)]


def boltzmann_probabilities(energies: ArrayLike) -> Array:
    """``p_i = exp(-E_i) / sum_j exp(-E_j)`` over an enumerated set of states.

    Args:
        energies: ``[S]`` energies of every state.

    Returns:
        ``[S]`` probabilities.

    Example:
        >>> boltzmann_probabilities(jnp.array([0.0, jnp.log(3.0)])).round(4)  # [0.75, 0.25]
        Array([0.75, 0.25], dtype=float32)
    """
    energies = jnp.asarray(energies)
    check_floating("energies", energies)
    return jax.nn.softmax(-energies, axis=-1)


def exact_energy_model(
    energy_fn: Callable[[Array], Array], cardinalities: Sequence[int]
) -> tuple[Array, Array, Array]:
    """Enumerate an energy-based model ``p(x) = exp(-E(x)) / Z`` over discrete states.

    Args:
        energy_fn: ``E(x)`` for one ``[n]`` integer state (vmapped).
        cardinalities: ``k_i`` for each of the ``n`` variables.

    Returns:
        ``(states [S, n], probabilities [S], log_partition_function)``.

    Example:
        >>> energy = lambda x: -1.0 * (x[0] == x[1])
        >>> states, probs, log_z = exact_energy_model(energy, (2, 2))
    """
    states = enumerate_states(cardinalities)
    energies = jax.vmap(energy_fn)(states)
    check_floating("energy_fn(x)", energies)
    return states, jax.nn.softmax(-energies), jax.scipy.special.logsumexp(-energies)
