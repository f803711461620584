"""Hypothesis strategies for property tests of JAX code.

Import this module explicitly (``from jaxdl.testing import strategies as jst``): it
needs ``hypothesis``, a test extra that ``jaxdl.testing`` itself does not import.
The first example of a test pays JAX's compilation, so turn hypothesis' deadline off
(``settings(deadline=None)``, as the jaxdl test profile does).

Example:
    >>> import jax.numpy as jnp
    >>> from hypothesis import given, settings
    >>> from jaxdl.testing import strategies as jst
    >>> @settings(deadline=None, max_examples=5)
    ... @given(jst.float_arrays(shape=(3,)))
    ... def test_tanh_is_bounded(x):
    ...     assert bool(jnp.all(jnp.abs(jnp.tanh(x)) <= 1.0))
    >>> test_tanh_is_bounded()
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from jaxdl._checks import check_positive_int

OUTPUT_UNITS = ("linear", "sigmoid", "softmax")
"""Output units understood by :class:`jaxdl.nn.MLP`."""

_NON_DIFFERENTIABLE = ("step", "sign")
_ALIASES = ("logistic", "identity")


class MLPConfig(NamedTuple):
    """The architecture of a fully connected network, as drawn by :func:`mlp_configs`.

    Attributes:
        num_inputs: width of the input vector.
        features: widths of every layer, the last one being the number of outputs
            (the ``features`` argument of :class:`jaxdl.nn.MLP`).
        activations: one activation name per hidden layer (``len(features) - 1``).
        output: the output unit, one of :data:`OUTPUT_UNITS`.
    """

    num_inputs: int
    features: tuple[int, ...]
    activations: tuple[str, ...]
    output: str


def shapes(
    min_rank: int = 0, max_rank: int = 3, min_side: int = 1, max_side: int = 5
) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes with ``min_rank <= rank <= max_rank`` and sides in ``[min_side, max_side]``.

    Args:
        min_rank: smallest number of axes.
        max_rank: largest number of axes.
        min_side: smallest axis length (0 allows empty arrays).
        max_side: largest axis length.

    Returns:
        A strategy of shape tuples.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(deadline=None, max_examples=5)
        ... @given(shapes(min_rank=1, max_rank=2, max_side=3))
        ... def test_rank(shape):
        ...     assert 1 <= len(shape) <= 2 and max(shape) <= 3
        >>> test_rank()
    """
    check_positive_int("min_rank", min_rank, allow_zero=True)
    check_positive_int("max_rank", max_rank, allow_zero=True)
    check_positive_int("min_side", min_side, allow_zero=True)
    check_positive_int("max_side", max_side, allow_zero=True)
    if max_rank < min_rank:
        raise ValueError(f"max_rank must be >= min_rank={min_rank}, got {max_rank}")
    if max_side < min_side:
        raise ValueError(f"max_side must be >= min_side={min_side}, got {max_side}")
    return hnp.array_shapes(
        min_dims=min_rank, max_dims=max_rank, min_side=min_side, max_side=max_side
    )


def float_dtypes(
    *, include_half: bool = False, include_float64: bool = False
) -> st.SearchStrategy[np.dtype]:
    """Floating dtypes: float32, optionally float16 / bfloat16 and float64.

    float64 arrays only stay float64 under ``jax.enable_x64``, so it is opt-in.

    Args:
        include_half: also draw ``float16`` and ``bfloat16``.
        include_float64: also draw ``float64``.

    Returns:
        A strategy of NumPy dtypes.

    Example:
        >>> arrays = float_arrays(shape=(2,), dtype=float_dtypes(include_half=True))
    """
    dtypes = [np.dtype(np.float32)]
    if include_half:
        dtypes += [np.dtype(np.float16), np.dtype(jnp.bfloat16)]
    if include_float64:
        dtypes.append(np.dtype(np.float64))
    return st.sampled_from(dtypes)


