"""Tests for jaxdl.sampling.chain: the one driver of every kernel (burn-in, thinning, vmap)."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.sampling import markov, sample_chain, sample_chains
from jaxdl.testing import assert_jit_matches_eager

A = jnp.array([[0.5, 0.2, 0.1], [0.3, 0.6, 0.4], [0.2, 0.2, 0.5]])
KERNEL = functools.partial(markov.kernel, transition_matrix=A)


class CountState(NamedTuple):
    count: jax.Array
    total: jax.Array


class CountInfo(NamedTuple):
    draw: jax.Array


def _counting_kernel(key, state):
    """Counts calls and sums one uniform per call: makes the key schedule visible."""
    draw = jax.random.uniform(key)
    return CountState(state.count + 1, state.total + draw), CountInfo(draw)


def _start():
    return CountState(jnp.zeros((), jnp.int32), jnp.zeros(()))


def test_returns_final_state_and_stacked_states_and_infos(key):
    final, (states, infos) = sample_chain(key, KERNEL, markov.init(0), 7)
    assert states.position.shape == (7,) and states.position.dtype == jnp.int32
    assert infos.transition_probability.shape == (7,)
    np.testing.assert_array_equal(final.position, states.position[-1])


@pytest.mark.parametrize(("burn_in", "thin"), [(0, 1), (3, 1), (0, 4), (5, 3)])
def test_burn_in_and_thinning_keep_the_states_of_one_long_run(key, burn_in, thin):
    num_samples = 6
    total = burn_in + num_samples * thin
    long_final, (long_states, long_infos) = sample_chain(key, _counting_kernel, _start(), total)
    final, (states, infos) = sample_chain(
        key, _counting_kernel, _start(), num_samples, burn_in=burn_in, thin=thin
    )
    kept = np.arange(burn_in + thin - 1, total, thin)
    np.testing.assert_array_equal(states.count, long_states.count[kept])
    np.testing.assert_allclose(states.total, long_states.total[kept], rtol=1e-6)
    np.testing.assert_array_equal(infos.draw, long_infos.draw[kept])
    assert int(final.count) == total
    np.testing.assert_allclose(final.total, long_final.total, rtol=1e-6)


def test_call_t_uses_fold_in_of_the_key(key):
    _, (_, infos) = sample_chain(key, _counting_kernel, _start(), 3)
    expected = [jax.random.uniform(jax.random.fold_in(key, t)) for t in range(3)]
    np.testing.assert_allclose(infos.draw, expected)


def test_jit_equals_eager_and_same_key_same_output(key):
    run = lambda k: sample_chain(k, _counting_kernel, _start(), 4, burn_in=2, thin=2)
    assert_jit_matches_eager(run, key)
    first, second = run(jax.random.clone(key)), run(key)
    np.testing.assert_array_equal(first[1][1].draw, second[1][1].draw)


def test_sample_chains_is_vmap_of_sample_chain(key):
    starts = markov.init(jnp.array([0, 1, 2]))
    keys = jax.random.split(jax.random.clone(key), 3)
    finals, (states, _) = sample_chains(key, KERNEL, starts, 8, burn_in=2, thin=2)
    assert states.position.shape == (3, 8)
    for c in range(3):
        final, (one, _) = sample_chain(keys[c], KERNEL, markov.init(c), 8, burn_in=2, thin=2)
        np.testing.assert_array_equal(states.position[c], one.position)
        np.testing.assert_array_equal(finals.position[c], final.position)


def test_errors(key):
    with pytest.raises(ValueError, match="leading \\[num_chains\\] axis"):
        sample_chains(key, _counting_kernel, jnp.asarray(1.0), 3)
    with pytest.raises(TypeError, match="num_samples must be an int"):
        sample_chain(key, _counting_kernel, _start(), 2.0)
    with pytest.raises(ValueError, match="num_samples must be > 0"):
        sample_chain(key, _counting_kernel, _start(), 0)
    with pytest.raises(ValueError, match="burn_in must be >= 0"):
        sample_chain(key, _counting_kernel, _start(), 2, burn_in=-1)
    with pytest.raises(ValueError, match="thin must be > 0"):
        sample_chain(key, _counting_kernel, _start(), 2, thin=0)
