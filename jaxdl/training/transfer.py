"""Reusing what was learned: transfer, freezing, multi-task, semi- and self-supervised helpers.

- **Transfer learning**: take a network trained on a related task, drop its last
  layer(s), put a new head of the right size on top and either keep the old part fixed
  (:func:`freeze`) or fine-tune everything. :func:`transfer_params` copies the trunk of a
  pretrained parameter tree into a freshly initialized one; :func:`replace_head` swaps one
  named sub-tree.
- **Multi-task learning**: one shared trunk, one head per task, the loss a weighted sum
  of the task losses (:class:`MultiTaskMLP`, :func:`multi_task_loss`).
- **Semi-supervised learning**: an autoencoder whose encoder is shared with a classifier,
  trained on a few labels plus a reconstruction term on every example
  (:class:`SemiSupervisedAutoencoder`, :func:`semi_supervised_loss`).
- **Self-supervised pretext tasks** built from unlabelled data with a key: predict masked
  feature spans (:func:`mask_random_spans`, :func:`masked_prediction_loss`), or tell an
  original from a distorted copy (:func:`original_vs_distorted_pairs`).
- **Early stopping, then retrain on all data** (:func:`retrain_on_all_data`): find the
  best number of steps with a validation split, then train a fresh model on training and
  validation data together for that many steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import (
    check_floating,
    check_integer,
    check_positive,
    check_positive_int,
    check_rank,
    check_same_leading,
)
from jaxdl.losses.regularizers import _compile, leaf_paths, mask_by_path
from jaxdl.nn.activations import get_activation
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.training.early_stopping import EarlyStopping
from jaxdl.training.loop import FitResult, epochs_for_steps, fit
from jaxdl.training.state import TrainState
from jaxdl.typing import Array, ArrayLike, Batch, Key, LossFn, PyTree

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


# ------------------------------------------------------------------------ multi-task


class MultiTaskMLP(nn.Module):
    """A shared fully connected trunk with one linear head per task.

    ``h = phi(... phi(x W_1 + b_1) ...)`` is computed once; task ``t`` reads
    ``y_t = h V_t + c_t``. Parameter names are ``trunk_<i>`` and ``head_<t>``, so
    ``freeze(tx, params, r"trunk")`` trains only the heads.

    Attributes:
        trunk_features: widths of the shared hidden layers.
        head_features: number of outputs of each task head.
        activation: hidden activation name or callable.

    Example:
        >>> model = MultiTaskMLP(trunk_features=(16,), head_features=(3, 1))
        >>> params = model.init(jax.random.key(0), jnp.ones((2, 5)))
        >>> [y.shape for y in model.apply(params, jnp.ones((2, 5)))]
        [(2, 3), (2, 1)]

    Reference: Caruana, "Multitask learning", 1997.
    """

    trunk_features: Sequence[int]
    head_features: Sequence[int]
    activation: str | Callable[[Array], Array] = "relu"

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> tuple[Array, ...]:
        """Outputs of every head for inputs ``[..., d]``: a tuple of ``[..., k_t]``."""
        del train
        if len(self.head_features) == 0:
            raise ValueError("head_features must list at least one task, got ()")
        for i, width in enumerate(self.trunk_features):
            check_positive_int(f"trunk_features[{i}]", width)
        for t, width in enumerate(self.head_features):
            check_positive_int(f"head_features[{t}]", width)
        act = get_activation(self.activation)
        h = jnp.asarray(x)
        check_floating("x", h)
        for i, width in enumerate(self.trunk_features):
            h = act(nn.Dense(width, name=f"trunk_{i}")(h))
        return tuple(
            nn.Dense(width, name=f"head_{t}")(h) for t, width in enumerate(self.head_features)
        )


def multi_task_loss(
    task_losses: Sequence[ArrayLike], weights: Sequence[float] | None = None
) -> Array:
    """Weighted sum of the task losses ``sum_t lambda_t L_t``.

    Args:
        task_losses: one scalar loss per task.
        weights: ``lambda_t >= 0`` per task (default: all 1).

    Returns:
        A scalar.

    Example:
        >>> float(multi_task_loss([jnp.array(2.0), jnp.array(4.0)], [1.0, 0.5]))
        4.0
    """
    if len(task_losses) == 0:
        raise ValueError("task_losses must hold at least one loss, got none")
    if weights is None:
        weights = [1.0] * len(task_losses)
    if len(weights) != len(task_losses):
        raise ValueError(
            f"weights must have one entry per task ({len(task_losses)}), got {len(weights)}"
        )
    for t, w in enumerate(weights):
        check_positive(f"weights[{t}]", w, allow_zero=True)
    total = 0.0
    for loss, w in zip(task_losses, weights, strict=True):
        loss = jnp.asarray(loss)
        if loss.ndim != 0:
            raise ValueError(f"each task loss must be a scalar, got shape {loss.shape}")
        total = total + w * loss
    return jnp.asarray(total)


# ------------------------------------------------------------------ semi-supervised


class SemiSupervisedAutoencoder(nn.Module):
    """An autoencoder whose encoder also feeds a classifier head.

    ``c = enc(x)``, ``x_hat = dec(c)``, ``logits = c V + b``: the generative part
    ``P(x)`` and the discriminative part ``P(y | x)`` share the encoder, so unlabelled
    examples shape the representation the classifier uses.

    Attributes:
        encoder_features: encoder widths; the last one is the code size. The decoder
            mirrors them and ends with a linear layer of the input size.
        num_classes: classifier outputs.
        activation: hidden activation.

    Example:
        >>> model = SemiSupervisedAutoencoder(encoder_features=(8, 2), num_classes=3)
        >>> params = model.init(jax.random.key(0), jnp.ones((4, 6)))
        >>> logits, reconstruction = model.apply(params, jnp.ones((4, 6)))
        >>> logits.shape, reconstruction.shape
        ((4, 3), (4, 6))
    """

    encoder_features: Sequence[int]
    num_classes: int
    activation: str | Callable[[Array], Array] = "tanh"

    @nn.compact
    def __call__(self, x: Array, *, train: bool = False) -> tuple[Array, Array]:
        """``(logits [..., num_classes], reconstruction [..., d])`` for inputs ``[..., d]``."""
        del train
        if len(self.encoder_features) == 0:
            raise ValueError("encoder_features must list at least the code size, got ()")
        for i, width in enumerate(self.encoder_features):
            check_positive_int(f"encoder_features[{i}]", width)
        check_positive_int("num_classes", self.num_classes)
        act = get_activation(self.activation)
        x = jnp.asarray(x)
        check_floating("x", x)
        h = x
        for i, width in enumerate(self.encoder_features):
            h = act(nn.Dense(width, name=f"encoder_{i}")(h))
        code = h
        for i, width in enumerate(reversed(tuple(self.encoder_features)[:-1])):
            h = act(nn.Dense(width, name=f"decoder_{i}")(h))
        reconstruction = nn.Dense(x.shape[-1], name="decoder_out")(h)
        logits = nn.Dense(self.num_classes, name="classifier")(code)
        return logits, reconstruction


def semi_supervised_loss(
    logits: ArrayLike,
    reconstruction: ArrayLike,
    x: ArrayLike,
    labels: ArrayLike,
    labelled: ArrayLike,
    reconstruction_weight: ArrayLike,
) -> Array:
    """Cross-entropy on the labelled examples plus ``lambda`` times reconstruction on all.

    ``L = mean_{i labelled} CE(logits_i, y_i) + lambda * mean_i mean_j (x_hat_ij - x_ij)^2``.
    Labels of unlabelled rows are ignored (any integer, e.g. -1).

    Args:
        logits: ``[n, k]``.
        reconstruction: ``[n, d]``.
        x: inputs ``[n, d]``.
        labels: integer labels ``[n]``.
        labelled: bool ``[n]``, which rows carry a label.
        reconstruction_weight: ``lambda >= 0``.

    Returns:
        A scalar.

    Example:
        >>> x = jnp.ones((3, 4))
        >>> labels = jnp.array([0, -1, 1])
        >>> semi_supervised_loss(jnp.zeros((3, 2)), x, x, labels, labels >= 0, 0.5)
        Array(0.6931472, dtype=float32)
    """
    check_positive("reconstruction_weight", reconstruction_weight, allow_zero=True)
    logits = jnp.asarray(logits)
    reconstruction = jnp.asarray(reconstruction)
    x = jnp.asarray(x)
    labels = jnp.asarray(labels)
    labelled = jnp.asarray(labelled)
    check_floating("logits", logits)
    check_integer("labels", labels)
    check_rank("logits", logits, 2)
    check_rank("labels", labels, 1)
    check_rank("labelled", labelled, 1)
    if reconstruction.shape != x.shape:
        raise ValueError(
            f"reconstruction must have the shape of x {x.shape}, got {reconstruction.shape}"
        )
    check_same_leading(("logits", "labels", "labelled", "x"), logits, labels, labelled, x)
    if labelled.dtype != jnp.bool_:
        raise TypeError(f"labelled must be a bool array, got {labelled.dtype}")
    safe_labels = jnp.where(labelled, labels, jnp.zeros((), labels.dtype))
    ce = optax.softmax_cross_entropy_with_integer_labels(logits, safe_labels)
    weight = labelled.astype(ce.dtype)
    supervised = jnp.sum(ce * weight) / jnp.maximum(jnp.sum(weight), 1.0)
    reconstruction_error = jnp.mean(jnp.square(reconstruction - x))
    return supervised + reconstruction_weight * reconstruction_error


# ------------------------------------------------------------------- self-supervised


def mask_random_spans(
    key: Key,
    x: ArrayLike,
    span_length: int,
    num_spans: int = 1,
    mask_value: float = 0.0,
) -> tuple[Array, Array]:
    """Hide random contiguous spans of features, for a masked-prediction pretext task.

    For each example independently, ``num_spans`` start positions are drawn uniformly
    from ``[0, d - span_length]`` and the features ``start .. start + span_length - 1``
    are replaced by ``mask_value`` (spans may overlap).

    Args:
        key: PRNG key.
        x: floating inputs ``[..., d]``.
        span_length: length of each span, ``1 <= span_length <= d``.
        num_spans: spans per example, ``>= 1``.
        mask_value: the value written into the hidden positions.

    Returns:
        ``(masked_x, mask)``: ``masked_x`` like ``x``; ``mask`` bool ``[..., d]``, True
        where a feature was hidden (the positions the model must predict).

    Example:
        >>> masked, mask = mask_random_spans(jax.random.key(1), jnp.ones((4, 10)), 3)
        >>> mask.sum(axis=-1).tolist()  # one span of 3 features hidden per example
        [3, 3, 3, 3]
        >>> bool(jnp.all(jnp.where(mask, masked == 0.0, masked == 1.0)))
        True
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    if x.ndim == 0:
        raise ValueError("x must have a feature axis, got a scalar")
    check_positive_int("span_length", span_length)
    check_positive_int("num_spans", num_spans)
    d = x.shape[-1]
    if span_length > d:
        raise ValueError(f"span_length must be <= the number of features {d}, got {span_length}")
    flat = x.reshape((-1, d))
    keys = jax.random.split(key, flat.shape[0])
    positions = jnp.arange(d)

    def one(k):
        starts = jax.random.randint(k, (num_spans,), 0, d - span_length + 1)
        inside = (positions[None, :] >= starts[:, None]) & (
            positions[None, :] < starts[:, None] + span_length
        )
        return jnp.any(inside, axis=0)

    mask = jax.vmap(one)(keys).reshape(x.shape)
    masked = jnp.where(mask, jnp.asarray(mask_value, x.dtype), x)
    return masked, mask


