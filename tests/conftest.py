"""Shared test configuration: strict JAX semantics for the whole suite.

- rank promotion raises (no silent broadcasting of mismatched ranks);
- dtype promotion is strict, except in tests marked ``standard_dtype_promotion``
  (optax's Adam bias correction mixes a Python float with an int32 count);
- PRNG key reuse is an error;
- XLA skips its expensive backend (LLVM) optimizations: the suite's programs are tiny and
  compiled once each, so compiling dominates and a less optimized program is ~1.7x cheaper
  overall. Results may differ from optimized code in the last bits (every comparison has a
  tolerance, or compares two runs compiled alike). ``JAXDL_TEST_XLA_OPT=full`` restores
  full optimization.
"""

from __future__ import annotations

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")
if os.environ.get("JAXDL_TEST_XLA_OPT") != "full":
    # inherited by the subprocesses some tests start (CLI runs, kill-and-resume)
    os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "1")

import jax  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
jax.config.update("jax_debug_key_reuse", True)
if os.environ.get("JAXDL_TEST_XLA_OPT") != "full":
    jax.config.update("jax_disable_most_optimizations", True)


def pytest_configure(config):
    """One persistent XLA cache per test session, shared by the xdist workers.

    Many tests compile the same small programs (the same MLP, loss and chunk); with a
    shared cache the second compilation of an identical program is a disk read. The
    controller makes a fresh directory and the workers inherit it through the
    environment, so a session never reads a cache left by an earlier one.
    ``JAXDL_TEST_XLA_CACHE=off`` turns it off.
    """
    if os.environ.get("JAXDL_TEST_XLA_CACHE") == "off":
        return
    if not hasattr(config, "workerinput") and "JAXDL_TEST_XLA_CACHE" not in os.environ:
        import tempfile

        os.environ["JAXDL_TEST_XLA_CACHE"] = tempfile.mkdtemp(prefix="jaxdl-tests-xla-")
        config._jaxdl_owned_xla_cache = os.environ["JAXDL_TEST_XLA_CACHE"]
    jax.config.update("jax_compilation_cache_dir", os.environ["JAXDL_TEST_XLA_CACHE"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)


def pytest_unconfigure(config):
    """The controller removes the session's cache directory it made."""
    owned = getattr(config, "_jaxdl_owned_xla_cache", None)
    if owned:
        import shutil

        shutil.rmtree(owned, ignore_errors=True)
        os.environ.pop("JAXDL_TEST_XLA_CACHE", None)


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


_SLOW_LIST = os.path.join(os.path.dirname(__file__), "slow_tests.txt")


def _slow_ids() -> tuple[str, ...]:
    with open(_SLOW_LIST) as file:
        lines = (line.strip() for line in file)
        return tuple(line for line in lines if line and not line.startswith("#"))


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test named in ``tests/slow_tests.txt`` (a file or a node id).

    The README's test command deselects them (``-m "not slow"``); ``.ci/run`` runs them
    afterwards, so nothing that lands goes untested.
    """
    slow = _slow_ids()
    files = {entry for entry in slow if "::" not in entry}
    nodes = {entry for entry in slow if "::" in entry}
    for item in items:
        path = item.nodeid.split("::", 1)[0]
        if path in files or item.nodeid in nodes:
            item.add_marker(pytest.mark.slow)
