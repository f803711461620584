"""Invariants every public jaxdl function should satisfy, as reusable assertions.

- a function gives the same result jitted and run op by op (``jit == eager``);
- ``vmap`` over a batch gives the same result as a Python loop over its examples;
- a jitted step compiles once, not once per call (no hidden recompilation);
- pytrees compare leaf by leaf, with messages naming the first differing path.

PRNG keys found in the arguments are copied before each evaluation, so comparing two
evaluations at the same key does not trip ``jax_debug_key_reuse``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import chex
import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.testing.gradcheck import _clone_keys, _is_key, assert_grads_close
from jaxdl.typing import PyTree

assert_grad_matches_fd = assert_grads_close
"""Alias of :func:`jaxdl.testing.assert_grads_close` (gradients vs finite differences)."""


def _path_name(path: tuple) -> str:
    return jax.tree_util.keystr(path) or "<root>"


def _as_numpy(x: Any) -> Any:
    """A NumPy view of a leaf; keys become their raw key data."""
    if _is_key(x):
        return np.asarray(jax.random.key_data(x))
    return np.asarray(x)


def _leaves_with_paths(tree: PyTree) -> tuple[list[tuple[str, Any]], Any]:
    flat, treedef = jax.tree_util.tree_flatten_with_path(tree)
    return [(_path_name(p), leaf) for p, leaf in flat], treedef


def assert_pytrees_allclose(
    actual: PyTree,
    expected: PyTree,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    check_dtypes: bool = True,
    equal_nan: bool = True,
    err_msg: str = "",
) -> None:
    """Assert two pytrees have the same structure, shapes, dtypes and close values.

    Leaves are compared with ``|actual - expected| <= atol + rtol * |expected|``
    (NumPy's ``allclose``); integer, boolean and key leaves must match exactly
    up to the same tolerance (keys are compared through their key data).

    Args:
        actual: the pytree under test.
        expected: the reference pytree.
        rtol: relative tolerance.
        atol: absolute tolerance.
        check_dtypes: also require equal dtypes leaf by leaf.
        equal_nan: treat NaNs in the same places as equal.
        err_msg: text prepended to the failure message.

    Raises:
        AssertionError: naming the first differing path (in flattening order), the
            largest difference there, its index and both values.

    Example:
        >>> import jax.numpy as jnp
        >>> assert_pytrees_allclose({"w": jnp.ones(2)}, {"w": jnp.ones(2) + 1e-9})
    """
    prefix = f"{err_msg}: " if err_msg else ""
    actual_leaves, actual_def = _leaves_with_paths(actual)
    expected_leaves, expected_def = _leaves_with_paths(expected)
    try:
        chex.assert_trees_all_equal_structs(actual, expected)
    except AssertionError:
        raise AssertionError(
            f"{prefix}pytree structures differ:\n  actual:   {actual_def}\n"
            f"  expected: {expected_def}"
        ) from None
    for (path, a), (_, e) in zip(actual_leaves, expected_leaves, strict=True):
        if _is_key(a) != _is_key(e):
            raise AssertionError(f"{prefix}at {path}: one leaf is a PRNG key, the other is not")
        a_np, e_np = _as_numpy(a), _as_numpy(e)
        if a_np.shape != e_np.shape:
            raise AssertionError(
                f"{prefix}at {path}: shapes differ, actual {a_np.shape} vs expected {e_np.shape}"
            )
        a_dtype, e_dtype = jnp.result_type(a), jnp.result_type(e)
        if check_dtypes and a_dtype != e_dtype:
            raise AssertionError(
                f"{prefix}at {path}: dtypes differ, actual {a_dtype} vs expected {e_dtype}"
            )
        if a_np.size == 0:
            continue
        a64 = a_np.astype(np.float64) if a_np.dtype != np.bool_ else a_np.astype(np.int8)
        e64 = e_np.astype(np.float64) if e_np.dtype != np.bool_ else e_np.astype(np.int8)
        close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
        if not np.all(close):
            diff = np.abs(a64.astype(np.float64) - e64.astype(np.float64))
            diff = np.where(close, -np.inf, np.nan_to_num(diff, nan=np.inf))
            worst = np.unravel_index(int(np.argmax(diff)), a_np.shape)
            raise AssertionError(
                f"{prefix}at {path}: {int(np.sum(~close))} of {a_np.size} values differ "
                f"(rtol={rtol:g}, atol={atol:g}); largest difference at index "
                f"{tuple(int(i) for i in worst)}: actual {a_np[worst]!r} vs expected "
                f"{e_np[worst]!r}"
            )


def assert_bitwise_equal(actual: PyTree, expected: PyTree, *, err_msg: str = "") -> None:
    """Assert two pytrees are identical bit for bit (structure, shapes, dtypes, bytes).

    Stricter than ``allclose``: ``-0.0`` differs from ``0.0`` and NaN payloads count.
    Use it for determinism (same key, same result) and for resumed runs.

    Args:
        actual: the pytree under test.
        expected: the reference pytree.
        err_msg: text prepended to the failure message.

    Raises:
        AssertionError: naming the first differing path and index.

    Example:
        >>> import jax.numpy as jnp
        >>> assert_bitwise_equal((jnp.arange(3),), (jnp.arange(3),))
    """
    prefix = f"{err_msg}: " if err_msg else ""
    actual_leaves, actual_def = _leaves_with_paths(actual)
    expected_leaves, expected_def = _leaves_with_paths(expected)
    try:
        chex.assert_trees_all_equal_structs(actual, expected)
    except AssertionError:
        raise AssertionError(
            f"{prefix}pytree structures differ:\n  actual:   {actual_def}\n"
            f"  expected: {expected_def}"
        ) from None
    for (path, a), (_, e) in zip(actual_leaves, expected_leaves, strict=True):
        a_dtype, e_dtype = jnp.result_type(a), jnp.result_type(e)
        if a_dtype != e_dtype:
            raise AssertionError(
                f"{prefix}at {path}: dtypes differ, actual {a_dtype} vs expected {e_dtype}"
            )
        a_np, e_np = _as_numpy(a), _as_numpy(e)
        if a_np.shape != e_np.shape:
            raise AssertionError(
                f"{prefix}at {path}: shapes differ, actual {a_np.shape} vs expected {e_np.shape}"
            )
        a_bytes = np.ascontiguousarray(a_np).view(np.uint8).reshape(*a_np.shape, -1)
        e_bytes = np.ascontiguousarray(e_np).view(np.uint8).reshape(*e_np.shape, -1)
        same = np.all(a_bytes == e_bytes, axis=-1)
        if not np.all(same):
            worst = tuple(int(i) for i in np.argwhere(~same)[0])
            raise AssertionError(
                f"{prefix}at {path}: {int(np.sum(~same))} of {a_np.size} values differ "
                f"bitwise; first at index {worst}: actual {a_np[worst]!r} vs expected "
                f"{e_np[worst]!r}"
            )


def assert_jit_matches_eager(
    fn: Callable[..., Any],
    *args: Any,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    static_argnums: int | Sequence[int] = (),
    **kwargs: Any,
) -> Any:
    """Assert ``jax.jit(fn)(*args)`` equals ``fn(*args)`` run op by op.

    The eager run happens under ``jax.disable_jit()``, so jit decorators inside
    ``fn`` are switched off too; keys in ``args`` are copied for each run.

    Args:
        fn: the function under test, returning any pytree.
        *args: positional arguments.
        rtol: relative tolerance of the comparison.
        atol: absolute tolerance of the comparison.
        static_argnums: positions of arguments that are static under ``jit``.
        **kwargs: keyword arguments, treated as static (closed over).

    Returns:
        The jitted result.

    Raises:
        AssertionError: from :func:`assert_pytrees_allclose`, naming the first
            differing output path.

    Example:
        >>> import jax.numpy as jnp
        >>> _ = assert_jit_matches_eager(lambda x: jnp.cumsum(x) ** 2, jnp.arange(4.0))
    """
    bound = functools.partial(fn, **kwargs) if kwargs else fn
    with jax.disable_jit():
        eager = bound(*_clone_keys(args))
    jitted = jax.jit(bound, static_argnums=static_argnums)(*_clone_keys(args))
    assert_pytrees_allclose(
        jitted, eager, rtol=rtol, atol=atol, err_msg="jit result differs from eager result"
    )
    return jitted


def _normalise_in_axes(in_axes: Any, num_args: int) -> tuple:
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    if not isinstance(in_axes, tuple):
        return (in_axes,) * num_args
    if len(in_axes) != num_args:
        raise ValueError(
            f"in_axes must have one entry per argument ({num_args}), got {len(in_axes)}"
        )
    return in_axes


def _map_axes(fn: Callable[[str, Any, Any], Any], axes: tuple, args: tuple) -> Any:
    """Apply ``fn(path, axis, leaf)`` to every leaf of ``args``, ``axes`` being a prefix."""

    def over_subtree(axis_path: tuple, axis: Any, subtree: Any) -> Any:
        return jax.tree_util.tree_map_with_path(
            lambda leaf_path, leaf: fn(
                "args" + jax.tree_util.keystr(axis_path + leaf_path), axis, leaf
            ),
            subtree,
        )

    is_axis = lambda node: node is None  # None is an axis here, not an empty subtree
    try:
        jax.tree_util.tree_map(lambda axis, subtree: None, axes, args, is_leaf=is_axis)
    except ValueError as error:
        raise ValueError(f"in_axes must be a prefix of the arguments' structure: {error}") from None
    return jax.tree_util.tree_map_with_path(over_subtree, axes, args, is_leaf=is_axis)


def _all_array_leaves(tree: Any) -> bool:
    """Every leaf is an array, a NumPy scalar or a Python number: safe to pass to ``jit``."""
    return all(
        isinstance(leaf, (jax.Array, np.ndarray, np.generic, bool, int, float, complex))
        for leaf in jax.tree_util.tree_leaves(tree)
    )


def assert_vmap_matches_loop(
    fn: Callable[..., Any],
    *batched_args: Any,
    in_axes: Any = 0,
    rtol: float = 1e-5,
    atol: float = 1e-6,
) -> Any:
    """Assert ``jax.vmap(fn, in_axes)(*args)`` equals stacking ``fn`` over the batch.

    The loop calls ``fn`` on each example (every batched leaf indexed along its axis,
    ``None`` leaves passed whole) and stacks the outputs along axis 0. When every
    argument leaf is an array or a number, both the vmapped function and ``fn`` run
    under ``jax.jit`` (one compilation each; the batching rules are what is compared).

    Args:
        fn: the per-example function, returning any pytree.
        *batched_args: arguments carrying the batch axis (see ``in_axes``).
        in_axes: as in ``jax.vmap``: an int or ``None`` for all arguments, or one
            entry per argument, each an int, ``None`` or a pytree prefix of it.
        rtol: relative tolerance of the comparison.
        atol: absolute tolerance of the comparison.

    Returns:
        The vmapped result.

    Raises:
        ValueError: no batched argument, a leaf without the batch axis, or batched
            leaves of different sizes.
        AssertionError: naming the first differing output path.

    Example:
        >>> import jax.numpy as jnp
        >>> _ = assert_vmap_matches_loop(lambda x: x @ x, jnp.ones((3, 2)))
    """
    axes = _normalise_in_axes(in_axes, len(batched_args))
    sizes: dict[int, str] = {}

    def batch_size_of(path: str, axis: int | None, leaf: Any) -> None:
        if axis is None:
            return
        shape = jnp.shape(leaf)
        if not -len(shape) <= axis < len(shape):
            raise ValueError(f"batched leaf {path} of shape {shape} has no axis {axis}")
        sizes.setdefault(shape[axis], path)

    _map_axes(batch_size_of, axes, batched_args)
    if not sizes:
        raise ValueError("assert_vmap_matches_loop needs at least one batched argument")
    if len(sizes) != 1:
        found = ", ".join(f"{size} ({path})" for size, path in sorted(sizes.items()))
        raise ValueError(f"batched arguments must share one batch size, got sizes {found}")
    (batch,) = sizes
    # Both sides compiled when every argument is an array: the vmapped program once and the
    # per-example program once, instead of op-by-op dispatch of each (several times slower).
    compile_ = jax.jit if _all_array_leaves(batched_args) else (lambda f: f)
    vmapped = compile_(jax.vmap(fn, in_axes=axes))(*_clone_keys(batched_args))

    def example(b: int) -> tuple:
        def pick(path: str, axis: int | None, leaf: Any) -> Any:
            return leaf if axis is None else jnp.take(leaf, b, axis=axis)

        return _map_axes(pick, axes, _clone_keys(batched_args))

    single = compile_(fn)
    outputs = [single(*example(b)) for b in range(batch)]
    looped = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *outputs)
    assert_pytrees_allclose(
        vmapped, looped, rtol=rtol, atol=atol, err_msg="vmap result differs from the loop"
    )
    return vmapped


class count_compilations:  # noqa: N801 (used like a function: decorator / context manager)
    """Count how many times a function is traced (compiled), as decorator or context.

    As a decorator (or wrapper) of a Python function, ``count`` is the number of times
    its body ran; inside ``jax.jit`` that is the number of traces, i.e. compilations.
    As a context manager around a jitted function, ``count`` is the number of new
    compilations (growth of the jit cache) during the ``with`` block, frozen on exit.

    Args:
        fn: a Python function to wrap, or a ``jax.jit``-ed function to watch.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> @count_compilations
        ... def square(x):
        ...     return x * x
        >>> step = jax.jit(square)
        >>> _ = step(jnp.ones(2)); _ = step(jnp.zeros(2))
        >>> square.count
        1
        >>> with count_compilations(step) as counter:
        ...     _ = step(jnp.ones(3))
        >>> counter.count
        1
    """

    def __init__(self, fn: Callable[..., Any]):
        if not callable(fn):
            raise TypeError(f"fn must be callable, got {type(fn).__name__}")
        # Copy the name and docstring only: jitted functions carry the __dict__ of what
        # they wrap, which must not overwrite this counter's own attributes.
        functools.update_wrapper(self, fn, updated=())
        self._fn = fn
        self._traces = 0
        self._start: int | None = None
        self._frozen: int | None = None

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._traces += 1
        return self._fn(*args, **kwargs)

    def _total(self) -> int:
        cache_size = getattr(self._fn, "_cache_size", None)
        return int(cache_size()) if cache_size is not None else self._traces

    @property
    def count(self) -> int:
        """Traces so far (or new compilations since entering the ``with`` block)."""
        if self._frozen is not None:
            return self._frozen
        if self._start is not None:
            return self._total() - self._start
        return self._traces

    def __enter__(self) -> count_compilations:
        self._frozen = None
        self._start = self._total()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._frozen = self._total() - self._start
        self._start = None


def _signature(args: tuple) -> str:
    def describe(x: Any) -> str:
        if isinstance(x, jax.Array | np.ndarray):
            weak = ", weak" if getattr(x, "weak_type", False) else ""
            return f"{jnp.result_type(x)}{list(np.shape(x))}{weak}"
        return f"{type(x).__name__}({x!r})" if np.isscalar(x) else type(x).__name__

    return str(jax.tree_util.tree_map(describe, args))


def assert_no_recompile(fn: Callable[..., Any], *arg_sets: Any) -> int:
    """Assert ``fn`` compiles at most once over several argument sets.

    Each argument set (a tuple of positional arguments, or a single argument) is
    passed to ``fn`` in turn. A ``jax.jit``-ed function is watched through its
    cache; a plain Python function is jitted here under a trace counter. Use it to
    catch steps that retrace on every call (Python scalars that change, shapes or
    dtypes that drift, static arguments that are not hashable-stable).

    Args:
        fn: a jitted function (or a plain function to jit).
        *arg_sets: two or more argument sets.

    Returns:
        The number of compilations observed (0 or 1).

    Raises:
        ValueError: fewer than two argument sets.
        AssertionError: naming the argument set that triggered a new compilation
            and its argument signature next to the first one.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> step = jax.jit(lambda x: 2 * x)
        >>> assert_no_recompile(step, (jnp.ones(2),), (jnp.zeros(2),))
        1
    """
    if len(arg_sets) < 2:
        raise ValueError(f"assert_no_recompile needs at least 2 argument sets, got {len(arg_sets)}")
    sets = [s if isinstance(s, tuple) else (s,) for s in arg_sets]
    # Not chex.assert_max_traces: it keys its trace counts by the function's source
    # globally, so a second check of the same function (or of any lambda sharing a
    # wrapper's source) would count the first check's traces too.
    target = fn if hasattr(fn, "_cache_size") else jax.jit(count_compilations(fn))
    counter = count_compilations(target)
    with counter:
        for i, args in enumerate(sets):
            before = counter.count
            target(*_clone_keys(args))
            if i > 0 and counter.count > before:
                raise AssertionError(
                    f"fn recompiled on argument set {i}: signature {_signature(args)} "
                    f"after the first set {_signature(sets[0])}; "
                    f"{counter.count} new compilations during the check"
                )
    return counter.count


__all__ = [
    "assert_bitwise_equal",
    "assert_grad_matches_fd",
    "assert_jit_matches_eager",
    "assert_no_recompile",
    "assert_pytrees_allclose",
    "assert_vmap_matches_loop",
    "count_compilations",
]