def masked_prediction_loss(predictions: ArrayLike, x: ArrayLike, mask: ArrayLike) -> Array:
    """Squared error on the hidden positions only, averaged per example.

    ``L_i = sum_j m_ij (x_hat_ij - x_ij)^2 / max(1, sum_j m_ij)``.

    Args:
        predictions: reconstructions ``[..., d]``.
        x: the original (unmasked) inputs ``[..., d]``.
        mask: bool ``[..., d]`` from :func:`mask_random_spans`.

    Returns:
        Per-example losses ``[...]``.

    Example:
        >>> mask = jnp.array([[True, False, True]])
        >>> masked_prediction_loss(jnp.zeros((1, 3)), jnp.ones((1, 3)), mask)
        Array([1.], dtype=float32)
    """
    predictions = jnp.asarray(predictions)
    x = jnp.asarray(x)
    mask = jnp.asarray(mask)
    check_floating("predictions", predictions)
    if predictions.shape != x.shape or mask.shape != x.shape:
        raise ValueError(
            f"predictions, x and mask must share one shape, got {predictions.shape}, "
            f"{x.shape} and {mask.shape}"
        )
    weight = mask.astype(predictions.dtype)
    squared = jnp.square(predictions - x) * weight
    return jnp.sum(squared, axis=-1) / jnp.maximum(jnp.sum(weight, axis=-1), 1.0)


