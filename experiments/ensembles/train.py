"""Bagging and AdaBoost (SAMME) against a single model on noisy two moons.

Bagging: ``num_members`` copies of an over-parameterized MLP, each trained on its own
bootstrap resample (resample counts as example weights; all members in one compiled
``fit_many``), combined by majority vote and by averaging probabilities, against one MLP
trained on the whole training set with the same settings. The out-of-bag accuracy
estimates the ensemble's test accuracy without a test set.

Boosting: SAMME with decision stumps (``boost_rounds`` rounds) and with linear softmax
classifiers trained on weighted cross-entropy (``network_rounds`` rounds) against a
single weak learner of each kind.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.data import moons
from jaxdl.experiment import Run, line_plot
from jaxdl.nn import MLP
from jaxdl.selection import (
    adaboost_samme,
    average_probabilities,
    bagging,
    boosted_predict,
    ensemble_outputs,
    majority_vote,
    network_weak_learner,
    out_of_bag_accuracy,
    stump_weak_learner,
)
from jaxdl.training import create_train_state, fit, make_supervised_loss


def _accuracy(predicted, labels) -> float:
    return float(jnp.mean((predicted == labels).astype(jnp.float32)))


def train_and_evaluate(config: dict, workdir: Run) -> dict:
    """Run bagging and boosting, write the plots; return the metrics."""
    logger = workdir.logger
    keys = jax.random.split(workdir.key, 7)
    x, y = moons(keys[0], config["num_train"], config["noise"])
    x_test, y_test = moons(keys[1], config["num_test"], config["noise"])
    model = MLP(features=(*config["hidden"], 2), activation="relu", output=None)
    tx = optax.adam(config["learning_rate"])
    summary: dict = {}

    # --- single model vs bagging
    single_state = create_train_state(keys[2], model, x[:1], tx)
    single = fit(
        keys[3],
        single_state,
        make_supervised_loss(model),
        (x, y),
        num_epochs=config["num_epochs"],
        progress=False,
    )
    single_logits = model.apply({"params": single.state.params}, x_test)
    summary["single_mlp_test_accuracy"] = _accuracy(jnp.argmax(single_logits, -1), y_test)
    summary["single_mlp_train_accuracy"] = _accuracy(
        jnp.argmax(model.apply({"params": single.state.params}, x), -1), y
    )

    bag = bagging(
        keys[4], model, tx, (x, y), config["num_members"], num_epochs=config["num_epochs"]
    )
    member_losses = np.asarray(bag.fit.history["train_loss"])  # [M, epochs]
    for epoch in range(0, member_losses.shape[1], max(1, member_losses.shape[1] // 50)):
        logger.log(
            epoch, part="bagging", mean_member_train_loss=float(member_losses[:, epoch].mean())
        )
    summary["first_train_loss"] = float(member_losses[:, 0].mean())
    summary["final_train_loss"] = float(member_losses[:, -1].mean())
    logits = ensemble_outputs(model, bag.state, x_test)  # [M, N, 2]
    member_predictions = jnp.argmax(logits, -1).astype(jnp.int32)
    member_accuracies = [_accuracy(p, y_test) for p in member_predictions]
    summary["mean_member_test_accuracy"] = float(np.mean(member_accuracies))
    summary["bagging_vote_test_accuracy"] = _accuracy(majority_vote(member_predictions, 2), y_test)
    summary["bagging_average_test_accuracy"] = _accuracy(
        jnp.argmax(average_probabilities(logits), -1), y_test
    )
    train_logits = ensemble_outputs(model, bag.state, x)
    summary["bagging_out_of_bag_accuracy"] = float(
        out_of_bag_accuracy(train_logits, y, bag.resamples.out_of_bag)
    )
    by_size = [
        _accuracy(jnp.argmax(average_probabilities(logits[:m]), -1), y_test)
        for m in range(1, config["num_members"] + 1)
    ]
    summary["bagging_accuracy_by_members"] = by_size

    # --- boosting stumps and linear classifiers
    stumps = adaboost_samme(
        keys[5], stump_weak_learner(2), (x, y), num_classes=2, num_rounds=config["boost_rounds"]
    )
    summary["single_stump_test_accuracy"] = _accuracy(stumps.learners[0](x_test), y_test)
    summary["boosted_stumps_test_accuracy"] = _accuracy(boosted_predict(stumps, x_test), y_test)
    summary["boosted_stumps_rounds"] = len(stumps.learners)
    scores = jnp.zeros((x_test.shape[0], 2))
    by_round = []
    for alpha, predict in zip(stumps.alphas, stumps.learners, strict=True):
        scores = scores + float(alpha) * jax.nn.one_hot(predict(x_test), 2)
        by_round.append(_accuracy(jnp.argmax(scores, -1), y_test))
    summary["boosted_stumps_accuracy_by_round"] = by_round
    for i, (alpha, error) in enumerate(zip(stumps.alphas, stumps.errors, strict=True)):
        logger.log(
            i,
            part="boosting_stumps",
            alpha=float(alpha),
            weighted_error=float(error),
            test_accuracy=by_round[i],
        )

    linear = MLP(features=(2,), output=None)
    trainer = network_weak_learner(
        linear, optax.adam(config["network_learning_rate"]), num_epochs=config["network_epochs"]
    )
    networks = adaboost_samme(
        keys[6], trainer, (x, y), num_classes=2, num_rounds=config["network_rounds"]
    )
    summary["single_linear_test_accuracy"] = _accuracy(networks.learners[0](x_test), y_test)
    summary["boosted_linear_test_accuracy"] = _accuracy(boosted_predict(networks, x_test), y_test)
    summary["boosted_linear_rounds"] = len(networks.learners)

    line_plot(
        workdir / "bagging_members.png",
        {
            "bagged MLPs (average)": by_size,
            "single MLP": [summary["single_mlp_test_accuracy"]] * len(by_size),
        },
        xlabel="members",
        ylabel="test accuracy",
        title="Bagging: test accuracy vs ensemble size",
    )
    line_plot(
        workdir / "boosting_rounds.png",
        {
            "boosted stumps": by_round,
            "single stump": [summary["single_stump_test_accuracy"]] * len(by_round),
        },
        xlabel="round",
        ylabel="test accuracy",
        title="AdaBoost (SAMME) with decision stumps",
    )
    line_plot(
        workdir / "loss.png",
        {"mean over members": member_losses.mean(axis=0)},
        xlabel="epoch",
        ylabel="training loss (cross-entropy, nats)",
        title="Bagged members: training loss",
    )
    return summary
