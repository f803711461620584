"""The kernel contract, checked on every public kernel of the library.

Every sampler and chain is ``init(...) -> State`` and ``kernel(key, state, ...) ->
(State, Info)`` with NamedTuple State and Info, driven by
:func:`jaxdl.sampling.sample_chain`. For each kernel in :data:`REGISTRY` this file checks
that it is key-first, returns NamedTuples (the state keeps its type), is pure (the same
key gives the same output), jittable (jit == eager), vmappable over chains (vmap ==
loop) and runs under ``sample_chain`` with burn-in and thinning. The suite runs with
``jax_debug_key_reuse=True`` (tests/conftest.py), so a kernel that reuses a key fails
here. :func:`test_every_public_kernel_is_registered` fails when a public ``*_kernel``
(or any public ``(key, state, ...)`` function of the sampling and probabilistic rooms)
is missing from the registry.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxdl.probabilistic
import jaxdl.sampling
from jaxdl.probabilistic import ising, rbm
from jaxdl.sampling import gibbs, markov, sample_chain
from jaxdl.testing import assert_pytrees_allclose, assert_vmap_matches_loop


class KernelCase(NamedTuple):
    """One registered kernel: the public function, bound parameters, and a chain start."""

    name: str  # "module.function" of the public kernel
    function: Callable[..., Any]
    kwargs: dict[str, Any]  # everything after (key, state)
    init: Callable[[jax.Array], Any]  # key -> the state of ONE chain


def _chain_energy(x):
    same = jnp.sum(x[1:] == x[:-1]).astype(jnp.float32)
    return -same + 0.3 * jnp.sum(x == 2).astype(jnp.float32)


def _pair_logits(x, site):
    candidates = jnp.stack([x.at[site].set(0), x.at[site].set(1)])
    return -jax.vmap(_chain_energy)(candidates)


def _bit_block(sites):
    def sample(key, x):
        draws = jax.random.bernoulli(key, 0.3, (len(sites),)).astype(x.dtype)
        return x.at[jnp.asarray(sites)].set(draws)

    return sample


def _rbm_params(gaussian: bool):
    k_w, k_b, k_c, k_s = jax.random.split(jax.random.key(7), 4)
    weights = 0.7 * jax.random.normal(k_w, (5, 3))
    visible_bias = 0.3 * jax.random.normal(k_b, (5,))
    hidden_bias = 0.3 * jax.random.normal(k_c, (3,))
    if gaussian:
        log_variance = 0.2 * jax.random.normal(k_s, (5,))
        return rbm.GaussianRBMParams(weights, visible_bias, hidden_bias, log_variance)
    return rbm.RBMParams(weights, visible_bias, hidden_bias)


def _spins(key, shape):
    return ising.init(jnp.where(jax.random.bernoulli(key, 0.5, shape), 1.0, -1.0))


ISING_MODEL = ising.IsingModel(coupling=0.4, field=0.1, inverse_temperature=0.8)
BERNOULLI_RBM = _rbm_params(gaussian=False)
GAUSSIAN_RBM = _rbm_params(gaussian=True)
BETAS = jnp.linspace(0.0, 1.0, 6)
TRANSITIONS = jnp.array([[0.5, 0.2, 0.1], [0.3, 0.6, 0.4], [0.2, 0.2, 0.5]])

REGISTRY: tuple[KernelCase, ...] = (
    KernelCase(
        "jaxdl.sampling.gibbs.single_site_kernel",
        gibbs.single_site_kernel,
        dict(
            conditional_logits=_pair_logits,
            values=jnp.arange(2),
            energy_fn=_chain_energy,
            scan="random",
        ),
        lambda key: gibbs.init(jax.random.randint(key, (5,), 0, 2)),
    ),
    KernelCase(
        "jaxdl.sampling.gibbs.discrete_single_site_kernel",
        gibbs.discrete_single_site_kernel,
        dict(energy_fn=_chain_energy, num_values=3),
        lambda key: gibbs.init(jax.random.randint(key, (4,), 0, 3)),
    ),
    KernelCase(
        "jaxdl.sampling.gibbs.block_kernel",
        gibbs.block_kernel,
        dict(block_samplers=[_bit_block((0, 2)), _bit_block((1, 3))], energy_fn=_chain_energy),
        lambda key: gibbs.init(jax.random.randint(key, (4,), 0, 2)),
    ),
    KernelCase(
        "jaxdl.sampling.markov.kernel",
        markov.kernel,
        dict(transition_matrix=TRANSITIONS),
        lambda key: markov.init(jax.random.randint(key, (), 0, 3)),
    ),
    KernelCase(
        "jaxdl.probabilistic.ising.ising_single_site_kernel",
        ising.ising_single_site_kernel,
        dict(model=ISING_MODEL, scan="random"),
        lambda key: _spins(key, (1, 4)),
    ),
    KernelCase(
        "jaxdl.probabilistic.ising.ising_checkerboard_kernel",
        ising.ising_checkerboard_kernel,
        dict(model=ISING_MODEL),
        lambda key: _spins(key, (2, 4)),
    ),
    KernelCase(
        "jaxdl.probabilistic.rbm.gibbs.gibbs_kernel",
        rbm.gibbs_kernel,
        dict(params=BERNOULLI_RBM, num_sweeps=3),
        lambda key: rbm.gibbs_init(
            BERNOULLI_RBM, jax.random.bernoulli(key, 0.5, (2, 5)).astype(jnp.float32)
        ),
    ),
    KernelCase(
        "jaxdl.probabilistic.rbm.gibbs.gibbs_kernel",  # Gaussian visible units
        rbm.gibbs_kernel,
        dict(params=GAUSSIAN_RBM),
        lambda key: rbm.gibbs_init(GAUSSIAN_RBM, jax.random.normal(key, (5,))),
    ),
    KernelCase(
        "jaxdl.probabilistic.rbm.partition.ais_kernel",
        rbm.ais_kernel,
        dict(params=BERNOULLI_RBM, betas=BETAS),
        lambda key: rbm.ais_init(key, BERNOULLI_RBM, 3),
    ),
    KernelCase(
        "jaxdl.probabilistic.rbm.partition.ais_kernel",  # Gaussian base model
        rbm.ais_kernel,
        dict(params=GAUSSIAN_RBM, betas=BETAS),
        lambda key: rbm.ais_init(key, GAUSSIAN_RBM, 3),
    ),
)

# Public (key, state, ...) functions of the scanned rooms that are not samplers, with why.
EXEMPT = {
    "jaxdl.probabilistic.rbm.training.cd_step": (
        "an update step for jaxdl.training.fit: (key, TrainState, batch) -> (state, metrics "
        "dict); tested in tests/probabilistic/rbm/test_training.py"
    ),
}

SCANNED_PACKAGES = (jaxdl.sampling, jaxdl.probabilistic)


def _is_kernel_shaped(name: str, function: Callable[..., Any]) -> bool:
    if name == "kernel" or name.endswith("_kernel"):
        return True
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return False
    return parameters[:2] == ["key", "state"]


def _public_kernels() -> set[str]:
    found = set()
    for package in SCANNED_PACKAGES:
        names = [package.__name__] + [
            info.name for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
        ]
        for module_name in names:
            module = importlib.import_module(module_name)
            for name, obj in vars(module).items():
                if name.startswith("_") or not inspect.isfunction(obj):
                    continue
                if obj.__module__ == module_name and _is_kernel_shaped(name, obj):
                    found.add(f"{module_name}.{name}")
    return found


def test_every_public_kernel_is_registered():
    registered = {case.name for case in REGISTRY}
    missing = _public_kernels() - registered - set(EXEMPT)
    assert not missing, (
        f"public kernels missing from tests/test_contracts.py REGISTRY: {sorted(missing)}"
    )
    stale = (registered | set(EXEMPT)) - _public_kernels()
    assert not stale, f"registry entries that are no public kernel: {sorted(stale)}"


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


CASE_IDS = [f"{i}-{case.name.rsplit('.', 1)[-1]}" for i, case in enumerate(REGISTRY)]


@pytest.fixture(params=REGISTRY, ids=CASE_IDS)
def case(request) -> KernelCase:
    return request.param


def _bound(case: KernelCase):
    return functools.partial(case.function, **case.kwargs)


def test_kernel_contract(case):
    """Key-first, NamedTuple state and info, pure, jit == eager, vmap == loop, sample_chain.

    One test per kernel so that the compilations are shared between the checks.
    """
    parameters = list(inspect.signature(case.function).parameters)
    assert parameters[:2] == ["key", "state"], (case.name, parameters)
    kernel = _bound(case)
    jitted = jax.jit(kernel)
    state = case.init(jax.random.key(0))
    key = jax.random.key(1)

    # NamedTuple state and info; the state keeps its type, structure, shapes and dtypes
    eager_state, eager_info = kernel(jax.random.clone(key), state)
    assert _is_namedtuple(state), (case.name, type(state))
    assert type(eager_state) is type(state), (case.name, type(eager_state), type(state))
    assert _is_namedtuple(eager_info), (case.name, type(eager_info))
    assert jax.tree.structure(eager_state) == jax.tree.structure(state)
    for old, new in zip(jax.tree.leaves(state), jax.tree.leaves(eager_state), strict=True):
        assert jnp.shape(old) == jnp.shape(new) and jnp.result_type(old) == jnp.result_type(new)

    # pure: the same key gives the same output (twice under jit), and jit == eager
    first = jitted(jax.random.clone(key), state)
    second = jitted(jax.random.clone(key), state)
    for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(second), strict=True):
        np.testing.assert_array_equal(a, b)
    assert_pytrees_allclose(first, (eager_state, eager_info), rtol=1e-5, atol=1e-5)

    # vmappable over chains: vmap == a loop of single chains
    states = [case.init(jax.random.key(10 + c)) for c in range(3)]
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *states)
    keys = jax.random.split(jax.random.key(4), 3)
    assert_vmap_matches_loop(jitted, keys, stacked, rtol=1e-5, atol=1e-5)

    # driven by the one driver, with burn-in and thinning, under jit
    final, (kept, infos) = jax.jit(lambda k: sample_chain(k, kernel, state, 3, burn_in=1, thin=2))(
        jax.random.key(5)
    )
    assert type(final) is type(state) and type(kept) is type(state)
    for leaf, one in zip(jax.tree.leaves(kept), jax.tree.leaves(state), strict=True):
        assert leaf.shape == (3, *jnp.shape(one))
    assert all(leaf.shape[0] == 3 for leaf in jax.tree.leaves(infos))
