"""FGSM / PGD robust accuracy of a digits MLP before and after adversarial training.

The 8x8 digits (pixels scaled to [0, 1]) train a ReLU MLP twice with the same
initialization and minibatches: once on the clean loss, once on the adversarial
training loss ``(1 - a) L(x) + a L(x_FGSM)`` (Goodfellow et al. 2015, ``a = 1/2``).
Both are attacked on the test set with FGSM and with PGD (random start, ``num_steps``
steps) at several radii ``epsilon`` (L-inf, clipped to [0, 1]).
"""

from __future__ import annotations

import jax
import numpy as np
import optax

from jaxdl.adversarial import make_adversarial_loss, robust_accuracy
from jaxdl.data import load_digits
from jaxdl.experiment import Run, history_columns, line_plot
from jaxdl.nn import MLP
from jaxdl.training import create_train_state, fit, make_supervised_loss

CLIP_RANGE = (0.0, 1.0)


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Train both models, attack them, write the plots; return the metrics."""
    logger = workdir.logger
    data = load_digits(seed=config["data_seed"])
    num_train = config["num_train"] or len(data.x_train)
    x_train, y_train = data.x_train[:num_train] / 16.0, data.y_train[:num_train]
    x_test, y_test = data.x_test / 16.0, data.y_test
    model = MLP(features=(*config["hidden"], data.num_classes), activation="relu", output=None)
    init_key, fit_key, attack_key = jax.random.split(workdir.key, 3)

    losses = {
        "standard": make_supervised_loss(model, "cross_entropy", ("accuracy",)),
        "adversarial": make_adversarial_loss(
            model,
            config["train_epsilon"],
            adversarial_weight=config["adversarial_weight"],
            clip_range=CLIP_RANGE,
        ),
    }
    summary: dict = {"epsilons": list(config["epsilons"])}
    curves = {}
    for name, loss_fn in losses.items():
        # same initialization and minibatch order for both runs (fresh copies of the keys)
        state = create_train_state(
            jax.random.clone(init_key), model, x_train[:1], optax.adam(config["learning_rate"])
        )
        result = fit(
            jax.random.clone(fit_key),
            state,
            loss_fn,
            (x_train, y_train),
            num_epochs=config["num_epochs"],
            batch_size=config["batch_size"],
            progress=workdir.progress,
        )
        for record in result.history:
            logger.log(record["step"], run=name, **record)
        history = result.history
        summary[f"first_train_loss_{name}"] = history[0]["train_loss"]
        summary[f"final_train_loss_{name}"] = history[-1]["train_loss"]
        curves[f"{name} train"] = history_columns(history, "train_loss")["train_loss"]
        variables = {"params": result.state.params}
        for attack in ("fgsm", "pgd"):
            accuracies = []
            for i, epsilon in enumerate(config["epsilons"]):
                accuracies.append(
                    float(
                        robust_accuracy(
                            jax.random.fold_in(jax.random.clone(attack_key), i),
                            model.apply,
                            variables,
                            x_test,
                            y_test,
                            epsilon,
                            attack=attack,
                            num_steps=config["pgd_steps"],
                            clip_range=CLIP_RANGE,
                        )
                    )
                )
            summary[f"{attack}_accuracy_{name}"] = accuracies
        summary[f"clean_accuracy_{name}"] = float(
            robust_accuracy(None, model.apply, variables, x_test, y_test, 0.0)
        )
        if workdir.progress:
            print(name, {k: v for k, v in summary.items() if k.endswith(name)})

    line_plot(
        workdir / "loss.png",
        curves,
        xlabel="epoch",
        ylabel="training loss (cross-entropy, nats)",
        title="digits MLP: training loss",
    )
    line_plot(
        workdir / "robust_accuracy.png",
        {
            f"{attack.upper()}, {name}": summary[f"{attack}_accuracy_{name}"]
            for name in losses
            for attack in ("fgsm", "pgd")
        },
        x=np.asarray(config["epsilons"]),
        xlabel="epsilon (L-inf, pixels in [0, 1])",
        ylabel="test accuracy",
        title="Robust accuracy before / after adversarial training",
    )
    return summary
