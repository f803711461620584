"""Tests for jaxdl.sampling.gibbs (generic kernels) against exact enumeration of small models.

Tolerances come from the effective sample size of each statistic's trace:
``|estimate - exact| < 5 sd / sqrt(ESS)``. The Ising kernels built on this machinery are
tested in tests/probabilistic/test_ising.py.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.probabilistic.undirected import exact_energy_model
from jaxdl.sampling import diagnostics, gibbs, sample_chains
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

NUM_CHAINS, BURN_IN = 8, 50
PAIR = jnp.array([[-1.0, 0.3, 0.5], [0.3, -0.8, 0.2], [0.5, 0.2, -0.4]])
UNARY = jnp.array([0.2, -0.3, 0.1])


def _chain_energy(x):
    """A chain MRF over values {0, 1, 2}: E(x) = sum pair(x_i, x_i+1) + sum unary(x_i)."""
    return jnp.sum(PAIR[x[:-1], x[1:]]) + jnp.sum(UNARY[x])


def _exact_marginals(num_variables):
    states, probs, _ = exact_energy_model(_chain_energy, (3,) * num_variables)
    return np.stack(
        [
            np.asarray(jnp.sum(probs[:, None] * jax.nn.one_hot(states[:, i], 3), 0))
            for i in range(num_variables)
        ]
    )


def _assert_marginals(trace, exact):
    for i in range(exact.shape[0]):
        for v in range(3):
            indicator = (trace[..., i] == v).astype(jnp.float32)
            ess = float(diagnostics.effective_sample_size(indicator))
            p = exact[i, v]
            assert abs(float(jnp.mean(indicator)) - p) < 5 * np.sqrt(p * (1 - p) / ess) + 1e-6


@pytest.mark.parametrize("scan", ["random", "systematic"])
def test_discrete_single_site_matches_exact_marginals(key, scan):
    kernel = functools.partial(
        gibbs.discrete_single_site_kernel, energy_fn=_chain_energy, num_values=3, scan=scan
    )
    starts = gibbs.init(jnp.zeros((NUM_CHAINS, 4), jnp.int32))
    _, (states, infos) = sample_chains(key, kernel, starts, 300, burn_in=BURN_IN)
    np.testing.assert_allclose(
        infos.energy[0, -1], _chain_energy(states.position[0, -1]), rtol=1e-6
    )
    _assert_marginals(states.position, _exact_marginals(4))


def _conditionally_independent_block(sites):
    """Sampler of a block whose sites are independent given the rest (a chain's odd/even)."""

    def sample(key, x):
        def logits(site):
            candidates = jnp.broadcast_to(x, (3, x.shape[0])).at[:, site].set(jnp.arange(3))
            return -jax.vmap(_chain_energy)(candidates)

        all_logits = jnp.stack([logits(s) for s in sites])
        draws = jax.random.categorical(key, all_logits).astype(x.dtype)
        return x.at[jnp.asarray(sites)].set(draws)

    return sample


def test_block_kernel_matches_exact_marginals(key):
    """Odd/even blocks of a 5-variable chain MRF: each block is conditionally independent."""
    samplers = [
        _conditionally_independent_block((0, 2, 4)),
        _conditionally_independent_block((1, 3)),
    ]
    kernel = functools.partial(gibbs.block_kernel, block_samplers=samplers, energy_fn=_chain_energy)
    starts = gibbs.init(jnp.zeros((NUM_CHAINS, 5), jnp.int32))
    _, (states, infos) = sample_chains(key, kernel, starts, 300, burn_in=BURN_IN)
    np.testing.assert_allclose(infos.energy[1, 3], _chain_energy(states.position[1, 3]), rtol=1e-6)
    _assert_marginals(states.position, _exact_marginals(5))


def test_single_site_kernel_on_a_grid_position(key):
    """Sites are the flat indices of any position shape; values can be any array."""
    values = jnp.array([-1.0, 1.0])

    def logits(x, site):
        return jnp.zeros(2)  # independent fair spins

    state, info = gibbs.single_site_kernel(
        key, gibbs.init(jnp.ones((2, 3))), logits, values, jnp.sum, scan="random"
    )
    assert state.position.shape == (2, 3)
    assert set(np.unique(np.asarray(state.position))) <= {-1.0, 1.0}
    np.testing.assert_allclose(info.energy, jnp.sum(state.position))


def test_errors(key):
    with pytest.raises(ValueError, match="scan must be one of"):
        gibbs.discrete_single_site_kernel(
            key, gibbs.init(jnp.zeros(3, jnp.int32)), _chain_energy, 3, scan="zigzag"
        )
    with pytest.raises(ValueError, match="integer vector"):
        gibbs.discrete_single_site_kernel(key, gibbs.init(jnp.ones(3)), jnp.sum, 2)
    with pytest.raises(ValueError, match="at least one block sampler"):
        gibbs.block_kernel(key, gibbs.init(jnp.ones(3)), [], jnp.sum)


@pytest.mark.slow
def test_jit_and_vmap(key):
    k_jit, k_vmap = jax.random.split(key)
    kernel = functools.partial(
        gibbs.discrete_single_site_kernel, energy_fn=_chain_energy, num_values=3, scan="random"
    )
    assert_jit_matches_eager(kernel, k_jit, gibbs.init(jnp.zeros(4, jnp.int32)))
    keys = jax.random.split(k_vmap, 2)
    starts = gibbs.init(jnp.stack([jnp.zeros(4, jnp.int32), jnp.ones(4, jnp.int32)]))
    assert_vmap_matches_loop(jax.jit(kernel), keys, starts)
