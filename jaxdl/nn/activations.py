"""Activation functions of a neuron and their closed-form derivatives.

A neuron computes ``h = phi(s)`` from its net input ``s = w . x + b``. Every activation
here comes with ``<name>_derivative(s) = phi'(s)`` written out by hand (not by autodiff),
so the hand-written backpropagation in :mod:`jaxdl.nn.backprop` can use them and the
tests can compare them with ``jax.grad``.

==============  =============================  ======================================
name            phi(s)                         phi'(s)
==============  =============================  ======================================
``sigmoid``     1 / (1 + exp(-s))              phi(s) (1 - phi(s))
``tanh``        (1 - e^{-2s}) / (1 + e^{-2s})  1 - phi(s)^2
``relu``        max(0, s)                      1[s > 0]
``leaky_relu``  max(0, s) + a min(0, s)        1 if s > 0 else a
``gaussian``    exp(-s^2 / 2)                  -s phi(s)
``linear``      s                              1
``step``        1[s >= 0]                      0 (almost everywhere)
``sign``        +1 if s >= 0 else -1           0 (almost everywhere)
``softplus``    log(1 + exp(s))                sigmoid(s)
``cosine``      cos(s)                         -sin(s)
==============  =============================  ======================================

``clipped_linear`` (``max(0, min(1, s))``) is not in the table: it is the output unit
the course rejects for Bernoulli targets, kept to show why (its gradient is zero outside
``(0, 1)``, so a confidently wrong unit never learns).

The kinks of ``relu``/``leaky_relu`` (at 0) use the right-hand convention ``phi'(0) = 0``
for ReLU (as ``jax.nn.relu``) and ``a`` for leaky ReLU. ``step`` and ``sign`` jump at 0;
their derivative is zero wherever it exists, so gradient descent cannot train them
(this is why the perceptron has its own update rule).
"""

from __future__ import annotations

from collections.abc import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import ActivationFn, Array, ArrayLike

__all__ = [
    "clipped_linear",
    "clipped_linear_derivative",
    "cosine",
    "cosine_derivative",
    "identity",
    "identity_derivative",
    "ACTIVATIONS",
    "PReLU",
    "gaussian",
    "gaussian_derivative",
    "get_activation",
    "get_activation_derivative",
    "leaky_relu",
    "leaky_relu_derivative",
    "relu",
    "relu_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "sign",
    "sign_derivative",
    "softplus",
    "softplus_derivative",
    "step",
    "step_derivative",
    "tanh",
    "tanh_derivative",
]