def original_vs_distorted_pairs(
    key: Key,
    x: ArrayLike,
    noise_std: float = 1.0,
    distort: Callable[[Key, Array], Array] | None = None,
) -> tuple[Array, Array]:
    """A contrastive pretext dataset: which of two copies is the original?

    Each example ``x_i`` is paired with a distorted copy ``x~_i`` (Gaussian noise of
    ``noise_std`` by default, or ``distort(key, x)``); the two are put in random order
    and the label is the position of the original.

    Args:
        key: PRNG key.
        x: floating inputs ``[n, ...]``.
        noise_std: std of the default Gaussian distortion, ``> 0``.
        distort: optional ``distort(key, x) -> x~`` applied to the whole batch instead.

    Returns:
        ``(pairs, labels)``: ``pairs`` ``[n, 2, ...]``, ``labels`` int32 ``[n]`` in
        ``{0, 1}``, the index of the original inside each pair.

    Example:
        >>> pairs, labels = original_vs_distorted_pairs(jax.random.key(1), jnp.ones((8, 5)))
        >>> pairs.shape, labels.shape
        ((8, 2, 5), (8,))
        >>> bool(jnp.all(pairs[jnp.arange(8), labels] == 1.0))  # the originals
        True
    """
    x = jnp.asarray(x)
    check_floating("x", x)
    if x.ndim == 0 or x.shape[0] == 0:
        raise ValueError(f"x must hold at least one example [n, ...], got shape {x.shape}")
    distort_key, order_key = jax.random.split(key)
    if distort is None:
        check_positive("noise_std", noise_std)
        distorted = x + noise_std * jax.random.normal(distort_key, x.shape, x.dtype)
    else:
        distorted = jnp.asarray(distort(distort_key, x))
        if distorted.shape != x.shape:
            raise ValueError(f"distort must keep the shape {x.shape}, got {distorted.shape}")
    labels = jax.random.bernoulli(order_key, 0.5, (x.shape[0],)).astype(jnp.int32)
    first_is_original = (labels == 0).reshape((-1,) + (1,) * (x.ndim - 1))
    first = jnp.where(first_is_original, x, distorted)
    second = jnp.where(first_is_original, distorted, x)
    return jnp.stack([first, second], axis=1), labels


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
        >>> from jaxdl.training import create_train_state, supervised_loss
        >>> data_key, init_key, fit_key = jax.random.split(jax.random.key(0), 3)
        >>> x = jax.random.normal(data_key, (24, 2))
        >>> y = (x[:, 0] > 0).astype(jnp.int32)
        >>> model = MLP(features=(4, 2))
        >>> state = create_train_state(init_key, model, x[:1], optax.sgd(0.5))
        >>> result = retrain_on_all_data(fit_key, state, supervised_loss(model),
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


register_model(
    ModelSpec(
        name="MultiTaskMLP",
        make=lambda: MultiTaskMLP(trunk_features=(8,), head_features=(3, 1)),
        input_shape=(5,),
    )
)
register_model(
    ModelSpec(
        name="SemiSupervisedAutoencoder",
        make=lambda: SemiSupervisedAutoencoder(encoder_features=(6, 2), num_classes=3),
        input_shape=(5,),
    )
)

__all__ = [
    "MultiTaskMLP",
    "RetrainResult",
    "SemiSupervisedAutoencoder",
    "freeze",
    "mask_random_spans",
    "masked_prediction_loss",
    "multi_task_loss",
    "original_vs_distorted_pairs",
    "replace_head",
    "retrain_on_all_data",
    "semi_supervised_loss",
    "transfer_params",
]
