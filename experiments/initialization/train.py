"""Parameter initialization: the scale of the weights and the need to break symmetry.

Part 1 (scale): push a batch of unit-variance inputs through a deep plain network,
``h_l = phi(h_{l-1} W_l)`` with ``W_l ~ N(0, g^2 / m)``, for tanh and ReLU and several
gains ``g``; record the activation standard deviation and the gradient norm at every
layer. Too small weights make the signal vanish, too large ones make it explode (ReLU)
or saturate the units (tanh); ``g = 1`` suits tanh near the origin and ``g = sqrt(2)``
suits ReLU, which zeroes half of its inputs.

Part 2 (symmetry): a one-hidden-layer tanh MLP on XOR with every weight set to the same
constant. All hidden units compute the same function and receive the same gradient, so
they stay identical: the network behaves like one hidden unit and fails, while random
initialization solves the problem.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxdl.data.toy import xor
from jaxdl.experiment import Run, figure, line_plot
from jaxdl.nn.initializers import constant
from jaxdl.nn.mlp import MLP
from jaxdl.training import create_train_state, fit, make_supervised_loss

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu}


def compiled_train_state(key, model, example_input, tx):
    """``create_train_state`` run as one compiled program (faster than op-by-op init)."""
    return jax.jit(lambda k, x: create_train_state(k, model, x, tx))(key, example_input)


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


def scale_study(key, config: dict, workdir: Run, logger) -> dict:
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
                    study="scale",
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


def unit_spread(kernel: np.ndarray) -> float:
    """Largest difference between any hidden unit's incoming weights and the first unit's."""
    kernel = np.asarray(kernel)
    return float(np.max(np.abs(kernel - kernel[:, :1])))


def symmetry_study(key, config: dict, workdir: Run, logger) -> dict:
    train_key, test_key, init_key, fit_key = jax.random.split(key, 4)
    x, y = jax.jit(lambda k: xor(k, config["xor_num_train"], config["xor_noise"]))(train_key)
    x_test, y_test = jax.jit(lambda k: xor(k, config["xor_num_test"], config["xor_noise"]))(
        test_key
    )
    features = (config["xor_hidden"], 2)
    models = {
        "random": MLP(features=features, activation="tanh", output=None),
        "symmetric": MLP(
            features=features,
            activation="tanh",
            output=None,
            kernel_init=constant(config["symmetric_value"]),
        ),
    }
    summary: dict = {}
    curves = {}
    for i, (name, model) in enumerate(models.items()):
        loss_fn = make_supervised_loss(model, "cross_entropy", ("accuracy",))
        state = compiled_train_state(
            jax.random.clone(init_key), model, x[:1], optax.sgd(config["learning_rate"])
        )
        result = fit(
            jax.random.fold_in(fit_key, i),
            state,
            loss_fn,
            (x, y),
            num_epochs=config["num_epochs"],
            epochs_per_chunk=config["epochs_per_chunk"],
            progress=workdir.progress,
            callback=lambda r, name=name: logger.log(
                r["step"],
                study="symmetry",
                init=name,
                **{k: v for k, v in r.items() if k != "step"},
            ),
        )
        params = result.state.params
        test = jax.jit(loss_fn.evaluate)(params, {}, (x_test, y_test))
        curves[name] = [r["train_loss"] for r in result.history]
        summary[f"{name}_unit_spread"] = unit_spread(params["Dense_0"]["kernel"])
        summary[f"{name}_initial_unit_spread"] = unit_spread(state.params["Dense_0"]["kernel"])
        summary[f"{name}_test_accuracy"] = float(test["accuracy"])
        summary[f"{name}_first_train_loss"] = result.history[0]["train_loss"]
        summary[f"{name}_final_train_loss"] = result.history[-1]["train_loss"]
    line_plot(
        workdir / "symmetry_loss.png",
        curves,
        xlabel="epoch",
        ylabel="training loss (cross-entropy, nats)",
        title="XOR: random vs constant (symmetric) initial weights",
    )
    return summary


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run both studies, write the plots into ``workdir``; return the metrics."""
    logger = workdir.logger
    scale_key, symmetry_key = jax.random.split(workdir.key)
    summary = {
        **scale_study(scale_key, config, workdir, logger),
        **symmetry_study(symmetry_key, config, workdir, logger),
    }
    return summary
