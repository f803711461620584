"""Tests of the invariant assertions: each passes on a right function, fails on a broken one."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.testing import (
    assert_bitwise_equal,
    assert_jit_matches_eager,
    assert_no_recompile,
    assert_pytrees_allclose,
    assert_vmap_matches_loop,
    count_compilations,
)

# --- jit == eager ------------------------------------------------------------------------


def test_jit_matches_eager_with_key_and_pytree_output(key):
    def noisy_stats(key, x):
        noisy = x + jax.random.normal(key, x.shape)
        return {"mean": jnp.mean(noisy), "cumsum": jnp.cumsum(noisy)}

    out = assert_jit_matches_eager(noisy_stats, key, jnp.arange(4.0))
    assert set(out) == {"mean", "cumsum"}
    # The caller's key was copied, not consumed: it can still be used once.
    assert jax.random.uniform(key).shape == ()


def test_jit_matches_eager_static_argument():
    def power(x, n):
        return x**n

    out = assert_jit_matches_eager(power, jnp.array([1.5, 2.0]), 3, static_argnums=1)
    np.testing.assert_allclose(out, [3.375, 8.0])


def test_jit_differs_from_eager_is_caught():
    """A Python side effect runs once per call eagerly but only once per trace under jit."""
    calls = []

    def counts_calls(x):
        calls.append(None)
        return x * len(calls)

    with pytest.raises(AssertionError, match="jit result differs from eager result: at <root>"):
        assert_jit_matches_eager(counts_calls, jnp.ones(3))


def test_eager_run_disables_inner_jit():
    """The eager reference runs op by op even when fn is itself jitted."""
    calls = []

    @jax.jit
    def counts_calls(x):
        calls.append(None)
        return x * len(calls)

    with pytest.raises(AssertionError, match="differs"):
        assert_jit_matches_eager(counts_calls, jnp.ones(2))


# --- vmap == loop ------------------------------------------------------------------------


def test_vmap_matches_loop_with_keys_and_unbatched_argument(key):
    keys = jax.random.split(key, 3)
    weights = jnp.arange(6.0).reshape(2, 3)

    def noisy_layer(weights, key, x):
        return jnp.tanh(x @ weights) + 0.1 * jax.random.normal(key, (3,))

    out = assert_vmap_matches_loop(
        noisy_layer, weights, keys, jnp.ones((3, 2)), in_axes=(None, 0, 0)
    )
    assert out.shape == (3, 3)


def test_vmap_matches_loop_along_axis_1():
    out = assert_vmap_matches_loop(jnp.sum, jnp.arange(6.0).reshape(2, 3), in_axes=1)
    np.testing.assert_allclose(out, [3.0, 5.0, 7.0])


def test_vmap_unsafe_function_is_caught():
    """A batching rule that disagrees with the per-example function."""

    @jax.custom_batching.custom_vmap
    def double(x):
        return 2.0 * x

    @double.def_vmap
    def _wrong_rule(axis_size, in_batched, x):
        return 3.0 * x, in_batched[0]

    with pytest.raises(AssertionError, match="vmap result differs from the loop"):
        assert_vmap_matches_loop(double, jnp.ones((4, 2)))


def test_vmap_side_effect_is_caught():
    """A Python side effect runs once under vmap but once per example in the loop."""
    calls = []

    def counts_calls(x):
        calls.append(None)
        return x * len(calls)

    with pytest.raises(AssertionError, match="vmap result differs from the loop: at <root>"):
        assert_vmap_matches_loop(counts_calls, jnp.ones((3, 2)))


def test_vmap_in_axes_pytree_prefix():
    params = {"w": jnp.arange(6.0).reshape(3, 2), "b": jnp.ones(2)}

    def affine(params, x):
        return params["w"] * x + params["b"]

    out = assert_vmap_matches_loop(
        affine, params, jnp.arange(3.0), in_axes=({"w": 0, "b": None}, 0)
    )
    assert out.shape == (3, 2)
    with pytest.raises(ValueError, match="in_axes must be a prefix"):
        assert_vmap_matches_loop(affine, params, jnp.arange(3.0), in_axes=({"w": 0}, 0))


def test_vmap_errors():
    with pytest.raises(
        ValueError, match=r"share one batch size, got sizes 2 \(args\[0\]\), 3 \(args\[1\]\)"
    ):
        assert_vmap_matches_loop(jnp.add, jnp.ones((2, 1)), jnp.ones((3, 1)))
    with pytest.raises(ValueError, match="at least one batched argument"):
        assert_vmap_matches_loop(jnp.sum, jnp.ones(3), in_axes=None)
    with pytest.raises(ValueError, match="one entry per argument \\(2\\), got 1"):
        assert_vmap_matches_loop(jnp.add, jnp.ones(2), jnp.ones(2), in_axes=(0,))
    with pytest.raises(ValueError, match=r"^batched leaf args\[0\] of shape \(3,\) has no axis 1"):
        assert_vmap_matches_loop(jnp.sum, jnp.ones(3), in_axes=1)


# --- compilation counting ----------------------------------------------------------------


def test_count_compilations_as_decorator():
    @count_compilations
    def square(x):
        return x * x

    step = jax.jit(square)
    step(jnp.ones(2))
    step(jnp.zeros(2))
    assert square.count == 1
    step(jnp.ones(3))  # new shape: a second trace
    assert square.count == 2
    assert square.__name__ == "square"


def _count_compilations_as_context_manager():
    step = jax.jit(lambda x: x + 1)
    step(jnp.ones(2))
    with count_compilations(step) as counter:
        step(jnp.ones(2))  # cached
        assert counter.count == 0
        step(jnp.ones(3))
        step(jnp.ones(4))
    step(jnp.ones(5))  # after the block: not counted
    assert counter.count == 2


def _assert_no_recompile_passes_for_stable_signature():
    step = jax.jit(lambda params, x: params["w"] * x)
    arg_sets = [({"w": jnp.ones(2)}, jnp.full(2, float(i))) for i in range(3)]
    assert assert_no_recompile(step, *arg_sets) == 1


def _assert_no_recompile_catches_shape_change():
    step = jax.jit(lambda x: 2 * x)
    with pytest.raises(AssertionError, match=r"recompiled on argument set 1: .*float32\[3\]"):
        assert_no_recompile(step, jnp.ones(2), jnp.ones(3))


def _assert_no_recompile_plain_function_weak_type_change():
    """A Python float then a float32 array: different weak types, a second compilation."""

    def scale(x, factor):
        return x * factor

    assert assert_no_recompile(scale, (jnp.ones(2), 1.0), (jnp.ones(2), 2.0)) == 1
    with pytest.raises(AssertionError, match="recompiled on argument set 1"):
        assert_no_recompile(scale, (jnp.ones(2), 1.0), (jnp.ones(2), jnp.float32(2.0)))


def test_assert_no_recompile_needs_two_sets():
    with pytest.raises(ValueError, match="at least 2 argument sets, got 1"):
        assert_no_recompile(jax.jit(jnp.sin), jnp.ones(2))


def test_count_compilations_rejects_non_callable():
    with pytest.raises(TypeError, match="fn must be callable, got int"):
        count_compilations(3)


# --- pytree comparisons ------------------------------------------------------------------


def test_pytrees_allclose_passes_within_tolerance(key):
    tree = {"w": jnp.ones((2, 2)), "n": jnp.array(3), "key": key, "flag": jnp.array(True)}
    near = {"w": jnp.ones((2, 2)) + 1e-8, "n": jnp.array(3), "key": key, "flag": jnp.array(True)}
    assert_pytrees_allclose(tree, near)


def test_pytrees_allclose_names_first_differing_path():
    actual = {"a": jnp.ones(3), "b": (jnp.zeros(2), jnp.array([1.0, 2.0, 3.0]))}
    expected = {"a": jnp.ones(3), "b": (jnp.zeros(2), jnp.array([1.0, 2.5, 3.0]))}
    with pytest.raises(
        AssertionError, match=r"at \['b'\]\[1\]: 1 of 3 values differ .*index \(1,\)"
    ):
        assert_pytrees_allclose(actual, expected)


def test_pytrees_allclose_structure_shape_dtype_and_key_mismatch(key):
    with pytest.raises(AssertionError, match="pytree structures differ"):
        assert_pytrees_allclose({"a": jnp.ones(2)}, {"b": jnp.ones(2)})
    with pytest.raises(AssertionError, match=r"shapes differ, actual \(2,\) vs expected \(3,\)"):
        assert_pytrees_allclose(jnp.ones(2), jnp.ones(3))
    with pytest.raises(AssertionError, match="dtypes differ, actual int32 vs expected float32"):
        assert_pytrees_allclose(jnp.ones(2, jnp.int32), jnp.ones(2))
    assert_pytrees_allclose(jnp.ones(2, jnp.int32), jnp.ones(2), check_dtypes=False)
    first, second = jax.random.split(key)
    with pytest.raises(AssertionError, match="values differ"):
        assert_pytrees_allclose(first, second)
    with pytest.raises(AssertionError, match="one leaf is a PRNG key"):
        assert_pytrees_allclose(first, jnp.zeros((), jnp.uint32))


def test_pytrees_allclose_nan_handling():
    assert_pytrees_allclose(jnp.array([jnp.nan, 1.0]), jnp.array([jnp.nan, 1.0]))
    with pytest.raises(AssertionError, match="index \\(0,\\)"):
        assert_pytrees_allclose(
            jnp.array([jnp.nan, 1.0]), jnp.array([jnp.nan, 1.0]), equal_nan=False
        )


def test_bitwise_equal():
    x = jnp.array([0.0, 1.0, jnp.nan])
    assert_bitwise_equal({"x": x}, {"x": jnp.array([0.0, 1.0, jnp.nan])})
    with pytest.raises(AssertionError, match=r"at \['x'\]: 1 of 3 values differ bitwise"):
        assert_bitwise_equal({"x": x}, {"x": jnp.array([-0.0, 1.0, jnp.nan])})
    with pytest.raises(AssertionError, match="dtypes differ"):
        assert_bitwise_equal(jnp.ones(2), jnp.ones(2, jnp.bfloat16))
    with pytest.raises(AssertionError, match="pytree structures differ"):
        assert_bitwise_equal((jnp.ones(2),), [jnp.ones(2)])


def test_bitwise_equal_same_key_same_draws(key):
    first, second = jax.random.split(key)
    copy = jax.random.wrap_key_data(jax.random.key_data(first))
    assert_bitwise_equal(jax.random.normal(first, (3,)), jax.random.normal(copy, (3,)))
    with pytest.raises(AssertionError, match="differ bitwise"):
        assert_bitwise_equal(jax.random.normal(second, (3,)), jnp.zeros(3))


def _in_fresh_interpreter(body: str) -> None:
    """Run ``body`` (a function of this module) in a new Python process.

    jit-cache sizes are process-wide state: deep into a long pytest worker (after some
    thousand compiled programs) a fresh ``jax.jit`` function was seen not to grow its
    ``_cache_size`` on a new signature, so these counts are checked where nothing else
    has compiled.
    """
    root = pathlib.Path(__file__).resolve().parents[2]
    code = f"import tests.testing.test_invariants as m; m.{body}()"
    env = {**os.environ, "JAX_PLATFORMS": "cpu", "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.parametrize(
    "body",
    [
        "_count_compilations_as_context_manager",
        "_assert_no_recompile_passes_for_stable_signature",
        "_assert_no_recompile_catches_shape_change",
        "_assert_no_recompile_plain_function_weak_type_change",
    ],
)
def test_compilation_counts_in_a_fresh_interpreter(body):
    _in_fresh_interpreter(body)