def float_arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]] | None = None,
    dtype: Any = np.float32,
    min_value: float = -10.0,
    max_value: float = 10.0,
    *,
    as_jax: bool = True,
) -> st.SearchStrategy[Any]:
    """Arrays of finite floats in ``[min_value, max_value]`` (after rounding to ``dtype``).

    Args:
        shape: a fixed shape, a strategy of shapes, or ``None`` for :func:`shapes`.
        dtype: a floating dtype or a strategy of them (see :func:`float_dtypes`).
        min_value: smallest element.
        max_value: largest element.
        as_jax: return ``jax.Array`` (default) rather than ``np.ndarray``.

    Returns:
        A strategy of arrays without NaN or infinity.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(deadline=None, max_examples=5)
        ... @given(float_arrays(shape=(2, 3), min_value=0.0, max_value=1.0))
        ... def test_probabilities(x):
        ...     assert x.shape == (2, 3) and bool(jnp.all((x >= 0) & (x <= 1)))
        >>> test_probabilities()
    """
    if not min_value <= max_value:
        raise ValueError(f"max_value must be >= min_value={min_value}, got {max_value}")
    shape_strategy = shapes() if shape is None else shape
    if not isinstance(shape_strategy, st.SearchStrategy):
        shape_strategy = st.just(tuple(shape_strategy))
    if isinstance(dtype, st.SearchStrategy):
        dtype_strategy = dtype
    else:
        if not jnp.issubdtype(np.dtype(dtype), jnp.floating):
            raise TypeError(f"dtype must be a floating dtype, got {np.dtype(dtype)}")
        dtype_strategy = st.just(np.dtype(dtype))

    @st.composite
    def arrays(draw: st.DrawFn) -> Any:
        drawn_shape = draw(shape_strategy)
        target = np.dtype(draw(dtype_strategy))
        if not jnp.issubdtype(target, jnp.floating):
            raise TypeError(f"dtype must be a floating dtype, got {target}")
        source = np.dtype(np.float64 if target == np.float64 else np.float32)
        low, high = _inward_bounds(min_value, max_value, source)
        elements = st.floats(
            low, high, allow_nan=False, allow_infinity=False, width=8 * source.itemsize
        )
        values = draw(hnp.arrays(source, drawn_shape, elements=elements))
        # Rounding to a narrower dtype may step just outside the bounds: clip back.
        array = np.clip(values.astype(target), target.type(low), target.type(high))
        return jnp.asarray(array) if as_jax else array

    return arrays()


def _inward_bounds(low: float, high: float, dtype: np.dtype) -> tuple[float, float]:
    """``[low, high]`` rounded inwards to values representable in ``dtype``."""
    lo, hi = dtype.type(low), dtype.type(high)
    if lo < low:
        lo = np.nextafter(lo, dtype.type(np.inf))
    if hi > high:
        hi = np.nextafter(hi, dtype.type(-np.inf))
    if lo > hi:
        raise ValueError(f"no {dtype} value lies in [{low}, {high}]")
    return float(lo), float(hi)


def keys() -> st.SearchStrategy[jax.Array]:
    """Typed PRNG keys ``jax.random.key(seed)`` from integer seeds in ``[0, 2^32)``.

    Each drawn key is a fresh array, so tests under ``jax_debug_key_reuse`` may
    consume it once.

    Returns:
        A strategy of scalar typed key arrays.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(deadline=None, max_examples=3)
        ... @given(keys())
        ... def test_uniform_in_unit_interval(key):
        ...     assert 0.0 <= float(jax.random.uniform(key)) < 1.0
        >>> test_uniform_in_unit_interval()
    """
    return st.integers(min_value=0, max_value=2**32 - 1).map(jax.random.key)


def activation_names(
    *, differentiable_only: bool = True, include_aliases: bool = False
) -> st.SearchStrategy[str]:
    """Names of the activations in :data:`jaxdl.nn.activations.ACTIVATIONS`.

    Args:
        differentiable_only: leave out ``step`` and ``sign`` (zero gradient almost
            everywhere, so gradient-based properties do not apply).
        include_aliases: also draw the aliases ``logistic`` and ``identity``.

    Returns:
        A strategy of activation names accepted by :class:`jaxdl.nn.MLP`.

    Example:
        >>> names = activation_names(differentiable_only=False)  # step and sign too
    """
    from jaxdl.nn.activations import ACTIVATIONS

    names = [
        name
        for name in ACTIVATIONS
        if not (differentiable_only and name in _NON_DIFFERENTIABLE)
        and (include_aliases or name not in _ALIASES)
    ]
    return st.sampled_from(sorted(names))


def mlp_configs(
    *,
    max_inputs: int = 5,
    max_hidden_layers: int = 2,
    max_width: int = 6,
    max_outputs: int = 4,
    output_units: tuple[str, ...] = OUTPUT_UNITS,
    differentiable_only: bool = True,
) -> st.SearchStrategy[MLPConfig]:
    """Small fully connected architectures as :class:`MLPConfig`.

    A softmax output always gets at least 2 units.

    Args:
        max_inputs: largest input width (at least 1).
        max_hidden_layers: largest number of hidden layers (0 gives a linear model).
        max_width: largest hidden width.
        max_outputs: largest number of outputs.
        output_units: output units to draw from (subset of :data:`OUTPUT_UNITS`).
        differentiable_only: hidden activations exclude ``step`` and ``sign``.

    Returns:
        A strategy of :class:`MLPConfig`; build the model with
        ``MLP(features=c.features, activation=list(c.activations), output=c.output)``.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(deadline=None, max_examples=5)
        ... @given(mlp_configs(max_hidden_layers=2))
        ... def test_depth(config):
        ...     assert len(config.activations) == len(config.features) - 1 <= 2
        >>> test_depth()
    """
    check_positive_int("max_inputs", max_inputs)
    check_positive_int("max_hidden_layers", max_hidden_layers, allow_zero=True)
    check_positive_int("max_width", max_width)
    check_positive_int("max_outputs", max_outputs)
    unknown = [u for u in output_units if u not in OUTPUT_UNITS]
    if unknown or not output_units:
        raise ValueError(
            f"output_units must be a non-empty subset of {OUTPUT_UNITS}, got {output_units}"
        )
    if max_outputs < 2 and "softmax" in output_units:
        raise ValueError(f"a softmax output needs max_outputs >= 2, got {max_outputs}")
    activation = activation_names(differentiable_only=differentiable_only)

    @st.composite
    def configs(draw: st.DrawFn) -> MLPConfig:
        num_inputs = draw(st.integers(1, max_inputs))
        num_hidden = draw(st.integers(0, max_hidden_layers))
        hidden = draw(st.lists(st.integers(1, max_width), min_size=num_hidden, max_size=num_hidden))
        activations = draw(st.lists(activation, min_size=num_hidden, max_size=num_hidden))
        output = draw(st.sampled_from(output_units))
        num_outputs = draw(st.integers(2 if output == "softmax" else 1, max_outputs))
        return MLPConfig(num_inputs, (*hidden, num_outputs), tuple(activations), output)

    return configs()


