"""``fit``'s checks at the boundary: key, data shapes, finite data, sizes and rates."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_positive_int
from jaxdl.optim.hyperparams import get_hyperparams
from jaxdl.training.state import TrainState
from jaxdl.typing import Batch, PyTree


def check_key(key, name: str = "key", *, batched: bool | None = False) -> None:
    """Refuse anything but a typed PRNG key (``jax.random.key(seed)``).

    Legacy raw ``uint32[2]`` keys (``jax.random.PRNGKey``) are refused too, with the fix:
    the house style uses typed keys, and a raw key is indistinguishable from integer data.
    ``batched=None`` accepts a scalar key or a 1-D batch of keys.

    Example:
        >>> import jax
        >>> check_key(jax.random.key(0))
        >>> check_key(0)
        Traceback (most recent call last):
        ...
        TypeError: key must be a typed PRNG key from jax.random.key(seed), got int
    """
    dtype = getattr(key, "dtype", None)
    if dtype is None or not jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        if dtype is not None and np.dtype(dtype) == np.uint32 and np.shape(key)[-1:] == (2,):
            raise TypeError(
                f"{name} must be a typed PRNG key from jax.random.key(seed), got a legacy "
                f"uint32{list(np.shape(key))} key; wrap it with jax.random.wrap_key_data({name})"
            )
        what = type(key).__name__ if dtype is None else f"{np.dtype(dtype)} array"
        raise TypeError(f"{name} must be a typed PRNG key from jax.random.key(seed), got {what}")
    ndim = np.ndim(key)
    allowed = {False: (0,), True: (1,), None: (0, 1)}[batched]
    if ndim not in allowed:
        raise ValueError(f"{name} must be a key of rank {allowed}, got shape {np.shape(key)}")


def num_examples(data: Batch, name: str) -> int:
    """The shared leading axis of ``data``'s arrays (checked non-empty and consistent)."""
    leaves = jax.tree.leaves(data)
    if not leaves:
        raise ValueError(f"{name} must be a pytree of arrays such as (x, y), got {data!r}")
    sizes = {int(np.shape(leaf)[0]) if np.ndim(leaf) else -1 for leaf in leaves}
    if len(sizes) != 1 or -1 in sizes:
        shapes = [np.shape(leaf) for leaf in leaves]
        raise ValueError(f"{name} arrays must share a leading example axis, got shapes {shapes}")
    (size,) = sizes
    if size == 0:
        raise ValueError(f"{name} is empty: it must hold at least one example")
    return size


def check_input_shape(state: TrainState, data: Batch, name: str) -> None:
    """``data[0]`` must have the example shape the model was initialized with."""
    if state.input_spec is None or not isinstance(data, tuple | list) or not data:
        return
    expected, _ = state.input_spec
    got = tuple(np.shape(data[0])[1:])
    if got != tuple(expected):
        raise ValueError(
            f"{name}[0] must have shape (N, {', '.join(map(str, expected))}) like the model's "
            f"example input, got {tuple(np.shape(data[0]))}"
        )


@jax.jit
def _first_nonfinite(arrays: list) -> list:
    out = []
    for array in arrays:
        bad = ~jnp.isfinite(array.reshape(-1))
        out.append((jnp.any(bad), jnp.argmax(bad)))
    return out


def check_finite_data(data: Batch, name: str) -> None:
    """Raise naming the array and the index of its first NaN / Inf (floating leaves only).

    One device reduction over all arrays and one transfer of the answer; pass
    ``check_finite_data=False`` to ``fit`` to skip it for very large data.
    """
    leaves = [
        (path, leaf)
        for path, leaf in jax.tree_util.tree_leaves_with_path(data)
        if jnp.issubdtype(jnp.result_type(leaf), jnp.inexact) and np.size(leaf)
    ]
    if not leaves:
        return
    found = jax.device_get(_first_nonfinite([jnp.asarray(leaf) for _, leaf in leaves]))
    for (path, leaf), (any_bad, flat_index) in zip(leaves, found, strict=True):
        if any_bad:
            index = tuple(int(i) for i in np.unravel_index(int(flat_index), np.shape(leaf)))
            value = np.asarray(leaf).reshape(-1)[int(flat_index)]
            where = name + jax.tree_util.keystr(path)
            raise ValueError(
                f"{where} holds a non-finite value ({value}) at index {index}; clean the data "
                "or pass check_finite_data=False to skip this check"
            )


def validate_fit_args(
    num_epochs: int,
    batch_size: int | None,
    num_examples: int,
    eval_every: int,
    epochs_per_chunk: int,
) -> None:
    """Positive sizes, and a batch no larger than the training set."""
    check_positive_int("num_epochs", num_epochs)
    check_positive_int("eval_every", eval_every)
    check_positive_int("epochs_per_chunk", epochs_per_chunk)
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
        if batch_size > num_examples:
            raise ValueError(
                f"batch_size must be <= the number of training examples ({num_examples}), "
                f"got {batch_size}"
            )


def check_shuffle(shuffle: bool | str, batch_size: int | None) -> None:
    """``shuffle`` must be ``True``, ``False`` or ``"iid"`` (which needs a batch size).

    ``"iid"`` is the lecture's SGD: every example of every step is drawn independently and
    uniformly from the training set, with replacement; an "epoch" is then ``N //
    batch_size`` such steps, so some examples are seen twice in it and others not at all.

    Example:
        >>> check_shuffle("iid", 1)
        >>> check_shuffle("iid", None)
        Traceback (most recent call last):
        ...
        ValueError: shuffle='iid' draws minibatches, so batch_size must be given, got None
    """
    if not (shuffle is True or shuffle is False or shuffle == "iid"):
        raise ValueError(f"shuffle must be True, False or 'iid', got {shuffle!r}")
    if shuffle == "iid" and batch_size is None:
        raise ValueError("shuffle='iid' draws minibatches, so batch_size must be given, got None")


def check_learning_rate(opt_state: PyTree) -> None:
    """An injected learning rate must be positive."""
    rate = get_hyperparams(opt_state).get("learning_rate")
    if rate is not None and np.all(np.isfinite(np.asarray(rate))) and np.any(np.asarray(rate) <= 0):
        raise ValueError(f"learning_rate must be > 0, got {np.asarray(rate)}")
