"""Loss functions in the training engine's contract, built from flax modules."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import check_labels
from jaxdl.training.precision import Policy, check_param_dtype, get_policy
from jaxdl.typing import Array, Batch, Key, Metrics, PyTree

PerExampleLoss = Callable[[Array, Array], Array]


def _loss_table() -> dict[str, PerExampleLoss]:
    from jaxdl import losses

    return {
        "cross_entropy": losses.softmax_cross_entropy,
        "mse": losses.mean_squared_error,
        "half_mse": losses.half_squared_error,
        "bce": losses.sigmoid_binary_cross_entropy,
    }


def _classification_accuracy(outputs: Array, labels: Array) -> Array:
    if outputs.ndim == labels.ndim + 1 and outputs.shape[-1] > 1:
        predicted = jnp.argmax(outputs, axis=-1)
    else:  # one logit (sigmoid output): positive class when the logit is > 0
        predicted = (outputs.reshape(labels.shape) > 0).astype(labels.dtype)
    return jnp.mean((predicted == labels).astype(jnp.float32))


def _mse(outputs: Array, targets: Array) -> Array:
    return jnp.mean(jnp.square(outputs - targets.reshape(outputs.shape)))


METRICS: dict[str, Callable[[Array, Array], Array]] = {
    "accuracy": _classification_accuracy,
    "error_rate": lambda o, y: 1.0 - _classification_accuracy(o, y),
    "mse": _mse,
    "rmse": lambda o, y: jnp.sqrt(_mse(o, y)),
}


def _dtype_field_unset(module: nn.Module) -> bool:
    """Whether ``module`` is a flax dataclass with a ``dtype`` field left at ``None``."""
    fields = getattr(type(module), "__dataclass_fields__", {})
    return "dtype" in fields and getattr(module, "dtype", None) is None


def _cast_like(x: Any, reference: Any) -> Any:
    floating = hasattr(x, "dtype") and jnp.issubdtype(x.dtype, jnp.floating)
    return x.astype(reference.dtype) if floating and hasattr(reference, "dtype") else x


def _accepts(module: nn.Module, name: str) -> bool:
    try:
        return name in inspect.signature(type(module).__call__).parameters
    except (TypeError, ValueError):
        return False


class SupervisedLoss:
    """``loss_fn(params, model_state, batch, key) -> (loss, (model_state, metrics))``.

    Built by :func:`make_supervised_loss`. A batch is ``(x, y)`` or ``(x, y, weights)`` where
    ``weights`` are per-example weights (bootstrap counts, boosting weights); the loss is
    their weighted mean. ``evaluate(params, model_state, batch)`` runs the model in
    inference mode (``train=False``) and returns the loss and the metrics.
    """

    def __init__(
        self,
        model: nn.Module,
        loss: str | PerExampleLoss,
        metrics: Sequence[str] = (),
        rng_streams: Sequence[str] = ("dropout",),
        policy: str | Policy | None = None,
    ):
        if isinstance(loss, str):
            table = _loss_table()
            if loss not in table:
                raise ValueError(f"loss must be one of {sorted(table)} or a callable, got {loss!r}")
            self.loss_name = loss
            self.per_example_loss = table[loss]
        elif callable(loss):
            self.loss_name = getattr(loss, "__name__", "custom")
            self.per_example_loss = loss
        else:
            raise TypeError(f"loss must be a name or a callable, got {type(loss).__name__}")
        unknown = [m for m in metrics if m not in METRICS]
        if unknown:
            raise ValueError(f"metrics must be among {sorted(METRICS)}, got unknown {unknown}")
        self.policy = None if policy is None else get_policy(policy)
        if self.policy is not None and _dtype_field_unset(model):
            # a flax module with a ``dtype`` attribute computes in it (BatchNorm, attention)
            model = model.clone(dtype=self.policy.compute_dtype)
        self.model = model
        self.metric_names = tuple(metrics)
        self.rng_streams = tuple(rng_streams)
        self._takes_train = _accepts(model, "train")
        self._num_outputs: dict[Any, int] = {}

    def _apply(
        self, params: PyTree, model_state: PyTree, x: Array, train: bool, key: Key | None
    ) -> tuple[Array, PyTree]:
        policy = self.policy
        if policy is not None:  # params and inputs in the compute dtype; model_state as is
            params, x = policy.cast_to_compute((params, x))
        variables = {"params": params, **model_state}
        kwargs: dict[str, Any] = {"train": train} if self._takes_train else {}
        if train and key is not None and self.rng_streams:
            kwargs["rngs"] = {
                name: jax.random.fold_in(key, i) for i, name in enumerate(self.rng_streams)
            }
        if train and model_state:
            outputs, new_state = self.model.apply(variables, x, mutable=list(model_state), **kwargs)
            new_state = dict(new_state)
            if policy is not None:  # the carry keeps its dtypes (float32 batch statistics)
                new_state = jax.tree.map(_cast_like, new_state, dict(model_state))
        else:
            outputs, new_state = self.model.apply(variables, x, **kwargs), model_state
        if policy is not None:
            outputs = policy.cast_to_output(outputs)
        return outputs, new_state

    def _loss_and_metrics(self, outputs: Array, batch: Batch) -> tuple[Array, Metrics]:
        y = batch[1]
        per_example = self.per_example_loss(outputs, y)
        if len(batch) > 2:
            weights = batch[2].astype(per_example.dtype)
            loss = jnp.sum(weights * per_example) / jnp.maximum(jnp.sum(weights), 1e-12)
        else:
            loss = jnp.mean(per_example)
        metrics = {name: METRICS[name](outputs, y) for name in self.metric_names}
        return loss, metrics

    def __call__(
        self, params: PyTree, model_state: PyTree, batch: Batch, key: Key
    ) -> tuple[Array, tuple[PyTree, Metrics]]:
        outputs, new_state = self._apply(params, model_state, batch[0], True, key)
        loss, metrics = self._loss_and_metrics(outputs, batch)
        return loss, (new_state, metrics)

    def evaluate(self, params: PyTree, model_state: PyTree, batch: Batch) -> Metrics:
        """Loss and metrics in inference mode (no dropout, running batch statistics)."""
        outputs, _ = self._apply(params, model_state, batch[0], False, None)
        loss, metrics = self._loss_and_metrics(outputs, batch)
        return {"loss": loss, **metrics}

    def validate(self, params: PyTree, model_state: PyTree, data: Batch, name: str) -> None:
        """Check a concrete dataset against the model before compiling (labels in range).

        With a policy, the parameters must be in its ``param_dtype`` (master weights).
        """
        if self.policy is not None:
            check_param_dtype(self.policy, params)
        if self.loss_name != "cross_entropy":
            return
        sample = jax.tree.map(lambda a: a[:1], data)
        abstract = jax.tree.map(
            lambda a: jax.ShapeDtypeStruct(jnp.shape(a), jnp.result_type(a)),
            (params, model_state, sample[0]),
        )
        key = (jax.tree.structure(abstract), tuple(jax.tree.leaves(abstract)))
        if key not in self._num_outputs:  # trace the model once per shape, not per fit call
            outputs = jax.eval_shape(
                lambda p, s, x: self._apply(p, s, x, False, None)[0], *abstract
            )
            self._num_outputs[key] = outputs.shape[-1]
        check_labels(f"{name} labels", data[1], self._num_outputs[key])


def make_supervised_loss(
    model: nn.Module,
    loss: str | PerExampleLoss = "cross_entropy",
    metrics: Sequence[str] = ("accuracy",),
    rng_streams: Sequence[str] = ("dropout",),
    policy: str | Policy | None = None,
) -> SupervisedLoss:
    """A loss function for ``fit`` from a flax model and a per-example loss.

    Args:
        model: a ``flax.linen.Module``; if its ``__call__`` takes ``train``, it gets
            ``train=True`` while training and ``train=False`` in ``evaluate``.
        loss: ``"cross_entropy"`` (softmax, integer labels), ``"bce"`` (sigmoid,
            0/1 labels), ``"mse"``, ``"half_mse"`` (the 1/2 sum convention), or a callable
            ``(outputs [B, ...], targets [B, ...]) -> per-example losses [B]``.
        metrics: names among ``accuracy``, ``error_rate``, ``mse``, ``rmse``.
        rng_streams: flax rng streams fed from the per-step key while training.
        policy: a mixed-precision :class:`jaxdl.training.precision.Policy` or its name
            (``"mixed_bfloat16"``, ``"params=float32,compute=bfloat16,output=float32"``):
            the parameters (kept in ``param_dtype`` in the train state) and the floating
            inputs are cast to ``compute_dtype`` for the forward and backward pass, the
            outputs and the loss are computed in ``output_dtype``; gradients come back in
            the parameter dtype. A flax module with a ``dtype`` attribute left ``None``
            is cloned with ``dtype=compute_dtype``; ``model_state`` (batch statistics)
            keeps its dtype. float16 also needs loss scaling:
            :func:`jaxdl.training.precision.mixed_precision_step`.

    Returns:
        A :class:`SupervisedLoss`.

    Example:
        >>> from jaxdl.nn import MLP
        >>> import jax, jax.numpy as jnp
        >>> model = MLP(features=(16, 3))
        >>> loss_fn = make_supervised_loss(model, "cross_entropy")
        >>> x, y = jnp.ones((4, 5)), jnp.array([0, 1, 2, 0])
        >>> params = model.init(jax.random.key(0), x)["params"]
        >>> loss, (model_state, metrics) = loss_fn(params, {}, (x, y), jax.random.key(1))
        >>> loss.shape, sorted(metrics), sorted(loss_fn.evaluate(params, {}, (x, y)))
        ((), ['accuracy'], ['accuracy', 'loss'])
    """
    return SupervisedLoss(model, loss, metrics, rng_streams, policy)