def probability_vectors(
    k: int | st.SearchStrategy[int],
    *,
    min_probability: float = 1e-3,
    dtype: Any = np.float32,
    as_jax: bool = True,
) -> st.SearchStrategy[Any]:
    """Probability vectors of length ``k``: entries ``>= min_probability`` summing to 1.

    Drawn as positive weights in ``[min_probability, 1]`` normalised by their sum
    (so entries stay positive; ``min_probability=0`` allows exact zeros).

    Args:
        k: vector length or a strategy of lengths (each at least 1).
        min_probability: lower bound of the unnormalised weights, in ``[0, 1)``.
        dtype: floating dtype of the result.
        as_jax: return ``jax.Array`` (default) rather than ``np.ndarray``.

    Returns:
        A strategy of 1-D arrays ``p`` with ``p >= 0`` and ``sum(p) == 1`` up to rounding.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(deadline=None, max_examples=5)
        ... @given(probability_vectors(3))
        ... def test_sums_to_one(p):
        ...     assert abs(float(p.sum()) - 1.0) < 1e-5
        >>> test_sums_to_one()
    """
    if not 0.0 <= min_probability < 1.0:
        raise ValueError(f"min_probability must lie in [0, 1), got {min_probability}")
    if not isinstance(k, st.SearchStrategy):
        check_positive_int("k", k)
        k = st.just(k)

    @st.composite
    def vectors(draw: st.DrawFn) -> Any:
        length = draw(k)
        if length < 1:
            raise ValueError(f"k must be >= 1, got {length}")
        weights = draw(
            hnp.arrays(
                np.float64,
                (length,),
                elements=st.floats(min_probability, 1.0, allow_nan=False, allow_infinity=False),
            )
        )
        if not np.any(weights > 0):  # only reachable with min_probability == 0
            weights = np.ones_like(weights)
        p = (weights / weights.sum()).astype(dtype)
        return jnp.asarray(p) if as_jax else p

    return vectors()


def class_labels(
    num_classes: int | st.SearchStrategy[int],
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    *,
    as_jax: bool = True,
) -> st.SearchStrategy[Any]:
    """Integer class labels in ``[0, num_classes)``, int32, of a fixed or drawn shape.

    Draw two with the same shape for a (labels, predictions) pair; ``st.data()`` lets a
    test draw the number of classes and the length first.

    Args:
        num_classes: number of classes ``K`` (at least 1) or a strategy of them.
        shape: a fixed shape or a strategy of shapes.
        as_jax: return ``jax.Array`` (default) rather than ``np.ndarray``.

    Returns:
        A strategy of int32 arrays with entries in ``[0, K)``.

    Example:
        >>> from hypothesis import given, settings
        >>> @settings(deadline=None, max_examples=5)
        ... @given(class_labels(3, shape=(4,)))
        ... def test_in_range(y):
        ...     assert y.shape == (4,) and bool(jnp.all((y >= 0) & (y < 3)))
        >>> test_in_range()
    """
    if not isinstance(num_classes, st.SearchStrategy):
        check_positive_int("num_classes", num_classes)
        num_classes = st.just(num_classes)
    shape_strategy = shape if isinstance(shape, st.SearchStrategy) else st.just(tuple(shape))

    @st.composite
    def labels(draw: st.DrawFn) -> Any:
        k = draw(num_classes)
        if k < 1:
            raise ValueError(f"num_classes must be >= 1, got {k}")
        values = draw(hnp.arrays(np.int32, draw(shape_strategy), elements=st.integers(0, k - 1)))
        return jnp.asarray(values) if as_jax else values

    return labels()


__all__ = [
    "OUTPUT_UNITS",
    "MLPConfig",
    "activation_names",
    "class_labels",
    "float_arrays",
    "float_dtypes",
    "keys",
    "mlp_configs",
    "probability_vectors",
    "shapes",
]
