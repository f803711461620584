"""Numerical gradient checking by central differences in float64.

The checker compares the derivatives JAX computes (``jax.grad``, ``jax.jvp``) with
central finite differences of the same function, evaluated in float64 whatever the
precision of the inputs. Every public differentiable function of jaxdl is tested
this way, and researchers can use the same tool on their own models.

Central difference along a direction ``v`` with step ``h``::

    D_v f(x) ~= (f(x + h v) - f(x - h v)) / (2 h),     error O(h^2 f''') + O(eps |f| / h)

The two error terms balance at ``h ~ eps^(1/3)``, so the step is the relative rule
``h = eps^(1/3) * max(1, |x|)`` with ``eps`` the machine epsilon of float64.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.flatten_util import ravel_pytree

from jaxdl._checks import check_positive, check_positive_int
from jaxdl.typing import Array, Key, PyTree

MODES = ("full", "sampled", "directions", "hvp")
"""The checking modes understood by :func:`check_grads`."""

_EPS64 = float(np.finfo(np.float64).eps)
_DEFAULT_STEP = _EPS64 ** (1.0 / 3.0)
# Rounding noise of a central difference is about eps * |f| / h; a generous multiple
# of it is added to the tolerance so large function values do not cause false alarms.
_NOISE_FACTOR = 64.0
# hvp without a key materialises two n x n Hessians; beyond this it needs random directions.
_MAX_FULL_HESSIAN = 2048


class LeafReport(NamedTuple):
    """Comparison of analytic and numerical derivatives for one parameter leaf.

    Attributes:
        path: the leaf's path in the parameter tree (``jax.tree_util.keystr``).
        max_relative_error: largest ``|a - n| / max(|a|, |n|, atol / rtol)``.
        max_absolute_error: largest ``|a - n|``.
        worst_index: where the relative error is largest: an index into the leaf
            ("full", "sampled"), ``(direction,)`` ("directions") or
            ``(direction, *index)`` ("hvp").
        analytic: the analytic value at ``worst_index``.
        numeric: the finite-difference value at ``worst_index``.
        num_checked: how many derivative values were compared.
        passed: whether every compared value lies within tolerance.
    """

    path: str
    max_relative_error: float
    max_absolute_error: float
    worst_index: tuple[int, ...]
    analytic: float
    numeric: float
    num_checked: int
    passed: bool


@dataclasses.dataclass(frozen=True)
class GradCheckReport:
    """Result of :func:`check_grads`: one :class:`LeafReport` per parameter leaf.

    Attributes:
        mode: the checking mode ("full", "sampled", "directions" or "hvp").
        leaves: per-leaf reports, in tree-flattening order.
        rtol: relative tolerance used.
        atol: absolute tolerance used (also the floor of the relative error).
        step: base relative step of the finite differences.
        value: the function value at the checked point (float64).
    """

    mode: str
    leaves: tuple[LeafReport, ...]
    rtol: float
    atol: float
    step: float
    value: float

    @property
    def passed(self) -> bool:
        """True when every leaf passed."""
        return all(leaf.passed for leaf in self.leaves)

    @property
    def worst(self) -> LeafReport:
        """The leaf with the largest relative error."""
        return max(self.leaves, key=lambda leaf: (leaf.max_relative_error, leaf.max_absolute_error))

    @property
    def failed(self) -> tuple[LeafReport, ...]:
        """The leaves that did not pass."""
        return tuple(leaf for leaf in self.leaves if not leaf.passed)

    def __getitem__(self, path: str) -> LeafReport:
        """The report of the leaf whose path is ``path`` (e.g. ``"['Dense_0']['kernel']"``)."""
        for leaf in self.leaves:
            if leaf.path == path:
                return leaf
        known = ", ".join(leaf.path for leaf in self.leaves)
        raise KeyError(f"no parameter leaf with path {path!r}; paths are: {known}")

    def __str__(self) -> str:
        header = (
            f"gradient check (mode={self.mode!r}, rtol={self.rtol:g}, atol={self.atol:g}, "
            f"step={self.step:.3g}): {'passed' if self.passed else 'FAILED'}"
        )
        columns = ("path", "max rel err", "max abs err", "worst index", "analytic", "numeric", "")
        rows = [
            (
                leaf.path or "<root>",
                f"{leaf.max_relative_error:.3e}",
                f"{leaf.max_absolute_error:.3e}",
                str(leaf.worst_index),
                f"{leaf.analytic:.8g}",
                f"{leaf.numeric:.8g}",
                "ok" if leaf.passed else "FAIL",
            )
            for leaf in self.leaves
        ]
        widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
        lines = [header]
        for row in [columns, *rows]:
            lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
        return "\n".join(line.rstrip() for line in lines)

    def failure_message(self) -> str:
        """A message naming the worst leaf, its index, both values and the tolerances."""
        worst = self.worst
        failing = ", ".join(leaf.path or "<root>" for leaf in self.failed)
        return (
            f"gradient check failed (mode={self.mode!r}): worst leaf {worst.path or '<root>'} "
            f"at index {worst.worst_index}: analytic {worst.analytic:.10g} vs numeric "
            f"{worst.numeric:.10g} (relative error {worst.max_relative_error:.3e}, absolute "
            f"error {worst.max_absolute_error:.3e}; tolerances rtol={self.rtol:g}, "
            f"atol={self.atol:g}). Failing leaves: {failing}.\n{self}"
        )


def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _clone_key(x: Any) -> Any:
    """A fresh copy of a typed key, so repeated evaluations at a fixed key are not reuse."""
    if _is_key(x):
        return jax.random.wrap_key_data(jax.random.key_data(x), impl=jax.random.key_impl(x))
    return x


def _clone_keys(tree: PyTree) -> PyTree:
    return jax.tree_util.tree_map(_clone_key, tree)


def _to_float64_arg(x: Any) -> Any:
    """Cast floating arrays to float64; leave keys, integers and non-arrays untouched."""
    if _is_key(x):
        return x
    if isinstance(x, jax.Array | np.ndarray | np.generic) and jnp.issubdtype(x.dtype, jnp.floating):
        return jnp.asarray(x, dtype=jnp.float64)
    return x


def _params_to_float64(params: PyTree) -> PyTree:
    def cast(path, x):
        name = jax.tree_util.keystr(path) or "<root>"
        if _is_key(x):
            raise TypeError(
                f"params leaf {name} is a PRNG key; pass keys as extra arguments, "
                "params must hold floating arrays only"
            )
        dtype = jnp.result_type(x)
        if not jnp.issubdtype(dtype, jnp.floating):
            raise TypeError(
                f"params leaf {name} must have a floating dtype to be differentiated, got "
                f"{dtype}; pass non-float values as extra arguments"
            )
        return jnp.asarray(x, dtype=jnp.float64)

    return jax.tree_util.tree_map_with_path(cast, params)


class _Leaf(NamedTuple):
    path: str
    shape: tuple[int, ...]
    offset: int
    size: int


def _leaf_layout(params: PyTree) -> list[_Leaf]:
    layout = []
    offset = 0
    for path, leaf in jax.tree_util.tree_flatten_with_path(params)[0]:
        size = int(np.size(leaf))
        layout.append(_Leaf(jax.tree_util.keystr(path), tuple(np.shape(leaf)), offset, size))
        offset += size
    return layout


def _compare(
    analytic: np.ndarray, numeric: np.ndarray, noise: np.ndarray, rtol: float, atol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Absolute error, relative error and pass flags of paired derivative values."""
    abs_err = np.abs(analytic - numeric)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), max(atol / rtol, 1e-300))
    rel_err = abs_err / scale
    ok = (rel_err <= rtol) | (abs_err <= noise)
    bad = ~np.isfinite(analytic) | ~np.isfinite(numeric)
    rel_err = np.where(bad, np.inf, rel_err)
    return abs_err, rel_err, ok & ~bad


