"""Bagging and AdaBoost (SAMME): combination rules, members, formulas, behaviour."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.data import moons
from jaxdl.nn import MLP
from jaxdl.selection import (
    adaboost_samme,
    average_probabilities,
    bagging,
    boosted_predict,
    boosted_scores,
    ensemble_outputs,
    fit_stump,
    majority_vote,
    network_weak_learner,
    out_of_bag_accuracy,
    samme_alpha,
    samme_reweight,
    stump_weak_learner,
)
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop
from jaxdl.training import create_train_state, fit, make_supervised_loss

pytestmark = pytest.mark.standard_dtype_promotion


def test_majority_vote_matches_numpy_counts():
    rng = np.random.default_rng(0)
    predictions = rng.integers(0, 4, (7, 50)).astype(np.int32)
    expected = [np.argmax(np.bincount(predictions[:, n], minlength=4)) for n in range(50)]
    np.testing.assert_array_equal(np.asarray(majority_vote(predictions, 4)), expected)


def test_average_probabilities_matches_numpy():
    logits = np.random.default_rng(1).normal(size=(3, 5, 4)).astype(np.float32)
    exp = np.exp(logits - logits.max(-1, keepdims=True))
    expected = (exp / exp.sum(-1, keepdims=True)).mean(0)
    np.testing.assert_allclose(np.asarray(average_probabilities(logits)), expected, rtol=1e-5)


def test_ensemble_of_identical_members_equals_the_single_model(key):
    x, y = moons(key, 40, 0.2)
    model = MLP(features=(6, 2))
    state = create_train_state(jax.random.key(1), model, x[:1], optax.sgd(0.1))
    single_logits = model.apply({"params": state.params}, x)
    states = jax.tree.map(lambda a: jnp.stack([a] * 5), state)
    logits = ensemble_outputs(model, states, x)
    np.testing.assert_allclose(np.asarray(logits[3]), np.asarray(single_logits), rtol=1e-6)
    votes = majority_vote(jnp.argmax(logits, -1).astype(jnp.int32), 2)
    np.testing.assert_array_equal(np.asarray(votes), np.asarray(jnp.argmax(single_logits, -1)))
    np.testing.assert_allclose(
        np.asarray(average_probabilities(logits)),
        np.asarray(jax.nn.softmax(single_logits)),
        rtol=1e-5,
    )


@pytest.mark.slow
def test_bagging_members_equal_separate_fits_on_their_resamples():
    x, y = moons(jax.random.key(3), 48, 0.2)
    model = MLP(features=(4, 2))
    tx = optax.sgd(0.3)
    bag = bagging(jax.random.key(4), model, tx, (x, y), 3, num_epochs=4)
    counts = np.asarray(bag.resamples.counts)
    assert counts.shape == (3, 48) and np.all(counts.sum(1) == 48)
    resample_key, init_key, run_key = jax.random.split(jax.random.key(4), 3)
    init_keys = jax.random.split(init_key, 3)
    run_keys = jax.random.split(run_key, 3)
    loss_fn = make_supervised_loss(model, metrics=())
    for m in (0, 2):
        state = create_train_state(init_keys[m], model, x[:1], tx)
        single = fit(
            run_keys[m],
            state,
            loss_fn,
            (x, y, bag.resamples.weights[m]),
            num_epochs=4,
            progress=False,
        )
        member = jax.tree.map(lambda a, m=m: a[m], bag.state.params)
        for a, b in zip(jax.tree.leaves(member), jax.tree.leaves(single.state.params), strict=True):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


def test_out_of_bag_accuracy_matches_a_loop():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(4, 12, 3)).astype(np.float32)
    labels = rng.integers(0, 3, 12).astype(np.int32)
    out_of_bag = rng.random((4, 12)) < 0.4
    out_of_bag[:, 0] = False  # example 0 is in every resample: left out
    correct = []
    for n in range(12):
        members = np.flatnonzero(out_of_bag[:, n])
        if len(members):
            exp = np.exp(logits[members, n])
            probs = (exp / exp.sum(-1, keepdims=True)).mean(0)
            correct.append(np.argmax(probs) == labels[n])
    value = out_of_bag_accuracy(logits, labels, out_of_bag)
    assert float(value) == pytest.approx(np.mean(correct))


def _sklearn_samme_alpha(error, num_classes, learning_rate):
    # scikit-learn's AdaBoostClassifier._boost (SAMME), transcribed.
    return learning_rate * (np.log((1.0 - error) / error) + np.log(num_classes - 1.0))


@pytest.mark.parametrize(
    ("error", "num_classes", "learning_rate"),
    [(0.1, 2, 1.0), (0.45, 2, 0.5), (0.6, 4, 1.0), (0.3, 10, 0.1)],
)
def test_samme_alpha_matches_sklearn_formula(error, num_classes, learning_rate):
    assert float(samme_alpha(error, num_classes, learning_rate)) == pytest.approx(
        _sklearn_samme_alpha(error, num_classes, learning_rate), rel=1e-6
    )


def test_samme_alpha_is_positive_exactly_below_chance():
    errors = jnp.asarray([0.2, 0.74, 0.76])
    alphas = np.asarray(samme_alpha(errors, 4))
    assert alphas[0] > 0 and alphas[1] > 0 and alphas[2] < 0


def test_samme_alpha_gradient_jit_and_vmap():
    assert_grads_close(lambda e: jnp.sum(samme_alpha(e, 3, 0.7)), jnp.asarray([0.2, 0.4]))
    assert_jit_matches_eager(lambda e: samme_alpha(e, 3), jnp.asarray([0.2, 0.4]))
    assert_vmap_matches_loop(lambda e: samme_alpha(e, 3), jnp.asarray([0.2, 0.4, 0.5]))


def test_samme_reweight_matches_sklearn_log_space_update():
    rng = np.random.default_rng(3)
    weights = rng.random(20)
    weights /= weights.sum()
    incorrect = rng.random(20) < 0.3
    alpha = 0.8
    expected = np.exp(np.log(weights) + alpha * incorrect * (weights > 0))
    expected /= expected.sum()
    got = samme_reweight(jnp.asarray(weights, jnp.float32), incorrect, alpha)
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5)


def test_fit_stump_finds_the_minimum_weighted_error():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 3)).astype(np.float32)
    y = rng.integers(0, 3, 30).astype(np.int32)
    w = rng.random(30).astype(np.float32)
    stump = fit_stump(x, y, w, 3)
    error = np.sum(w * (np.asarray(stump.predict(jnp.asarray(x))) != y))
    best = np.inf
    for d in range(3):
        for t in np.concatenate([np.unique(x[:, d]), [np.inf]]):
            left = x[:, d] <= t
            for a in range(3):
                for b in range(3):
                    pred = np.where(left, a, b)
                    best = min(best, np.sum(w * (pred != y)))
    assert error == pytest.approx(best, rel=1e-5)


def test_boosted_stumps_beat_a_single_stump():
    x, y = moons(jax.random.key(6), 200, 0.15)
    x_test, y_test = moons(jax.random.key(7), 200, 0.15)
    boosted = adaboost_samme(
        jax.random.key(8), stump_weak_learner(2), (x, y), num_classes=2, num_rounds=30
    )
    assert len(boosted.learners) == 30
    assert np.all(boosted.alphas > 0) and np.all(boosted.errors < 0.5)
    single = float(jnp.mean(boosted.learners[0](x_test) == y_test))
    ensemble = float(jnp.mean(boosted_predict(boosted, x_test) == y_test))
    assert ensemble > single + 0.08
    assert boosted_scores(boosted, x_test).shape == (200, 2)


def test_boosting_stops_on_a_perfect_learner():
    x = jnp.asarray([[0.0], [1.0], [2.0], [3.0]])
    y = jnp.asarray([0, 0, 1, 1], jnp.int32)
    boosted = adaboost_samme(
        jax.random.key(0), stump_weak_learner(2), (x, y), num_classes=2, num_rounds=5
    )
    assert len(boosted.learners) == 1 and boosted.alphas.tolist() == [1.0]
    np.testing.assert_array_equal(np.asarray(boosted_predict(boosted, x)), np.asarray(y))


def test_boosting_small_networks_reweights_towards_mistakes():
    x, y = moons(jax.random.key(9), 64, 0.2)
    trainer = network_weak_learner(MLP(features=(2,)), optax.sgd(0.5), num_epochs=10)
    boosted = adaboost_samme(jax.random.key(10), trainer, (x, y), num_classes=2, num_rounds=3)
    assert 1 <= len(boosted.learners) <= 3
    assert np.all(boosted.alphas > 0)
    accuracy = float(jnp.mean(boosted_predict(boosted, x) == y))
    assert accuracy >= float(jnp.mean(boosted.learners[0](x) == y)) - 1e-6


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: majority_vote(jnp.zeros(3, jnp.int32), 2), ValueError, "must have rank 2"),
        (lambda: majority_vote(jnp.zeros((2, 3)), 2), TypeError, "integer dtype"),
        (lambda: average_probabilities(jnp.zeros((2, 3))), ValueError, "must have rank 3"),
        (lambda: samme_alpha(0.2, 1), ValueError, "num_classes must be >= 2"),
        (lambda: samme_alpha(0.2, 2, -1.0), ValueError, "learning_rate must be > 0"),
        (
            lambda: samme_reweight(jnp.ones(3), jnp.ones(2, bool), 1.0),
            ValueError,
            "incorrect must have shape",
        ),
        (
            lambda: out_of_bag_accuracy(
                jnp.zeros((2, 3, 2)), jnp.zeros(3, jnp.int32), jnp.zeros((3, 3), bool)
            ),
            ValueError,
            "out_of_bag must",
        ),
        (
            lambda: adaboost_samme(
                jax.random.key(0),
                stump_weak_learner(),
                (jnp.zeros((3, 1)), jnp.zeros(3)),
                num_classes=2,
                num_rounds=2,
            ),
            TypeError,
            "y must have an integer dtype",
        ),
        (
            lambda: bagging(
                jax.random.key(0),
                MLP(features=(2,)),
                optax.sgd(0.1),
                (jnp.zeros((3, 1)), jnp.zeros(3, jnp.int32)),
                0,
                num_epochs=1,
            ),
            ValueError,
            "num_members must be > 0",
        ),
    ],
)
def test_bad_arguments_raise(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_boosting_refuses_a_learner_no_better_than_chance():
    x = jnp.zeros((4, 1))
    y = jnp.asarray([0, 1, 0, 1], jnp.int32)
    with pytest.raises(ValueError, match="no better than chance"):
        adaboost_samme(
            jax.random.key(0), stump_weak_learner(2), (x, y), num_classes=2, num_rounds=3
        )


def test_bagged_perceptrons_vote_and_equal_separate_runs(key):
    """Seed 002 (sec. 6.12): on a linearly separable set, train a perceptron on each
    bootstrap sample and classify by majority vote."""
    from jaxdl.nn import add_bias_input, perceptron_fit
    from jaxdl.selection import bagged_perceptron_predict, bagged_perceptrons

    x_key, bag_key = jax.random.split(key)
    raw = jax.random.normal(x_key, (40, 2))
    t = jnp.where(raw[:, 0] - 0.5 * raw[:, 1] > 0, 1.0, -1.0)
    x = add_bias_input(raw)
    bag = bagged_perceptrons(jax.random.clone(bag_key), x, t, 3, max_steps=2000)
    assert bag.weights.shape == (3, 3) and bool(jnp.all(bag.converged))
    np.testing.assert_array_equal(bag.resamples.counts.sum(axis=1), 40)
    # Member m is the perceptron rule run alone on resample m with member key m.
    _, member_key = jax.random.split(bag_key)
    member_keys = jax.random.split(member_key, 3)
    counts = np.asarray(bag.resamples.counts)
    for m in (2,):
        index = np.repeat(np.arange(40), counts[m])
        alone = perceptron_fit(member_keys[m], x[index], t[index], max_steps=2000)
        np.testing.assert_allclose(bag.weights[m], alone.weights, rtol=1e-6)
    votes = bagged_perceptron_predict(bag.weights, x)
    members = np.sign(np.asarray(x) @ np.asarray(bag.weights).T)
    members[members == 0] = 1
    np.testing.assert_array_equal(votes, np.where(members.sum(1) >= 0, 1.0, -1.0))
    assert float(jnp.mean(votes == t)) >= 0.95  # separable: the vote fits the data
    with pytest.raises(ValueError, match="t must hold labels -1 or \\+1"):
        bagged_perceptrons(jax.random.clone(bag_key), x, (t > 0).astype(jnp.float32), 3)
