"""One driver for every kernel: :func:`sample_chain`, and its vmap :func:`sample_chains`.

Every sampler and chain of the library has the BlackJAX shape

    state = init(...)                          # a NamedTuple
    state, info = kernel(key, state, ...)      # both NamedTuples

(Gibbs kernels in :mod:`jaxdl.sampling.gibbs`, Markov chains in
:mod:`jaxdl.sampling.markov`, Ising kernels in :mod:`jaxdl.probabilistic.ising`, RBM
block Gibbs and AIS in :mod:`jaxdl.probabilistic.rbm`). Close the kernel over its
parameters (``functools.partial``) and run it here: one ``lax.scan``, jittable,
vmappable over chains, with burn-in and thinning.

Reference: BlackJAX, ``blackjax/base.py`` (the init / step contract).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.typing import Key, PyTree

__all__ = ["Kernel", "sample_chain", "sample_chains"]

Kernel = Callable[[Key, Any], tuple[Any, Any]]
"""``kernel(key, state) -> (state, info)``: a kernel with its parameters bound."""


def sample_chain(
    key: Key,
    kernel: Kernel,
    initial_state: PyTree,
    num_samples: int,
    *,
    burn_in: int = 0,
    thin: int = 1,
) -> tuple[PyTree, tuple[PyTree, PyTree]]:
    """Run ``kernel`` ``burn_in + num_samples * thin`` times; keep every ``thin``-th state.

    Kernel call ``t`` (counting from 0, burn-in included) uses the key
    ``fold_in(key, t)``, so a chain run in pieces with the step counter carried over
    reproduces one long run, and ``sample_chain(..., n, burn_in=b, thin=k)`` keeps
    exactly the states ``b + k - 1, b + 2k - 1, ...`` of
    ``sample_chain(..., b + n k)``. The first ``burn_in`` calls are discarded (their
    states are not stored); then each kept sample is the state (and info) after the
    last of ``thin`` calls. Everything runs in ``lax.scan``/``fori_loop``: the function
    is jittable and vmappable over chains (see :func:`sample_chains`).

    Args:
        key: PRNG key.
        kernel: ``kernel(key, state) -> (state, info)``, the model bound with
            ``functools.partial`` (e.g. ``partial(markov.kernel, transition_matrix=a)``).
        initial_state: the start, from the kernel's ``init``.
        num_samples: number of kept states ``n >= 1``.
        burn_in: kernel calls discarded first (>= 0).
        thin: kernel calls per kept state (>= 1).

    Returns:
        ``(final_state, (states, infos))``: the state after the last call, and the kept
        states and infos stacked along a leading ``[num_samples]`` axis.

    Example:
        >>> from jaxdl.sampling import markov
        >>> import functools
        >>> a = jnp.array([[0.9, 0.5], [0.1, 0.5]])
        >>> kernel = functools.partial(markov.kernel, transition_matrix=a)
        >>> final, (states, infos) = sample_chain(
        ...     jax.random.key(0), kernel, markov.init(0), 100, burn_in=10, thin=2)
        >>> states.position.shape, infos.transition_probability.shape
        ((100,), (100,))
    """
    check_positive_int("num_samples", num_samples)
    check_positive_int("burn_in", burn_in, allow_zero=True)
    check_positive_int("thin", thin)

    def call(t, state):
        return kernel(jax.random.fold_in(key, t), state)

    state = initial_state
    if burn_in:
        state = jax.lax.fori_loop(0, burn_in, lambda t, s: call(t, s)[0], state)

    def keep(state, i):
        start = burn_in + i * thin
        if thin > 1:
            state = jax.lax.fori_loop(start, start + thin - 1, lambda t, s: call(t, s)[0], state)
        state, info = call(start + thin - 1, state)
        return state, (state, info)

    return jax.lax.scan(keep, state, jnp.arange(num_samples))


def sample_chains(
    key: Key,
    kernel: Kernel,
    initial_states: PyTree,
    num_samples: int,
    *,
    burn_in: int = 0,
    thin: int = 1,
) -> tuple[PyTree, tuple[PyTree, PyTree]]:
    """Independent chains: :func:`sample_chain` vmapped over a leading ``[num_chains]`` axis.

    Exactly ``jax.vmap(sample_chain)`` with one key per chain from
    ``jax.random.split(key, num_chains)``; it adds the key splitting and a check that
    the states have the chain axis.

    Args:
        key: PRNG key, split into one key per chain.
        kernel: ``kernel(key, state) -> (state, info)`` for ONE chain.
        initial_states: states stacked along a leading ``[num_chains]`` axis.
        num_samples: kept states per chain.
        burn_in: discarded kernel calls per chain.
        thin: kernel calls per kept state.

    Returns:
        ``(final_states, (states, infos))`` with leading axes ``[num_chains]`` and
        ``[num_chains, num_samples]``.

    Example:
        >>> from jaxdl.sampling import markov
        >>> import functools
        >>> a = jnp.array([[0.9, 0.5], [0.1, 0.5]])
        >>> kernel = functools.partial(markov.kernel, transition_matrix=a)
        >>> starts = markov.init(jnp.array([0, 1, 0]))
        >>> _, (states, _) = sample_chains(jax.random.key(0), kernel, starts, 50)
        >>> states.position.shape
        (3, 50)
    """
    leaves = jax.tree_util.tree_leaves(initial_states)
    if not leaves or jnp.ndim(leaves[0]) == 0:
        raise ValueError("initial_states must have a leading [num_chains] axis")
    num_chains = jnp.shape(leaves[0])[0]
    keys = jax.random.split(key, num_chains)

    def one(chain_key, state):
        return sample_chain(chain_key, kernel, state, num_samples, burn_in=burn_in, thin=thin)

    return jax.vmap(one)(keys, initial_states)