def _float(x: ArrayLike) -> Array:
    """``x`` as a floating array (integers become the default float dtype)."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.floating):
        x = x.astype(jnp.result_type(float))
    return x


def sigmoid(x: ArrayLike) -> Array:
    """Logistic sigmoid, the smooth 0/1 unit.

    ``sigma(x) = 1 / (1 + exp(-x))``, with values in (0, 1).

    Args:
        x: net input, any shape.

    Returns:
        ``sigma(x)``, same shape as ``x``.

    Example:
        >>> float(sigmoid(0.0))
        0.5
    """
    return jax.nn.sigmoid(_float(x))


def sigmoid_derivative(x: ArrayLike) -> Array:
    """Derivative of the sigmoid, ``sigma'(x) = sigma(x) (1 - sigma(x))``.

    Args:
        x: net input, any shape.

    Returns:
        ``sigma(x) (1 - sigma(x))``, same shape as ``x``; at most 1/4 (at ``x = 0``).

    Example:
        >>> float(sigmoid_derivative(0.0))
        0.25
    """
    s = sigmoid(x)
    return s * (1.0 - s)


def tanh(x: ArrayLike) -> Array:
    """Hyperbolic tangent, ``tanh(x) = (1 - e^{-2x}) / (1 + e^{-2x}) = 2 sigma(2x) - 1``.

    Args:
        x: net input, any shape.

    Returns:
        ``tanh(x)`` in (-1, 1), same shape as ``x``.

    Example:
        >>> float(tanh(0.0))
        0.0
    """
    return jnp.tanh(_float(x))


def tanh_derivative(x: ArrayLike) -> Array:
    """Derivative of tanh, ``1 - tanh(x)^2``.

    Args:
        x: net input, any shape.

    Returns:
        ``1 - tanh(x)^2``, same shape as ``x``.

    Example:
        >>> float(tanh_derivative(0.0))
        1.0
    """
    t = tanh(x)
    return 1.0 - t * t


def relu(x: ArrayLike) -> Array:
    """Rectified linear unit, ``max(0, x)`` (Nair & Hinton, 2010).

    Args:
        x: net input, any shape.

    Returns:
        ``max(0, x)``, same shape as ``x``.

    Example:
        >>> relu(jnp.array([-1.0, 2.0])).tolist()
        [0.0, 2.0]
    """
    return jax.nn.relu(_float(x))


def relu_derivative(x: ArrayLike) -> Array:
    """Derivative of ReLU, the indicator ``1[x > 0]`` (0 at the kink, as ``jax.grad``).

    Args:
        x: net input, any shape.

    Returns:
        ``1.0`` where ``x > 0`` and ``0.0`` elsewhere, same shape and dtype as ``x``.

    Example:
        >>> relu_derivative(jnp.array([-1.0, 2.0])).tolist()
        [0.0, 1.0]
    """
    x = _float(x)
    return (x > 0).astype(x.dtype)


def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> Array:
    """Leaky ReLU, ``max(0, x) + a min(0, x)`` with slope ``a`` for negative inputs.

    Keeps a small gradient where a ReLU would be inactive (Maas et al., 2013).

    Args:
        x: net input, any shape.
        negative_slope: the slope ``a`` for ``x < 0`` (0.01 by default).

    Returns:
        ``x`` where ``x > 0`` and ``a x`` elsewhere, same shape as ``x``.

    Example:
        >>> leaky_relu(jnp.array([-2.0, 3.0]), negative_slope=0.5).tolist()
        [-1.0, 3.0]
    """
    x = _float(x)
    return jnp.where(x > 0, x, negative_slope * x)


def leaky_relu_derivative(x: ArrayLike, negative_slope: float = 0.01) -> Array:
    """Derivative of leaky ReLU: 1 for ``x > 0``, ``negative_slope`` elsewhere.

    Args:
        x: net input, any shape.
        negative_slope: the slope ``a`` for ``x < 0``.

    Returns:
        ``1`` or ``a`` per element, same shape and dtype as ``x``.

    Example:
        >>> leaky_relu_derivative(jnp.array([-2.0, 3.0]), negative_slope=0.5).tolist()
        [0.5, 1.0]
    """
    x = _float(x)
    return jnp.where(x > 0, jnp.ones_like(x), jnp.full_like(x, negative_slope))


def gaussian(x: ArrayLike) -> Array:
    """Gaussian (radial) activation, ``exp(-x^2 / 2)``.

    Args:
        x: net input, any shape.

    Returns:
        ``exp(-x^2 / 2)`` in (0, 1], same shape as ``x``.

    Example:
        >>> float(gaussian(0.0))
        1.0
    """
    x = _float(x)
    return jnp.exp(-0.5 * x * x)


def gaussian_derivative(x: ArrayLike) -> Array:
    """Derivative of the Gaussian activation, ``-x exp(-x^2 / 2)``.

    Args:
        x: net input, any shape.

    Returns:
        ``-x phi(x)``, same shape as ``x``.

    Example:
        >>> float(gaussian_derivative(0.0))
        -0.0
    """
    x = _float(x)
    return -x * gaussian(x)


def identity(x: ArrayLike) -> Array:
    """Identity activation ``phi(x) = x`` (a linear unit, e.g. a regression output).

    Its string name for :func:`get_activation` and the MLP is ``"linear"`` (or
    ``"identity"``); the function is called ``identity`` so that it does not shadow the
    module :mod:`jaxdl.nn.linear`.

    Args:
        x: net input, any shape.

    Returns:
        ``x`` as a floating array.

    Example:
        >>> float(identity(3.0))
        3.0
    """
    return _float(x)


def identity_derivative(x: ArrayLike) -> Array:
    """Derivative of the identity: ones.

    Args:
        x: net input, any shape.

    Returns:
        ones of the same shape and dtype as ``x``.

    Example:
        >>> float(identity_derivative(3.0))
        1.0
    """
    return jnp.ones_like(_float(x))


def step(x: ArrayLike) -> Array:
    """Hard threshold (Heaviside) unit with outputs 0/1: ``1[x >= 0]``.

    Args:
        x: net input, any shape.

    Returns:
        ``1.0`` where ``x >= 0`` and ``0.0`` elsewhere (same dtype as ``x``).

    Example:
        >>> step(jnp.array([-1.0, 0.0, 2.0])).tolist()
        [0.0, 1.0, 1.0]
    """
    x = _float(x)
    return (x >= 0).astype(x.dtype)


def step_derivative(x: ArrayLike) -> Array:
    """Derivative of the hard threshold: zero wherever it exists (all ``x != 0``).

    The jump at 0 has no derivative; zero is returned there too, matching ``jax.grad``.

    Args:
        x: net input, any shape.

    Returns:
        zeros of the same shape and dtype as ``x``.

    Example:
        >>> float(step_derivative(1.0))
        0.0
    """
    return jnp.zeros_like(_float(x))


def sign(x: ArrayLike) -> Array:
    """Sign unit with outputs -1/+1 (the perceptron's output): ``+1 if x >= 0 else -1``.

    Unlike ``jnp.sign`` the output is never 0: ``sign(0) = +1``, so it is always a class.

    Args:
        x: net input, any shape.

    Returns:
        ``+1.0`` where ``x >= 0`` and ``-1.0`` elsewhere (same dtype as ``x``).

    Example:
        >>> sign(jnp.array([-0.5, 0.0, 2.0])).tolist()
        [-1.0, 1.0, 1.0]
    """
    x = _float(x)
    return jnp.where(x >= 0, jnp.ones_like(x), -jnp.ones_like(x))


def sign_derivative(x: ArrayLike) -> Array:
    """Derivative of the sign unit: zero wherever it exists (all ``x != 0``).

    Args:
        x: net input, any shape.

    Returns:
        zeros of the same shape and dtype as ``x``.

    Example:
        >>> float(sign_derivative(-2.0))
        0.0
    """
    return jnp.zeros_like(_float(x))


def softplus(x: ArrayLike) -> Array:
    """Softplus ``zeta(x) = log(1 + exp(x))``, a smooth ReLU (computed stably).

    Args:
        x: net input, any shape.

    Returns:
        ``log(1 + exp(x)) > 0``, same shape as ``x``.

    Example:
        >>> round(float(softplus(0.0)), 6)
        0.693147
    """
    return jax.nn.softplus(_float(x))


def softplus_derivative(x: ArrayLike) -> Array:
    """Derivative of softplus: the sigmoid, ``zeta'(x) = sigma(x)``.

    Args:
        x: net input, any shape.

    Returns:
        ``sigma(x)``, same shape as ``x``.

    Example:
        >>> float(softplus_derivative(0.0))
        0.5
    """
    return sigmoid(x)


def cosine(x: ArrayLike) -> Array:
    """The cosine activation ``phi(x) = cos(x)``: periodic, bounded in ``[-1, 1]``.

    The course lists it among the differentiable functions that work as hidden units but
    show no clear advantage over the common ones (Goodfellow et al., 2016, sec. 6.3.3).

    Args:
        x: net input, any shape.

    Returns:
        ``cos(x)``, same shape as ``x``.

    Example:
        >>> float(cosine(0.0))
        1.0
    """
    return jnp.cos(_float(x))


def cosine_derivative(x: ArrayLike) -> Array:
    """Derivative of the cosine activation: ``phi'(x) = -sin(x)``.

    Args:
        x: net input, any shape.

    Returns:
        ``-sin(x)``, same shape as ``x``.

    Example:
        >>> float(cosine_derivative(0.0))
        -0.0
    """
    return -jnp.sin(_float(x))


def clipped_linear(x: ArrayLike) -> Array:
    """The clipped linear unit ``phi(z) = max(0, min(1, z))``, a probability by clipping.

    Used as a Bernoulli output unit on ``z = w . h + b`` it gives valid probabilities,
    but its gradient is zero whenever ``z`` leaves ``(0, 1)``: a unit that is confidently
    wrong gets no signal. The sigmoid with the log-likelihood cost fixes this
    (Goodfellow et al., 2016, sec. 6.2.2.2).

    Args:
        x: net input ``z``, any shape.

    Returns:
        ``z`` clipped to ``[0, 1]``, same shape.

    Example:
        >>> clipped_linear(jnp.array([-2.0, 0.25, 3.0])).tolist()
        [0.0, 0.25, 1.0]
    """
    return jnp.clip(_float(x), 0.0, 1.0)


def clipped_linear_derivative(x: ArrayLike) -> Array:
    """Derivative of :func:`clipped_linear`: ``1`` on ``(0, 1)``, ``0`` outside.

    At the kinks 0 and 1 this takes 0 (``jax.grad`` of ``jnp.clip`` averages to 1/2 there).

    Args:
        x: net input, any shape.

    Returns:
        ``1[0 < x < 1]`` as floats, same shape as ``x``.

    Example:
        >>> clipped_linear_derivative(jnp.array([-2.0, 0.5, 3.0])).tolist()
        [0.0, 1.0, 0.0]
    """
    x = _float(x)
    return ((x > 0.0) & (x < 1.0)).astype(x.dtype)


ACTIVATIONS: dict[str, tuple[ActivationFn, ActivationFn]] = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "logistic": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
    "gaussian": (gaussian, gaussian_derivative),
    "linear": (identity, identity_derivative),
    "identity": (identity, identity_derivative),
    "step": (step, step_derivative),
    "sign": (sign, sign_derivative),
    "softplus": (softplus, softplus_derivative),
    "cosine": (cosine, cosine_derivative),
}
"""Activation name -> ``(phi, phi')``. ``logistic`` and ``identity`` are aliases."""


def _unknown(name: object) -> ValueError:
    known = ", ".join(sorted(ACTIVATIONS))
    return ValueError(f"activation must be one of {known} or a callable, got {name!r}")


def get_activation(activation: str | Callable[[Array], Array]) -> ActivationFn:
    """Look up an activation by name, or pass a callable through unchanged.

    Args:
        activation: a name from :data:`ACTIVATIONS` (e.g. ``"relu"``) or a callable
            ``phi(x) -> Array``.

    Returns:
        the activation function.

    Raises:
        ValueError: for an unknown name (the message lists the known ones).

    Example:
        >>> get_activation("relu")(jnp.array([-1.0, 1.0])).tolist()
        [0.0, 1.0]
    """
    if callable(activation):
        return activation
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation][0]
    raise _unknown(activation)


def _resolve_activation(
    name: str | Callable[[Array], Array], argument: str = "activation"
) -> Callable[[Array], Array]:
    """``get_activation`` with the offending argument's name in the error message."""
    try:
        return get_activation(name)
    except ValueError as error:
        raise ValueError(f"{argument}: {error}") from None


def get_activation_derivative(activation: str | Callable[[Array], Array]) -> ActivationFn:
    """The derivative ``phi'`` of an activation given by name or as an elementwise callable.

    Names use the closed forms of this module. For a callable ``phi`` (which must act
    elementwise) the derivative is the forward-mode product ``J_phi(s) 1``, which equals
    ``phi'(s)`` elementwise; if ``phi`` is one of this module's functions its closed form
    is used instead.

    Args:
        activation: a name from :data:`ACTIVATIONS` or an elementwise callable.

    Returns:
        ``phi'`` as a function of the net input.

    Raises:
        ValueError: for an unknown name.

    Example:
        >>> float(get_activation_derivative("sigmoid")(0.0))
        0.25
    """
    if isinstance(activation, str):
        if activation not in ACTIVATIONS:
            raise _unknown(activation)
        return ACTIVATIONS[activation][1]
    if not callable(activation):
        raise _unknown(activation)
    for function, derivative in ACTIVATIONS.values():
        if activation is function:
            return derivative

    def derivative(x: ArrayLike) -> Array:
        x = _float(x)
        return jax.jvp(activation, (x,), (jnp.ones_like(x),))[1]

    return derivative


class PReLU(nn.Module):
    """Parametric ReLU: a leaky ReLU whose negative slope is learned (He et al., 2015).

    ``phi(x) = x`` for ``x > 0`` and ``a x`` otherwise, with the parameter ``a`` (named
    ``"negative_slope"``) either one scalar shared by all units, or one slope per feature
    (last axis) when ``num_slopes`` equals the number of features.

    Attributes:
        num_slopes: 1 for a single shared slope, or the size of the last input axis.
        negative_slope_init: initial value of ``a``.

    Example:
        >>> layer = PReLU(negative_slope_init=0.25)
        >>> params = layer.init(jax.random.key(1), jnp.ones((2, 3)))
        >>> layer.apply(params, jnp.array([[-4.0, 0.0, 2.0]])).tolist()
        [[-1.0, 0.0, 2.0]]
    """

    num_slopes: int = 1
    negative_slope_init: float = 0.25

    @nn.compact
    def __call__(self, x: Array) -> Array:
        """Apply the PReLU to ``x`` of shape ``[..., features]``."""
        check_positive_int("num_slopes", self.num_slopes)
        x = _float(x)
        if self.num_slopes != 1 and (x.ndim == 0 or x.shape[-1] != self.num_slopes):
            raise ValueError(
                f"x must have a last axis of size num_slopes={self.num_slopes}, got shape {x.shape}"
            )
        slope = self.param(
            "negative_slope",
            nn.initializers.constant(self.negative_slope_init),
            (self.num_slopes,),
            x.dtype,
        )
        if self.num_slopes == 1:
            slope = slope[0]
        else:
            slope = slope.reshape((1,) * (x.ndim - 1) + (self.num_slopes,))
        return jnp.where(x > 0, x, slope * x)


register_model(ModelSpec(name="PReLU", make=lambda: PReLU(num_slopes=4), input_shape=(4,)))
