"""Initialization scale: activations and gradients through 20 layers for several weight gains.

A batch of unit-variance inputs goes through a deep plain network,
``h_l = phi(h_{l-1} W_l)`` with ``W_l ~ N(0, g^2 / m)``, for tanh and ReLU and several
gains ``g``; we record the activation standard deviation and the gradient norm at every
layer. Too small weights make the signal vanish, too large ones make it explode (ReLU) or
saturate the units (tanh); ``g = 1`` suits tanh near the origin and ``g = sqrt(2)`` suits
ReLU, which zeroes half of its inputs.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxdl.experiment import Run, figure

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu}


@functools.partial(jax.jit, static_argnames="activation")
def _propagate(weights, x, projection, activation: str):
    """Gradients of ``L = sum(h_L * r) / n`` with per-layer std and tanh saturation."""
    phi = ACTIVATIONS[activation]

    def objective(stacked):
        def layer(h, w):
            h = phi(h @ w)
            return h, (jnp.std(h), jnp.mean(jnp.abs(h) > 0.99))

        h, (stds, saturation) = lax.scan(layer, x, stacked)
        return jnp.sum(h * projection) / x.shape[0], (stds, saturation)

    grads, (stds, saturation) = jax.grad(objective, has_aux=True)(weights)
    return stds, saturation, jnp.sqrt(jnp.sum(jnp.square(grads), axis=(1, 2)))


def signal_propagation(
    key, activation: str, gain: float, depth: int, width: int, num_examples: int
) -> dict[str, np.ndarray]:
    """Per-layer activation std, tanh saturation and weight-gradient norm of a deep net.

    The network is ``h_l = phi(h_{l-1} W_l)`` (no biases) with ``W_l ~ N(0, gain^2 /
    width)``, run as one ``lax.scan`` over the stacked layers. The backward signal is a
    random unit-variance projection of the last layer, ``L = sum(h_L * r) / n``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    w_key, x_key, r_key = jax.random.split(key, 3)
    weights = gain / math.sqrt(width) * jax.random.normal(w_key, (depth, width, width))
    x = jax.random.normal(x_key, (num_examples, width))
    projection = jax.random.normal(r_key, (num_examples, width))
    stds, saturation, grad_norms = _propagate(weights, x, projection, activation)
    return {
        "std": np.asarray(stds),
        "saturation": np.asarray(saturation),
        "grad_norm": np.asarray(grad_norms),
    }


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Signal statistics for every activation and gain; write the plot; return the metrics."""
    key, logger = workdir.key, workdir.logger
    summary: dict = {}
    results: dict[str, dict[str, dict[str, np.ndarray]]] = {}
    for activation in config["activations"]:
        results[activation] = {}
        for gain in config["gains"]:
            # the same random numbers for every gain: only the scale changes
            stats = signal_propagation(
                jax.random.clone(key),
                activation,
                gain,
                config["depth"],
                config["width"],
                config["num_examples"],
            )
            label = f"g={gain:.2f}"
            results[activation][label] = stats
            for layer, (std, grad) in enumerate(zip(stats["std"], stats["grad_norm"], strict=True)):
                logger.log(
                    layer + 1,
                    activation=activation,
                    gain=gain,
                    activation_std=std,
                    gradient_norm=grad,
                    saturation=stats["saturation"][layer],
                )
            tag = f"{activation}_g{gain:.2f}"
            summary[f"last_layer_std_{tag}"] = float(stats["std"][-1])
            summary[f"first_layer_std_{tag}"] = float(stats["std"][0])
            summary[f"first_layer_grad_norm_{tag}"] = float(stats["grad_norm"][0])
            if activation == "tanh":
                summary[f"last_layer_saturation_{tag}"] = float(stats["saturation"][-1])

    layers = np.arange(1, config["depth"] + 1)
    num = len(results)
    with figure(
        workdir / "activation_scale.png", 2, num, figsize=(6 * num, 8), squeeze=False
    ) as axes:
        for column, (activation, per_gain) in enumerate(results.items()):
            for label, stats in per_gain.items():
                axes[0, column].plot(layers, stats["std"], marker="o", ms=3, label=label)
                axes[1, column].plot(layers, stats["grad_norm"], marker="o", ms=3, label=label)
            axes[0, column].set_title(f"{activation}: activation std per layer")
            axes[1, column].set_title(f"{activation}: ||dL/dW_l|| per layer")
            axes[0, column].set_ylabel("std of the layer's activations")
            axes[1, column].set_ylabel("gradient norm ||dL/dW_l||")
            for row in range(2):
                axes[row, column].set_yscale("log")
                axes[row, column].set_xlabel("layer")
                axes[row, column].grid(alpha=0.3)
                axes[row, column].legend(title="W ~ N(0, g^2/m)", fontsize=8)
    return summary
