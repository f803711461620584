"""Reusing what was learned in training: transfer, freezing, retraining on all data.

- **Transfer learning**: take a network trained on a related task, drop its last
  layer(s), put a new head of the right size on top and either keep the old part fixed
  (:func:`freeze`) or fine-tune everything. :func:`transfer_params` copies the trunk of a
  pretrained parameter tree into a freshly initialized one; :func:`replace_head` swaps one
  named sub-tree.
- The models and objectives of multi-task and semi-supervised learning live with the
  other models and losses: :class:`jaxdl.nn.MultiTaskMLP`,
  :class:`jaxdl.nn.SemiSupervisedAutoencoder`, :func:`jaxdl.losses.multi_task_loss`,
  :func:`jaxdl.losses.semi_supervised_loss`, :func:`jaxdl.losses.masked_prediction_loss`;
  the pretext data come from :func:`jaxdl.sampling.mask_random_spans` and
  :func:`jaxdl.data.original_vs_distorted_pairs`.
- **Early stopping, then retrain on all data** (:func:`retrain_on_all_data`): find the
  best number of steps with a validation split, then train a fresh model on training and
  validation data together for that many steps.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import (
    check_positive_int,
)
from jaxdl.losses.regularizers import _compile, leaf_paths, mask_by_path
from jaxdl.training.early_stopping import EarlyStopping
from jaxdl.training.loop import FitResult, epochs_for_steps, fit
from jaxdl.training.state import TrainState
from jaxdl.typing import Array, Batch, Key, LossFn, PyTree

# --------------------------------------------------------------------------- transfer


def transfer_params(pretrained: PyTree, target: PyTree, *, exclude: str | None = None) -> PyTree:
    """Copy the pretrained leaves into a fresh parameter tree, except the excluded ones.

    Every leaf of ``target`` whose path also exists in ``pretrained`` and does not match
    ``exclude`` takes the pretrained value; the others (typically a new head of a
    different size) keep their fresh initialization.

    Args:
        pretrained: parameters of the model trained on the source task.
        target: freshly initialized parameters of the new model.
        exclude: regex of paths to keep from ``target`` (e.g. ``r"head|Dense_2"``).

    Returns:
        A tree with the structure of ``target``.

    Raises:
        ValueError: if a transferred leaf changes shape, or no leaf is transferred.

    Example:
        >>> old = {"trunk": {"kernel": jnp.ones((2, 2))}, "head": {"kernel": jnp.ones((2, 3))}}
        >>> new = {"trunk": {"kernel": jnp.zeros((2, 2))}, "head": {"kernel": jnp.zeros((2, 5))}}
        >>> out = transfer_params(old, new, exclude=r"head")
        >>> float(out["trunk"]["kernel"][0, 0]), out["head"]["kernel"].shape
        (1.0, (2, 5))
    """
    exclude_re = _compile("exclude", exclude)
    source = {
        path: leaf
        for path, leaf in zip(
            jax.tree.leaves(leaf_paths(pretrained)), jax.tree.leaves(pretrained), strict=True
        )
    }
    copied = []

    def pick(path: str, fresh: Array) -> Array:
        if path not in source or (exclude_re is not None and exclude_re.search(path)):
            return fresh
        old = source[path]
        if jnp.shape(old) != jnp.shape(fresh):
            raise ValueError(
                f"pretrained leaf {path!r} has shape {jnp.shape(old)} but the target expects "
                f"{jnp.shape(fresh)}; exclude it (exclude=...) to keep the fresh one"
            )
        copied.append(path)
        return old

    result = jax.tree.map(pick, leaf_paths(target), target)
    if not copied:
        raise ValueError(
            f"transfer_params copied nothing: no path of target is in pretrained outside "
            f"exclude={exclude!r}"
        )
    return result


def replace_head(params: PyTree, head: str, new_head: PyTree) -> PyTree:
    """Return ``params`` with the sub-tree named ``head`` replaced by ``new_head``.

    ``head`` is a ``"/"``-separated path of dict keys, e.g. ``"params/Dense_2"``; the
    input tree is not modified.

    Args:
        params: a nested-dict parameter tree (flax variables or ``variables['params']``).
        head: path of the sub-tree to replace; it must exist.
        new_head: the replacement (any pytree, e.g. a freshly initialized layer).

    Returns:
        A new tree.

    Example:
        >>> params = {"params": {"trunk": {"bias": jnp.zeros(2)}, "head": {"bias": jnp.zeros(3)}}}
        >>> new = replace_head(params, "params/head", {"bias": jnp.ones(5)})
        >>> new["params"]["head"]["bias"].shape
        (5,)
    """
    keys = [k for k in head.split("/") if k]
    if not keys:
        raise ValueError(f"head must name a sub-tree, got {head!r}")

    def rebuild(node, depth):
        if not hasattr(node, "keys") or keys[depth] not in node:
            available = list(node.keys()) if hasattr(node, "keys") else type(node).__name__
            raise ValueError(
                f"head {head!r} not found: no key {keys[depth]!r} at depth {depth} "
                f"(available: {available})"
            )
        out = dict(node)
        out[keys[depth]] = (
            new_head if depth == len(keys) - 1 else rebuild(node[keys[depth]], depth + 1)
        )
        return out

    return rebuild(params, 0)


def freeze(
    tx: optax.GradientTransformation, params: PyTree, frozen: str
) -> optax.GradientTransformation:
    """Train with ``tx`` only the leaves whose path does not match ``frozen``.

    Built on ``optax.multi_transform``: frozen leaves get a zero update
    (``optax.set_to_zero``) and no optimizer state of ``tx``.

    Args:
        tx: optimizer for the trainable leaves.
        params: the parameter tree (used to check that ``frozen`` selects something).
        frozen: regex of frozen paths, e.g. ``r"^Dense_0/"`` or ``r"trunk"``.

    Returns:
        A GradientTransformation for the whole tree.

    Raises:
        ValueError: if ``frozen`` matches no parameter (a typo would otherwise silently
            fine-tune everything).

    Example:
        >>> params = {"trunk": {"kernel": jnp.ones((2, 2))}, "head": {"kernel": jnp.ones((2, 1))}}
        >>> tx = freeze(optax.sgd(0.1), params, frozen=r"trunk")
        >>> updates, _ = tx.update(params, tx.init(params), params)
        >>> print(updates["trunk"]["kernel"].sum(), updates["head"]["kernel"].sum().round(3))
        0.0 -0.2
    """
    if not isinstance(frozen, str):
        raise TypeError(f"frozen must be a regex string, got {type(frozen).__name__}")
    mask_by_path(params, include=frozen)

    def labels(tree):
        mask = mask_by_path(tree, include=frozen, allow_empty=True)
        return jax.tree.map(lambda m: "frozen" if m else "trainable", mask)

    return optax.multi_transform({"trainable": tx, "frozen": optax.set_to_zero()}, labels)


# ------------------------------------------------------ early stopping, then retrain


class RetrainResult(NamedTuple):
    """What :func:`retrain_on_all_data` returns.

    Attributes:
        state: the model retrained on training + validation data.
        best_step: the step with the best validation metric in the first run.
        num_epochs: epochs of the second run.
        num_steps: optimizer steps of the second run (``>= best_step``; equal when one
            epoch is one step, i.e. full-batch training, or when whole epochs fit).
        first_run: the early-stopped :class:`FitResult` on the training split.
        second_run: the :class:`FitResult` of the retraining.
    """

    state: TrainState
    best_step: int
    num_epochs: int
    num_steps: int
    first_run: FitResult
    second_run: FitResult


def retrain_on_all_data(
    key: Key,
    state: TrainState,
    loss_fn: LossFn,
    train_data: Batch,
    validation_data: Batch,
    *,
    num_epochs: int,
    early_stopping: EarlyStopping | None = None,
    batch_size: int | None = None,
    **fit_kwargs: Any,
) -> RetrainResult:
    """Early stopping with a validation split, then retrain on all data for as many steps.

    1. Train ``state`` on ``train_data`` with early stopping on ``validation_data`` and
       read the best step ``i*``.
    2. Train the *same initial* ``state`` again on ``train_data`` and ``validation_data``
       together for ``i*`` steps, rounded up to whole epochs of the larger set (exact for
       full-batch training, where one epoch is one step).

    The second run uses every example but has no validation set left to stop on, so the
    step count found in the first run stands in for it.

    Args:
        key: PRNG key (split into one key per run).
        state: the initial train state (not consumed; both runs start from it).
        loss_fn: loss in the training contract (see :func:`jaxdl.training.fit`).
        train_data: tuple of arrays ``(x, y, ...)`` with a shared leading axis.
        validation_data: tuple with the same structure.
        num_epochs: epoch budget of the first run.
        early_stopping: configuration (default ``EarlyStopping("val_loss", "min", 5)``).
        batch_size: minibatch size of both runs (None: full batch).
        **fit_kwargs: passed to both :func:`jaxdl.training.fit` calls (e.g. ``progress``).

    Returns:
        A :class:`RetrainResult`.

    Example:
        >>> import jax, optax
        >>> from jaxdl.nn import MLP
        >>> from jaxdl.training import create_train_state, make_supervised_loss
        >>> data_key, init_key, fit_key = jax.random.split(jax.random.key(0), 3)
        >>> x = jax.random.normal(data_key, (24, 2))
        >>> y = (x[:, 0] > 0).astype(jnp.int32)
        >>> model = MLP(features=(4, 2))
        >>> state = create_train_state(init_key, model, x[:1], optax.sgd(0.5))
        >>> result = retrain_on_all_data(fit_key, state, make_supervised_loss(model),
        ...                              (x[:16], y[:16]), (x[16:], y[16:]),
        ...                              num_epochs=10, progress=False)
        >>> 1 <= result.best_step <= 10
        True
        >>> result.num_steps == result.num_epochs == result.best_step  # full batch
        True

    Reference: Goodfellow, Bengio & Courville, "Deep Learning", 2016, algorithm 7.2.
    """
    check_positive_int("num_epochs", num_epochs)
    if early_stopping is None:
        early_stopping = EarlyStopping()
    train_data = tuple(train_data)
    validation_data = tuple(validation_data)
    if len(train_data) != len(validation_data):
        raise ValueError(
            f"train_data and validation_data must hold the same number of arrays, got "
            f"{len(train_data)} and {len(validation_data)}"
        )
    for i, (a, b) in enumerate(zip(train_data, validation_data, strict=True)):
        if jnp.shape(a)[1:] != jnp.shape(b)[1:]:
            raise ValueError(
                f"train_data[{i}] and validation_data[{i}] must agree past the first axis, "
                f"got {jnp.shape(a)} and {jnp.shape(b)}"
            )
    first_key, second_key = jax.random.split(key)
    first = fit(
        first_key,
        state,
        loss_fn,
        train_data,
        num_epochs=num_epochs,
        batch_size=batch_size,
        val_data=validation_data,
        early_stopping=early_stopping,
        **fit_kwargs,
    )
    best_step = max(int(first.best_state.step), 1)
    all_data = tuple(
        jnp.concatenate([jnp.asarray(a), jnp.asarray(b)], axis=0)
        for a, b in zip(train_data, validation_data, strict=True)
    )
    num_examples = int(all_data[0].shape[0])
    epochs = epochs_for_steps(best_step, num_examples, batch_size)
    second = fit(
        second_key,
        state,
        loss_fn,
        all_data,
        num_epochs=epochs,
        batch_size=batch_size,
        **fit_kwargs,
    )
    return RetrainResult(
        state=second.state,
        best_step=best_step,
        num_epochs=epochs,
        num_steps=int(second.state.step),
        first_run=first,
        second_run=second,
    )


__all__ = [
    "RetrainResult",
    "freeze",
    "replace_head",
    "retrain_on_all_data",
    "transfer_params",
]
