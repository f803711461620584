"""Early stopping as an on-device state machine (works under jit, scan and vmap).

The optax / BlackJAX shape: ``early_stopping_init(config, params) -> EarlyStoppingState``
and ``early_stopping_update(config, state, value, step, params) -> (EarlyStoppingState,
EarlyStoppingInfo)``, both NamedTuples.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive, check_positive_int
from jaxdl.typing import Array, PyTree


class EarlyStopping(NamedTuple):
    """Configuration: stop when ``metric`` has not improved for ``patience`` evaluations.

    Attributes:
        metric: name of a history entry, e.g. ``"val_loss"`` or ``"val_accuracy"``.
        mode: ``"min"`` (losses) or ``"max"`` (accuracies).
        patience: evaluations without improvement before stopping.
        min_delta: an improvement must beat the best value by more than this.

    Example:
        >>> EarlyStopping("val_accuracy", mode="max", patience=3).validate()
        >>> EarlyStopping(mode="largest").validate()
        Traceback (most recent call last):
        ...
        ValueError: early_stopping.mode must be 'min' or 'max', got 'largest'
    """

    metric: str = "val_loss"
    mode: str = "min"
    patience: int = 5
    min_delta: float = 0.0

    def validate(self) -> None:
        if self.mode not in ("min", "max"):
            raise ValueError(f"early_stopping.mode must be 'min' or 'max', got {self.mode!r}")
        check_positive_int("early_stopping.patience", self.patience)
        check_positive("early_stopping.min_delta", self.min_delta, allow_zero=True)


class EarlyStoppingState(NamedTuple):
    """On-device early-stopping state.

    Attributes:
        best_value: best metric value seen so far (+inf / -inf before the first evaluation).
        best_step: the train step at which it was seen (-1 before).
        best_params: the parameters (and model state) at ``best_step``.
        num_bad: evaluations since the last improvement.
        stopped: whether patience ran out.
    """

    best_value: Array
    best_step: Array
    best_params: PyTree
    num_bad: Array
    stopped: Array


class EarlyStoppingInfo(NamedTuple):
    """What one :func:`early_stopping_update` saw.

    Attributes:
        improved: whether the value beat the best one (by more than ``min_delta``).
        nonfinite: whether the value was NaN or infinite (never an improvement; ``fit``
            raises on it instead of stopping silently).
        stopped: whether patience has run out (after this update).
    """

    improved: Array
    nonfinite: Array
    stopped: Array


def early_stopping_init(config: EarlyStopping, params: PyTree) -> EarlyStoppingState:
    """The state before any evaluation; ``params`` gives the structure to keep.

    Example:
        >>> state = early_stopping_init(EarlyStopping(), {"w": jnp.zeros(2)})
        >>> float(state.best_value), int(state.best_step), bool(state.stopped)
        (inf, -1, False)
    """
    worst = jnp.inf if config.mode == "min" else -jnp.inf
    return EarlyStoppingState(
        best_value=jnp.asarray(worst, jnp.float32),
        best_step=jnp.asarray(-1, jnp.int32),
        best_params=params,
        num_bad=jnp.zeros((), jnp.int32),
        stopped=jnp.zeros((), jnp.bool_),
    )


def early_stopping_update(
    config: EarlyStopping,
    state: EarlyStoppingState,
    value: Array,
    step: Array,
    params: PyTree,
) -> tuple[EarlyStoppingState, EarlyStoppingInfo]:
    """Fold one evaluation into the state; no Python branching on values.

    A NaN ``value`` never counts as an improvement (and ``info.nonfinite`` says so). Once
    ``stopped`` is set, the state is frozen.

    Returns:
        ``(state, info)``: the new :class:`EarlyStoppingState` and an
        :class:`EarlyStoppingInfo`.

    Example:
        >>> config = EarlyStopping("val_loss", patience=2)
        >>> state = early_stopping_init(config, {"w": jnp.zeros(2)})
        >>> for step, loss in enumerate([1.0, 0.5, 0.7, 0.6]):
        ...     params = {"w": jnp.full(2, float(step))}
        ...     state, info = early_stopping_update(config, state, loss, step, params)
        >>> int(state.best_step), bool(state.stopped), state.best_params["w"].tolist()
        (1, True, [1.0, 1.0])
    """
    value = jnp.asarray(value, jnp.float32)
    if config.mode == "min":
        improved = value < state.best_value - config.min_delta
    else:
        improved = value > state.best_value + config.min_delta
    improved = improved & ~state.stopped
    num_bad = jnp.where(improved, 0, state.num_bad + jnp.where(state.stopped, 0, 1))
    stopped = state.stopped | (num_bad >= config.patience)
    new_state = EarlyStoppingState(
        best_value=jnp.where(improved, value, state.best_value),
        best_step=jnp.where(improved, step, state.best_step),
        best_params=jax.tree.map(
            lambda new, old: jnp.where(improved, new, old), params, state.best_params
        ),
        num_bad=num_bad,
        stopped=stopped,
    )
    return new_state, EarlyStoppingInfo(improved, ~jnp.isfinite(value), stopped)