def _summarise(
    path: str,
    analytic: np.ndarray,
    numeric: np.ndarray,
    noise: np.ndarray,
    index_of: Callable[[int], tuple[int, ...]],
    rtol: float,
    atol: float,
) -> LeafReport:
    """Reduce paired values of one leaf to a :class:`LeafReport`.

    ``index_of`` maps a position in the paired arrays to the index shown to the user.
    """
    if analytic.size == 0:
        return LeafReport(path, 0.0, 0.0, (), 0.0, 0.0, 0, True)
    abs_err, rel_err, ok = _compare(analytic, numeric, noise, rtol, atol)
    if np.all(ok):
        worst = int(np.argmax(rel_err))
    else:  # the worst index shown is a failing one
        failing = np.flatnonzero(~ok)
        worst = int(failing[np.argmax(rel_err[failing])])
    return LeafReport(
        path=path,
        max_relative_error=float(np.max(rel_err)),
        max_absolute_error=float(np.max(abs_err)),
        worst_index=tuple(int(i) for i in index_of(worst)),
        analytic=float(analytic[worst]),
        numeric=float(numeric[worst]),
        num_checked=int(analytic.size),
        passed=bool(np.all(ok)),
    )


def check_grads(
    fn: Callable[..., Array],
    params: PyTree,
    *args: Any,
    mode: str = "full",
    num_samples: int = 8,
    key: Key | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    step: float | None = None,
    batch_size: int | None = 64,
) -> GradCheckReport:
    """Compare JAX derivatives of ``fn`` with float64 central differences.

    For each checked coordinate or direction ``v`` of the flattened parameters ``x``,
    the numerical derivative is ``(f(x + h v) - f(x - h v)) / (2 h)`` with the relative
    step ``h = step * max(1, |x|)`` (``step = eps_float64^(1/3)`` by default) and the
    value is accepted when ``|a - n| <= max(rtol * max(|a|, |n|), atol)`` or lies below
    the rounding noise ``64 eps |f| / h`` of the difference quotient.

    Modes:
        - ``"full"``: every coordinate (the +/- evaluations are vmapped in chunks of
          ``batch_size`` with ``lax.map``); for small models.
        - ``"sampled"``: ``num_samples`` random coordinates per leaf (needs ``key``).
        - ``"directions"``: ``num_samples`` random unit directions per leaf, comparing
          ``grad . v`` with the difference quotient along ``v`` (needs ``key``).
        - ``"hvp"``: second order, Hessian-vector products ``jvp(grad f)(x; v)`` against
          ``(grad f(x + h v) - grad f(x - h v)) / (2 h)``; with ``key``, ``num_samples``
          random unit directions; without, every coordinate direction (the full Hessian).

    Args:
        fn: ``fn(params, *args)`` returning a real scalar. Must follow its inputs'
            dtype (the check runs in float64).
        params: the pytree differentiated (any nesting, flax parameter dicts included);
            every leaf must be floating. Cast to float64 for the check.
        *args: extra arguments held fixed. Floating arrays are cast to float64; typed
            PRNG keys, integers and other objects pass through untouched.
        mode: one of ``"full"``, ``"sampled"``, ``"directions"``, ``"hvp"``.
        num_samples: coordinates or directions per leaf (sampled, directions) or
            directions in total (hvp with a key).
        key: PRNG key choosing coordinates or directions.
        rtol: relative tolerance.
        atol: absolute tolerance, also the floor of the relative error's denominator.
        step: base relative step (default ``eps^(1/3)`` of float64, about 6e-6).
        batch_size: perturbations evaluated at once by ``vmap``; ``None`` evaluates
            them one after another (``lax.scan``), for functions that do not vmap.

    Returns:
        A :class:`GradCheckReport` with one :class:`LeafReport` per parameter leaf.

    Raises:
        ValueError: unknown ``mode``, missing ``key``, bad tolerances, empty ``params``
            or ``fn`` not returning a scalar.
        TypeError: non-floating ``params`` leaves or ``fn`` not computing in float64.

    References:
        Nocedal and Wright, *Numerical Optimization*, 2nd ed. (2006), section 8.1:
        finite-difference derivative approximations and the choice of step.

    Example:
        >>> import jax.numpy as jnp
        >>> report = check_grads(lambda p, x: jnp.sum(jnp.tanh(p["w"] * x)),
        ...                      {"w": jnp.ones(3)}, jnp.arange(3.0))
        >>> report.passed
        True
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode in ("sampled", "directions") and key is None:
        raise ValueError(f"mode={mode!r} needs a PRNG key: pass key=jax.random.key(seed)")
    if key is not None and not _is_key(key):
        raise TypeError(
            f"key must be a typed PRNG key from jax.random.key(seed), got {type(key).__name__}"
        )
    check_positive_int("num_samples", num_samples)
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
    check_positive("rtol", rtol)
    check_positive("atol", atol, allow_zero=True)
    if step is not None:
        check_positive("step", step)
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    base_step = _DEFAULT_STEP if step is None else float(step)

    with jax.enable_x64(True), jax.numpy_dtype_promotion("standard"):
        params64 = _params_to_float64(params)
        layout = _leaf_layout(params64)
        if not layout or sum(leaf.size for leaf in layout) == 0:
            raise ValueError(
                "params must contain at least one floating entry, got "
                f"{'an empty tree' if not layout else 'only empty arrays'}"
            )
        args64 = tuple(jax.tree_util.tree_map(_to_float64_arg, args))
        x, unravel = ravel_pytree(params64)

        def f_flat(x_flat: Array, fixed_args: tuple) -> Array:
            # Each evaluation gets its own copy of any key: holding the key fixed across
            # the +/- evaluations is the point, not an accidental reuse.
            return fn(unravel(x_flat), *_clone_keys(fixed_args))

        out = jax.eval_shape(f_flat, x, _clone_keys(args64))
        if not isinstance(out, jax.ShapeDtypeStruct):
            raise ValueError(f"fn must return a scalar array, got a {type(out).__name__}")
        if out.shape != ():
            raise ValueError(f"fn must return a scalar, got output of shape {out.shape}")
        if out.dtype != jnp.float64:
            raise TypeError(
                f"fn must return a float64 scalar when given float64 params, got {out.dtype}; "
                "the check needs float64 arithmetic, so make fn follow its inputs' dtype "
                "(no hard-coded float32 casts)"
            )

        if mode == "hvp":
            value, leaves = _check_hvp(
                f_flat, x, args64, layout, key, num_samples, base_step, batch_size, rtol, atol
            )
        else:
            value, leaves = _check_first_order(
                f_flat, x, args64, layout, mode, key, num_samples, base_step, batch_size, rtol, atol
            )
    return GradCheckReport(
        mode=mode, leaves=tuple(leaves), rtol=rtol, atol=atol, step=base_step, value=value
    )


def _steps(x: np.ndarray, base_step: float) -> np.ndarray:
    """Relative steps ``base * max(1, |x|)`` rounded so that ``x + h`` is exact."""
    h = base_step * np.maximum(1.0, np.abs(x))
    return (x + h) - x


def _check_first_order(
    f_flat: Callable,
    x: Array,
    args: tuple,
    layout: list[_Leaf],
    mode: str,
    key: Key | None,
    num_samples: int,
    base_step: float,
    batch_size: int | None,
    rtol: float,
    atol: float,
) -> tuple[float, list[LeafReport]]:
    x_np = np.asarray(x)
    # One draw of randomness shared by all leaves.
    if mode == "full":
        draws = None
    elif mode == "sampled":
        draws = np.asarray(jax.random.uniform(key, (x.size,), dtype=jnp.float64))
    else:
        draws = np.asarray(jax.random.normal(key, (num_samples, x.size), dtype=jnp.float64))

    # Each leaf owns a block of probes: coordinate indices ("full", "sampled") or
    # (leaf, sample) pairs naming a unit direction supported on that leaf ("directions").
    # Directions are built inside the compiled program from the shared draws, so memory
    # stays O(num_samples * num_params) however many leaves there are.
    blocks: list[np.ndarray] = []
    if mode in ("full", "sampled"):
        for leaf in layout:
            if mode == "full" or leaf.size <= num_samples:
                blocks.append(np.arange(leaf.size))
            else:
                priorities = draws[leaf.offset : leaf.offset + leaf.size]
                blocks.append(np.sort(np.argsort(priorities)[:num_samples]))
        coordinates = np.concatenate(
            [leaf.offset + b for leaf, b in zip(layout, blocks, strict=True)]
        )
        probes = coordinates.astype(np.int32)
        steps = _steps(x_np, base_step)[coordinates]
        # Placeholders: the direction inputs of the compiled program are unused here.
        segment, norms, draws = np.zeros(1, np.int32), np.ones((1, 1)), np.zeros((1, 1))
    else:
        segment = np.repeat(np.arange(len(layout), dtype=np.int32), [s.size for s in layout])
        norms = np.ones((len(layout), num_samples))
        probe_list, steps_list = [], []
        for i, leaf in enumerate(layout):
            count = num_samples if leaf.size else 0
            if count:
                cols = slice(leaf.offset, leaf.offset + leaf.size)
                norms[i] = np.linalg.norm(draws[:, cols], axis=1)
                scale = base_step * max(1.0, float(np.max(np.abs(x_np[cols]))))
                probe_list.append(np.stack([np.full(count, i), np.arange(count)], axis=1))
                steps_list.append(np.full(count, scale))
            blocks.append(np.arange(count))
        probes = np.concatenate(probe_list).astype(np.int32)
        steps = np.concatenate(steps_list)

    along_coordinates = mode != "directions"

    @jax.jit
    def evaluate(x, fixed_args, probes, steps, draws, segment, norms):
        value, grad = jax.value_and_grad(f_flat)(x, fixed_args)

        def one(probe_and_step):
            probe, h = probe_and_step
            if along_coordinates:
                plus, minus = x.at[probe].add(h), x.at[probe].add(-h)
                analytic = grad[probe]
            else:
                leaf, sample = probe[0], probe[1]
                v = jnp.where(segment == leaf, draws[sample], 0.0) / norms[leaf, sample]
                plus, minus = x + h * v, x - h * v
                analytic = jnp.dot(v, grad)
            f_plus, f_minus = f_flat(plus, fixed_args), f_flat(minus, fixed_args)
            magnitude = jnp.maximum(jnp.abs(f_plus), jnp.abs(f_minus)) / h
            return analytic, (f_plus - f_minus) / (2 * h), magnitude

        analytic, numeric, magnitude = lax.map(one, (probes, steps), batch_size=batch_size)
        return value, analytic, numeric, magnitude

    value, analytic, numeric, magnitude = evaluate(
        x,
        _clone_keys(args),
        jnp.asarray(probes),
        jnp.asarray(steps),
        jnp.asarray(draws),
        jnp.asarray(segment),
        jnp.asarray(norms),
    )
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    noise = _NOISE_FACTOR * _EPS64 * np.asarray(magnitude)

    reports = []
    start = 0
    for leaf, block in zip(layout, blocks, strict=True):
        sl = slice(start, start + block.size)
        start += block.size
        if along_coordinates:

            def index_of(k, block=block, shape=leaf.shape):
                return np.unravel_index(block[k], shape)

        else:

            def index_of(k):
                return (k,)

        reports.append(
            _summarise(leaf.path, analytic[sl], numeric[sl], noise[sl], index_of, rtol, atol)
        )
    return float(value), reports


def _check_hvp(
    f_flat: Callable,
    x: Array,
    args: tuple,
    layout: list[_Leaf],
    key: Key | None,
    num_samples: int,
    base_step: float,
    batch_size: int | None,
    rtol: float,
    atol: float,
) -> tuple[float, list[LeafReport]]:
    n = x.size
    x_np = np.asarray(x)
    value_and_grad = jax.value_and_grad(f_flat)
    if key is None and n > _MAX_FULL_HESSIAN:
        raise ValueError(
            f"mode='hvp' without a key compares the whole {n} x {n} Hessian; above "
            f"{_MAX_FULL_HESSIAN} parameters pass key=jax.random.key(seed) to check "
            "num_samples random directions instead"
        )
    if key is None:  # every coordinate direction: the whole Hessian, column by column
        num_directions = n
        steps = _steps(x_np, base_step)
        directions = np.zeros((1, n))  # unused placeholder, one-hot vectors are built inside
    else:
        v = np.asarray(jax.random.normal(key, (num_samples, n), dtype=jnp.float64))
        directions = v / np.linalg.norm(v, axis=1, keepdims=True)
        num_directions = num_samples
        steps = np.full(num_samples, base_step * max(1.0, float(np.max(np.abs(x_np)))))
    use_basis = key is None

    def grad_at(y: Array, fixed_args: tuple) -> Array:
        return value_and_grad(y, fixed_args)[1]

    @jax.jit
    def hessian_products(x, fixed_args, directions, steps):
        def one(j):
            v = jnp.zeros_like(x).at[j].set(1.0) if use_basis else directions[j]
            step = steps[j]
            analytic = jax.jvp(lambda y: grad_at(y, fixed_args), (x,), (v,))[1]
            plus = grad_at(x + step * v, fixed_args)
            minus = grad_at(x - step * v, fixed_args)
            numeric = (plus - minus) / (2 * step)
            magnitude = jnp.maximum(jnp.max(jnp.abs(plus)), jnp.max(jnp.abs(minus))) / step
            return analytic, numeric, magnitude

        products = lax.map(one, jnp.arange(num_directions), batch_size=batch_size)
        return value_and_grad(x, fixed_args)[0], products

    value, (analytic, numeric, magnitude) = hessian_products(
        x, _clone_keys(args), jnp.asarray(directions), jnp.asarray(steps)
    )
    analytic, numeric = np.asarray(analytic), np.asarray(numeric)
    noise = np.broadcast_to(_NOISE_FACTOR * _EPS64 * np.asarray(magnitude)[:, None], analytic.shape)
    reports = []
    for leaf in layout:
        cols = slice(leaf.offset, leaf.offset + leaf.size)

        def index_of(k, size=leaf.size, shape=leaf.shape):
            direction, column = divmod(k, size)
            return (direction, *np.unravel_index(column, shape))

        reports.append(
            _summarise(
                leaf.path,
                analytic[:, cols].reshape(-1),
                numeric[:, cols].reshape(-1),
                noise[:, cols].reshape(-1),
                index_of,
                rtol,
                atol,
            )
        )
    return float(value), reports


def assert_grads_close(
    fn: Callable[..., Array],
    params: PyTree,
    *args: Any,
    mode: str = "full",
    num_samples: int = 8,
    key: Key | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    step: float | None = None,
    batch_size: int | None = 64,
) -> GradCheckReport:
    """Assert that JAX derivatives of ``fn`` match float64 central differences.

    Same arguments and criterion as :func:`check_grads`; see there for the maths.

    Args:
        fn: ``fn(params, *args)`` returning a real scalar.
        params: pytree of floating arrays (flax params included) to differentiate.
        *args: extra arguments held fixed (keys pass through untouched).
        mode: ``"full"``, ``"sampled"``, ``"directions"`` or ``"hvp"``.
        num_samples: coordinates or directions per leaf (total directions for hvp).
        key: PRNG key for the sampled, directions and (optionally) hvp modes.
        rtol: relative tolerance.
        atol: absolute tolerance.
        step: base relative step (default ``eps_float64^(1/3)``).
        batch_size: perturbations evaluated at once by ``vmap`` (``None``: one by one).

    Returns:
        The :class:`GradCheckReport` when every leaf passes.

    Raises:
        AssertionError: naming the worst leaf, its index, the analytic and numeric
            values and the tolerances, followed by the full report table.

    Example:
        >>> import jax.numpy as jnp
        >>> _ = assert_grads_close(lambda p: jnp.sum(p ** 3), jnp.array([1.0, -2.0]))
    """
    report = check_grads(
        fn,
        params,
        *args,
        mode=mode,
        num_samples=num_samples,
        key=key,
        rtol=rtol,
        atol=atol,
        step=step,
        batch_size=batch_size,
    )
    if not report.passed:
        raise AssertionError(report.failure_message())
    return report


__all__ = [
    "MODES",
    "GradCheckReport",
    "LeafReport",
    "assert_grads_close",
    "check_grads",
]
