"""Finite Markov chains: validation, a chain kernel, propagation and stationary distributions.

Convention (the course's): the transition matrix ``A`` is column-stochastic,
``A[i, j] = T(x' = i | x = j)``, so every column sums to 1 and a distribution
vector evolves as ``v_t = A v_{t-1}``. A stationary distribution solves
``A v = v``. (Row-stochastic matrices ``P`` from other texts are ``A = P.T``.)

A chain is simulated by :func:`kernel` driven by :func:`jaxdl.sampling.sample_chain`::

    kernel = functools.partial(markov.kernel, transition_matrix=a)
    _, (states, infos) = sample_chain(key, kernel, markov.init(0), num_steps)
    positions = states.position  # [num_steps] int32, x_1 .. x_T
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import (
    check_floating,
    check_positive,
    check_positive_int,
    check_probabilities,
    is_concrete,
)
from jaxdl.typing import Array, ArrayLike, Key

__all__ = [
    "MarkovChainInfo",
    "MarkovChainState",
    "check_transition_matrix",
    "empirical_distribution",
    "init",
    "kernel",
    "propagate",
    "stationary_distribution_eigen",
    "stationary_distribution_power",
]


def check_transition_matrix(transition_matrix: ArrayLike, *, atol: float = 1e-5) -> Array:
    """Validate a column-stochastic matrix and return it as an array.

    Raises ``ValueError`` unless it is square with entries in [0, 1] and every
    column summing to 1 (values checked when concrete).

    Args:
        transition_matrix: ``[K, K]`` with ``A[i, j] = T(x' = i | x = j)``.
        atol: tolerance on the column sums.

    Returns:
        The matrix as a floating array.

    Example:
        >>> check_transition_matrix(jnp.array([[0.9, 0.5], [0.1, 0.5]]))
        Array([[0.9, 0.5],
               [0.1, 0.5]], dtype=float32)
    """
    a = jnp.asarray(transition_matrix)
    check_floating("transition_matrix", a)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"transition_matrix must be square [K, K], got shape {a.shape}")
    check_probabilities("transition_matrix", a, axis=0, atol=atol)
    return a


class MarkovChainState(NamedTuple):
    """State of a finite Markov chain.

    Attributes:
        position: the current state index (int32 scalar).
    """

    position: Array


class MarkovChainInfo(NamedTuple):
    """Diagnostics of one transition.

    Attributes:
        transition_probability: ``T(x' | x)`` of the move taken.
    """

    transition_probability: Array


def init(position: ArrayLike, *, num_states: int | None = None) -> MarkovChainState:
    """Start a chain in state ``position`` (an integer in ``[0, K)``).

    A vector of positions starts a batch of chains for
    :func:`jaxdl.sampling.sample_chains` (the kernel itself runs one chain).

    Args:
        position: starting state index (or ``[num_chains]`` indices).
        num_states: ``K``; when given, concrete positions are checked to lie in ``[0, K)``.

    Returns:
        :class:`MarkovChainState` with int32 positions.

    Example:
        >>> init(0)
        MarkovChainState(position=Array(0, dtype=int32))
    """
    position = jnp.asarray(position)
    if not jnp.issubdtype(position.dtype, jnp.integer):
        raise TypeError(f"position must be an integer state index, got {position.dtype}")
    if num_states is not None:
        check_positive_int("num_states", num_states)
        if is_concrete(position) and not bool(jnp.all((position >= 0) & (position < num_states))):
            raise ValueError(f"position must lie in [0, {num_states}), got {position}")
    return MarkovChainState(position.astype(jnp.int32))


def kernel(
    key: Key, state: MarkovChainState, transition_matrix: ArrayLike
) -> tuple[MarkovChainState, MarkovChainInfo]:
    """One transition ``x' ~ T(. | x) = A[:, x]`` (Gumbel-max on the column's log-probabilities).

    Run a whole chain with :func:`jaxdl.sampling.sample_chain` and
    ``functools.partial(kernel, transition_matrix=a)``. The matrix is validated (shape
    always, values when concrete, i.e. once when the chain is traced).

    Args:
        key: PRNG key.
        state: current :class:`MarkovChainState` (one chain: a scalar position).
        transition_matrix: ``[K, K]`` column-stochastic matrix.

    Returns:
        ``(new_state, info)``.

    Example:
        >>> a = jnp.array([[0.9, 0.5], [0.1, 0.5]])
        >>> state, info = kernel(jax.random.key(0), init(0), a)
    """
    a = check_transition_matrix(transition_matrix)
    position = jnp.asarray(state.position)
    if position.ndim != 0:
        raise ValueError(
            f"state.position must be one chain's scalar state, got shape {position.shape}; "
            "run several chains with jaxdl.sampling.sample_chains"
        )
    column = a[:, position]
    new_position = jax.random.categorical(key, jnp.log(column)).astype(jnp.int32)
    return MarkovChainState(new_position), MarkovChainInfo(column[new_position])


def propagate(
    transition_matrix: ArrayLike, initial_distribution: ArrayLike, num_steps: int
) -> Array:
    """Exact state distributions ``v_t = A v_{t-1}`` for ``t = 0..num_steps`` (a ``lax.scan``).

    Args:
        transition_matrix: ``[K, K]`` column-stochastic matrix.
        initial_distribution: ``[K]`` probability vector ``v_0``.
        num_steps: number of transitions.

    Returns:
        ``[num_steps + 1, K]`` distributions, starting with ``v_0``.

    Example:
        >>> a = jnp.array([[0.9, 0.5], [0.1, 0.5]])
        >>> v = propagate(a, jnp.array([1.0, 0.0]), 50)  # v[-1] ~ [5/6, 1/6]
    """
    a = check_transition_matrix(transition_matrix)
    v0 = jnp.asarray(initial_distribution, a.dtype)
    check_probabilities("initial_distribution", v0, axis=-1)
    if v0.shape != (a.shape[0],):
        raise ValueError(f"initial_distribution must have shape ({a.shape[0]},), got {v0.shape}")
    check_positive_int("num_steps", num_steps, allow_zero=True)

    def step(v, _):
        v = a @ v
        return v, v

    _, vs = jax.lax.scan(step, v0, None, length=num_steps)
    return jnp.concatenate([v0[None, :], vs], axis=0)


def stationary_distribution_power(
    transition_matrix: ArrayLike,
    *,
    tolerance: float = 1e-7,
    max_iterations: int = 10_000,
) -> Array:
    """Stationary distribution by power iteration: repeat ``v <- A v`` until it stops moving.

    Starts from the uniform distribution and stops when ``max |A v - v| <= tolerance``
    or after ``max_iterations`` (a ``lax.while_loop``). Converges for irreducible,
    aperiodic chains.

    Args:
        transition_matrix: ``[K, K]`` column-stochastic matrix.
        tolerance: convergence threshold on the max-norm change.
        max_iterations: iteration cap.

    Returns:
        ``[K]`` probability vector ``v`` with ``A v ~= v``.

    Example:
        >>> stationary_distribution_power(jnp.array([[0.9, 0.5], [0.1, 0.5]])).round(4)
        Array([0.8333    , 0.16669999], dtype=float32)
    """
    a = check_transition_matrix(transition_matrix)
    check_positive("tolerance", tolerance)
    check_positive_int("max_iterations", max_iterations)
    k = a.shape[0]
    v0 = jnp.full((k,), 1.0 / k, a.dtype)

    def cond(carry):
        _, change, i = carry
        return (change > tolerance) & (i < max_iterations)

    def body(carry):
        v, _, i = carry
        new = a @ v
        new = new / jnp.sum(new)
        return new, jnp.max(jnp.abs(new - v)), i + 1

    v, _, _ = jax.lax.while_loop(cond, body, (v0, jnp.asarray(jnp.inf, a.dtype), 0))
    return v


def stationary_distribution_eigen(transition_matrix: ArrayLike) -> Array:
    """Stationary distribution as the eigenvector of ``A`` for the eigenvalue closest to 1.

    The eigenvector is made real, non-negative and normalized to sum to 1.

    Args:
        transition_matrix: ``[K, K]`` column-stochastic matrix.

    Returns:
        ``[K]`` probability vector.

    Example:
        >>> stationary_distribution_eigen(jnp.array([[0.9, 0.5], [0.1, 0.5]])).round(4)
        Array([0.8333    , 0.16669999], dtype=float32)
    """
    a = check_transition_matrix(transition_matrix)
    eigenvalues, eigenvectors = jnp.linalg.eig(a)
    index = jnp.argmin(jnp.abs(eigenvalues - 1.0))
    v = jnp.real(eigenvectors[:, index]).astype(a.dtype)
    v = v / jnp.sum(v)
    return jnp.clip(v, 0.0, None) / jnp.sum(jnp.clip(v, 0.0, None))


def empirical_distribution(states: ArrayLike, num_states: int) -> Array:
    """Visit frequencies of each state in a trajectory (or any array of state indices).

    Args:
        states: integer state indices, any shape.
        num_states: ``K``.

    Returns:
        ``[K]`` float32 frequencies summing to 1.

    Example:
        >>> empirical_distribution(jnp.array([0, 1, 1, 1]), 2)  # [0.25, 0.75]
        Array([0.25, 0.75], dtype=float32)
    """
    states = jnp.asarray(states)
    check_positive_int("num_states", num_states)
    if not jnp.issubdtype(states.dtype, jnp.integer):
        raise TypeError(f"states must have an integer dtype, got {states.dtype}")
    counts = jnp.zeros((num_states,), jnp.float32).at[states.reshape(-1)].add(1.0)
    return counts / states.size
