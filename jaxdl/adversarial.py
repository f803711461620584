"""Adversarial examples and adversarial training.

An adversarial example is an input ``x' = x + delta`` with a small perturbation,
``||delta||_inf <= epsilon``, that a trained network misclassifies. The fast gradient
sign method (FGSM) takes one step along ``sign(grad_x L)``; projected gradient descent
(PGD) takes several smaller steps, projecting back into the ``epsilon`` ball (and the
valid input range) after each, from a random start. Adversarial training minimizes a
mix of the clean loss and the loss on FGSM examples made from the current parameters,
a regularizer that makes the network locally flatter around the training data.

``apply_fn(variables, x) -> logits`` is a flax ``model.apply`` (or any function of that
shape); ``variables`` is the dict it takes, e.g. ``{"params": params}``.
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import (
    check_floating,
    check_in_range,
    check_positive,
    check_positive_int,
    check_same_leading,
)
from jaxdl.data.augment import fast_gradient_sign
from jaxdl.losses import softmax_cross_entropy
from jaxdl.training.objectives import SupervisedLoss
from jaxdl.typing import Array, ArrayLike, Batch, Key, Metrics, PyTree

__all__ = [
    "AdversarialLoss",
    "make_adversarial_loss",
    "fgsm",
    "pgd",
    "robust_accuracy",
]

ApplyFn = Callable[[PyTree, Array], Array]


def _check_clip_range(clip_range: tuple[float, float] | None) -> None:
    if clip_range is None:
        return
    if len(clip_range) != 2 or not clip_range[0] < clip_range[1]:
        raise ValueError(f"clip_range must be (low, high) with low < high, got {clip_range!r}")


def _clip(x: Array, clip_range: tuple[float, float] | None) -> Array:
    if clip_range is None:
        return x
    return jnp.clip(x, clip_range[0], clip_range[1])


def _check_inputs(x: Array, labels: Array, epsilon: ArrayLike) -> None:
    check_floating("x", x)
    check_same_leading(("x", "labels"), x, labels)
    check_positive("epsilon", epsilon, allow_zero=True)


def _total_loss(apply_fn: ApplyFn, variables: PyTree, labels: Array) -> Callable[[Array], Array]:
    # A sum (not a mean) so that every example's input gradient is its own loss gradient.
    return lambda x: jnp.sum(softmax_cross_entropy(apply_fn(variables, x), labels))


def fgsm(
    apply_fn: ApplyFn,
    variables: PyTree,
    x: ArrayLike,
    labels: ArrayLike,
    epsilon: ArrayLike,
    *,
    clip_range: tuple[float, float] | None = None,
) -> Array:
    """FGSM adversarial examples of a classifier: ``x' = clip(x + eps sign(grad_x L(x, y)))``.

    ``L`` is the softmax cross-entropy of the logits ``apply_fn(variables, x)``; the
    step itself is :func:`jaxdl.data.augment.fast_gradient_sign`.

    Args:
        apply_fn: ``apply_fn(variables, x [N, ...]) -> logits [N, K]``.
        variables: the model variables, e.g. ``{"params": params}``.
        x: ``[N, ...]`` floating inputs.
        labels: ``[N]`` integer labels.
        epsilon: max-norm of the perturbation, ``>= 0``.
        clip_range: ``(low, high)`` valid input range, or ``None``.

    Returns:
        ``[N, ...]`` adversarial inputs.

    Example:
        >>> import flax.linen as nn
        >>> model = nn.Dense(3); x = jnp.ones((2, 4))
        >>> variables = model.init(jax.random.key(0), x)
        >>> fgsm(model.apply, variables, x, jnp.array([0, 1]), 0.1).shape
        (2, 4)

    Reference: Goodfellow, Shlens & Szegedy, "Explaining and harnessing adversarial
    examples", 2015.
    """
    x = jnp.asarray(x)
    labels = jnp.asarray(labels)
    _check_inputs(x, labels, epsilon)
    _check_clip_range(clip_range)
    x_adversarial = fast_gradient_sign(_total_loss(apply_fn, variables, labels), x, epsilon)
    return _clip(x_adversarial, clip_range)


def pgd(
    key: Key | None,
    apply_fn: ApplyFn,
    variables: PyTree,
    x: ArrayLike,
    labels: ArrayLike,
    epsilon: ArrayLike,
    *,
    num_steps: int = 10,
    step_size: ArrayLike | None = None,
    clip_range: tuple[float, float] | None = None,
) -> Array:
    """Projected gradient ascent on the loss inside the ``L_inf`` ball of radius ``epsilon``.

    ``x^0 = x + U(-eps, eps)`` (random start; ``x`` itself when ``key`` is ``None``),
    ``x^{t+1} = Proj(x^t + alpha sign(grad_x L(x^t, y)))`` where ``Proj`` clips to
    ``[x - eps, x + eps]`` and to ``clip_range``; the steps run in ``lax.fori_loop``.

    Args:
        key: PRNG key for the random start, or ``None`` to start at ``x``.
        apply_fn: ``apply_fn(variables, x) -> logits [N, K]``.
        variables: the model variables.
        x: ``[N, ...]`` floating inputs.
        labels: ``[N]`` integer labels.
        epsilon: radius of the ball, ``>= 0``.
        num_steps: ascent steps ``T``.
        step_size: ``alpha``; default ``2.5 eps / T``.
        clip_range: ``(low, high)`` valid input range, or ``None``.

    Returns:
        ``[N, ...]`` adversarial inputs with ``|x' - x| <= eps`` elementwise.

    Example:
        >>> import flax.linen as nn
        >>> model = nn.Dense(3); x = jnp.ones((2, 4))
        >>> variables = model.init(jax.random.key(0), x)
        >>> pgd(jax.random.key(1), model.apply, variables, x, jnp.array([0, 1]), 0.1).shape
        (2, 4)

    Reference: Madry, Makelov, Schmidt, Tsipras & Vladu, "Towards deep learning models
    resistant to adversarial attacks", 2018.
    """
    x = jnp.asarray(x)
    labels = jnp.asarray(labels)
    _check_inputs(x, labels, epsilon)
    _check_clip_range(clip_range)
    check_positive_int("num_steps", num_steps)
    if step_size is None:
        step_size = 2.5 * jnp.asarray(epsilon, x.dtype) / num_steps
    else:
        check_positive("step_size", step_size)
    epsilon = jnp.asarray(epsilon, x.dtype)
    step_size = jnp.asarray(step_size, x.dtype)
    low, high = x - epsilon, x + epsilon
    if key is None:
        start = x
    else:
        start = x + jax.random.uniform(key, x.shape, x.dtype, -1.0, 1.0) * epsilon
    start = _clip(start, clip_range)
    loss = _total_loss(apply_fn, variables, labels)

    def ascend(_, current):
        gradient = jax.grad(loss)(current)
        moved = jnp.clip(current + step_size * jnp.sign(gradient), low, high)
        return _clip(moved, clip_range)

    return jax.lax.fori_loop(0, num_steps, ascend, start)


def robust_accuracy(
    key: Key | None,
    apply_fn: ApplyFn,
    variables: PyTree,
    x: ArrayLike,
    labels: ArrayLike,
    epsilon: ArrayLike,
    *,
    attack: str = "fgsm",
    num_steps: int = 10,
    step_size: ArrayLike | None = None,
    clip_range: tuple[float, float] | None = None,
) -> Array:
    """Accuracy on adversarial examples: ``mean_n [argmax f(x'_n) = y_n]``.

    Args:
        key: PRNG key for PGD's random start (``None``: FGSM, or PGD from ``x``).
        apply_fn: ``apply_fn(variables, x) -> logits [N, K]``.
        variables: the model variables.
        x: ``[N, ...]`` floating inputs.
        labels: ``[N]`` integer labels.
        epsilon: attack radius (``0`` gives the clean accuracy).
        attack: ``"fgsm"`` or ``"pgd"``.
        num_steps, step_size: PGD settings.
        clip_range: valid input range.

    Returns:
        Scalar accuracy in ``[0, 1]``.

    Example:
        >>> import flax.linen as nn
        >>> model = nn.Dense(3); x = jnp.ones((2, 4))
        >>> variables = model.init(jax.random.key(0), x)
        >>> robust_accuracy(None, model.apply, variables, x, jnp.array([0, 1]), 0.1).shape
        ()
    """
    if attack == "fgsm":
        x_adversarial = fgsm(apply_fn, variables, x, labels, epsilon, clip_range=clip_range)
    elif attack == "pgd":
        x_adversarial = pgd(
            key,
            apply_fn,
            variables,
            x,
            labels,
            epsilon,
            num_steps=num_steps,
            step_size=step_size,
            clip_range=clip_range,
        )
    else:
        raise ValueError(f"attack must be 'fgsm' or 'pgd', got {attack!r}")
    logits = apply_fn(variables, x_adversarial)
    return jnp.mean((jnp.argmax(logits, axis=-1) == jnp.asarray(labels)).astype(jnp.float32))


class AdversarialLoss(SupervisedLoss):
    """``(1 - a) L(x, y) + a L(x_FGSM, y)``, a ``loss_fn`` for :func:`jaxdl.training.fit`.

    Built by :func:`make_adversarial_loss`; ``evaluate`` (inherited) reports the clean loss
    and metrics. Batches may carry per-example weights ``(x, y, weights)``.
    """

    def __init__(
        self,
        model: nn.Module,
        epsilon: float,
        adversarial_weight: float,
        loss: str,
        metrics: tuple[str, ...],
        clip_range: tuple[float, float] | None,
    ):
        super().__init__(model, loss, metrics)
        self.epsilon = epsilon
        self.adversarial_weight = adversarial_weight
        self.clip_range = clip_range

    def adversarial_inputs(self, params: PyTree, model_state: PyTree, batch: Batch) -> Array:
        """FGSM inputs for the current parameters (inference mode), gradients stopped."""
        x, y = batch[0], batch[1]

        def total(inputs: Array) -> Array:
            outputs, _ = self._apply(params, model_state, inputs, False, None)
            return jnp.sum(self.per_example_loss(outputs, y))

        x_adversarial = _clip(fast_gradient_sign(total, x, self.epsilon), self.clip_range)
        return jax.lax.stop_gradient(x_adversarial)

    def __call__(
        self, params: PyTree, model_state: PyTree, batch: Batch, key: Key | None
    ) -> tuple[Array, tuple[PyTree, Metrics]]:
        x_adversarial = self.adversarial_inputs(params, model_state, batch)
        if key is None:
            clean_key = adversarial_key = None
        else:
            clean_key, adversarial_key = jax.random.split(key)
        outputs, new_state = self._apply(params, model_state, batch[0], True, clean_key)
        clean_loss, metrics = self._loss_and_metrics(outputs, batch)
        adversarial_outputs, new_state = self._apply(
            params, new_state, x_adversarial, True, adversarial_key
        )
        adversarial_batch = (x_adversarial, *batch[1:])
        adversarial_loss_value, adversarial_metrics = self._loss_and_metrics(
            adversarial_outputs, adversarial_batch
        )
        weight = self.adversarial_weight
        loss = (1.0 - weight) * clean_loss + weight * adversarial_loss_value
        metrics = dict(metrics)
        metrics.update({f"adversarial_{k}": v for k, v in adversarial_metrics.items()})
        metrics["clean_loss"] = clean_loss
        metrics["adversarial_loss"] = adversarial_loss_value
        return loss, (new_state, metrics)


def make_adversarial_loss(
    model: nn.Module,
    epsilon: float,
    *,
    adversarial_weight: float = 0.5,
    loss: str = "cross_entropy",
    metrics: tuple[str, ...] = ("accuracy",),
    clip_range: tuple[float, float] | None = None,
) -> AdversarialLoss:
    """Adversarial training objective ``J~ = (1 - a) J(theta; x, y) + a J(theta; x', y)``.

    ``x' = x + eps sign(grad_x J(theta; x, y))`` is made from the current parameters at
    every step (FGSM, gradients through ``x'`` stopped); ``a = 1/2`` in Goodfellow et al.

    Args:
        model: a flax classifier.
        epsilon: FGSM radius, ``>= 0``.
        adversarial_weight: ``a`` in ``[0, 1]``.
        loss: loss name for :func:`jaxdl.training.make_supervised_loss`.
        metrics: metric names (reported on clean and on adversarial inputs).
        clip_range: valid input range for the adversarial inputs.

    Returns:
        An :class:`AdversarialLoss` usable as ``fit``'s ``loss_fn``.

    Example:
        >>> from jaxdl.nn import MLP
        >>> loss_fn = make_adversarial_loss(MLP(features=(16, 10)), 0.1)

    Reference: Goodfellow, Shlens & Szegedy, "Explaining and harnessing adversarial
    examples", 2015.
    """
    check_positive("epsilon", epsilon, allow_zero=True)
    check_in_range("adversarial_weight", adversarial_weight, 0.0, 1.0)
    _check_clip_range(clip_range)
    return AdversarialLoss(model, epsilon, adversarial_weight, loss, tuple(metrics), clip_range)
