"""Shared test configuration: strict JAX semantics for the whole suite.

- rank promotion raises (no silent broadcasting of mismatched ranks);
- dtype promotion is strict, except in tests marked ``standard_dtype_promotion``
  (optax's Adam bias correction mixes a Python float with an int32 count);
- PRNG key reuse is an error.
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

import jax  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_debug_key_reuse", True)

settings.register_profile(
    "jaxdl",
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=True,
)
settings.load_profile("jaxdl")


@pytest.fixture(autouse=True)
def _dtype_promotion(request):
    mode = "standard" if request.node.get_closest_marker("standard_dtype_promotion") else "strict"
    with jax.numpy_dtype_promotion(mode):
        yield


@pytest.fixture
def key():
    """A fresh typed key per test."""
    return jax.random.key(0)
