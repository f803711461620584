"""Training diagnostics that train: the overfit-a-small-batch check.

:func:`overfit_small_batch_check` is the sanity check of training on a handful of
examples until the loss is near zero; a model that cannot do this has a bug (or far too
little capacity). It runs on the one engine, :func:`jaxdl.training.fit` (full-batch Adam).
The per-step gradient-norm trace of the optimization lectures stays in
``jaxdl.optim.diagnostics``: it is a course diagnostic of the optimizer, not a training run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import check_nonempty, check_positive, check_positive_int, check_same_leading
from jaxdl.training.loop import fit
from jaxdl.training.state import TrainState
from jaxdl.typing import Array, ArrayLike, Key, PyTree


class OverfitReport(NamedTuple):
    """Output of :func:`overfit_small_batch_check`.

    Attributes:
        passed: whether the final loss fell below the tolerance.
        final_loss: loss after the last step.
        losses: ``[num_steps]`` loss before each step.
        params: the trained parameters.
    """

    passed: Array
    final_loss: Array
    losses: Array
    params: PyTree


def _cross_entropy(logits: Array, labels: Array) -> Array:
    return optax.losses.softmax_cross_entropy_with_integer_labels(logits, labels)


def _mean_squared_error(predictions: Array, targets: Array) -> Array:
    return jnp.mean((predictions - targets) ** 2, axis=-1)


_LOSSES: Mapping[str, Callable[[Array, Array], Array]] = {
    "cross_entropy": _cross_entropy,
    "mse": _mean_squared_error,
}


def overfit_small_batch_check(
    key: Key,
    model: nn.Module,
    x: ArrayLike,
    y: ArrayLike,
    *,
    loss: str | Callable[[Array, Array], Array] = "cross_entropy",
    learning_rate: float = 1e-2,
    num_steps: int = 300,
    tolerance: float = 1e-2,
    apply_kwargs: Mapping[str, Any] | None = None,
) -> OverfitReport:
    """Train ``model`` on one small batch with Adam and report whether the loss nears zero.

    Minimizes ``mean_n loss(f(x_n; theta), y_n)`` with ``num_steps`` full-batch Adam steps
    of :func:`jaxdl.training.fit` (one compiled chunk) from the parameters
    ``model.init`` draws; passes when the final loss is below ``tolerance``. Use a few (say
    2 to 20) examples.

    Args:
        key: split into the initialization key and ``fit``'s key.
        model: a deterministic flax module mapping ``x`` to predictions.
        x: ``[N, ...]`` a few inputs.
        y: ``[N]`` integer labels (``"cross_entropy"``) or ``[N, D]`` targets (``"mse"``).
        loss: ``"cross_entropy"`` (logits vs integer labels), ``"mse"``, or a callable
            ``loss(predictions, targets) -> [N]`` per-example losses.
        learning_rate: Adam's rate (> 0).
        num_steps: number of steps (> 0).
        tolerance: the loss below which the check passes (> 0).
        apply_kwargs: extra keyword arguments for ``model.apply``.

    Returns:
        An :class:`OverfitReport`.

    Example:
        >>> import jax, jax.numpy as jnp, flax.linen as nn
        >>> x = jnp.array([[0.0, 1.0], [1.0, 0.0]])
        >>> report = overfit_small_batch_check(
        ...     jax.random.key(1), nn.Dense(2), x, jnp.array([0, 1]), learning_rate=0.1)
        >>> bool(report.passed)
        True

    References:
        Karpathy, "A recipe for training neural networks", 2019.
    """
    check_nonempty("x", x)
    check_same_leading(("x", "y"), x, y)
    check_positive("learning_rate", learning_rate)
    check_positive_int("num_steps", num_steps)
    check_positive("tolerance", tolerance)
    if isinstance(loss, str):
        if loss not in _LOSSES:
            raise ValueError(f"loss must be one of {tuple(_LOSSES)} or a callable, got {loss!r}")
        per_example = _LOSSES[loss]
    else:
        per_example = loss
    kwargs = dict(apply_kwargs or {})
    x, y = jnp.asarray(x), jnp.asarray(y)
    init_key, fit_key = jax.random.split(key)
    variables = dict(model.init(init_key, x, **kwargs))
    params = variables.pop("params", {})

    def objective(params: PyTree, model_state: PyTree, batch, step_key) -> tuple:
        predictions = model.apply({"params": params, **model_state}, batch[0], **kwargs)
        return jnp.mean(per_example(predictions, batch[1])), (model_state, {})

    state = TrainState.create(
        apply_fn=model.apply, params=params, tx=optax.adam(learning_rate), model_state=variables
    )
    with jax.numpy_dtype_promotion("standard"):  # optax's Adam mixes int32 and floats
        result = fit(
            fit_key,
            state,
            objective,
            (x, y),
            num_epochs=num_steps,
            shuffle=False,
            epochs_per_chunk=num_steps,
            progress=False,
        )
        final_loss = objective(result.state.params, result.state.model_state, (x, y), None)[0]
    losses = jnp.asarray([record["train_loss"] for record in result.history], jnp.float32)
    return OverfitReport(
        passed=final_loss < tolerance,
        final_loss=final_loss,
        losses=losses,
        params={"params": result.state.params, **result.state.model_state},
    )


__all__ = ["OverfitReport", "overfit_small_batch_check"]
