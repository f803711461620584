"""Classification metrics against scikit-learn, plus jit/vmap and input errors."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from jaxdl import metrics
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

K = 4
N = 40


def _case(seed: int, num_classes: int = K, n: int = N, drop_class: bool = True):
    """Random labels and noisy predictions; one class is never predicted."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, num_classes, n).astype(np.int32)
    preds = np.where(rng.random(n) < 0.6, labels, rng.integers(0, num_classes, n)).astype(np.int32)
    if drop_class:
        preds[preds == num_classes - 1] = 0
    return labels, preds


def _close(actual, expected, tol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=tol, atol=tol)


# --------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize("seed", range(3))
def test_accuracy_from_logits_and_labels_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(N, K)).astype(np.float32)
    labels = rng.integers(0, K, N).astype(np.int32)
    expected = skm.accuracy_score(labels, logits.argmax(1))
    _close(metrics.accuracy(labels, logits), expected)
    _close(metrics.accuracy(labels, logits.argmax(1).astype(np.int32)), expected)
    _close(metrics.error_rate(labels, logits), 1 - expected)


def test_accuracy_jit_and_vmap():
    logits = jax.random.normal(jax.random.key(1), (3, 10, K))
    labels = jax.random.randint(jax.random.key(2), (3, 10), 0, K)
    assert_jit_matches_eager(metrics.accuracy, labels[0], logits[0])
    assert_vmap_matches_loop(metrics.accuracy, labels, logits)


def test_accuracy_errors():
    logits = jnp.zeros((5, 3))
    with pytest.raises(TypeError, match="labels must have an integer dtype"):
        metrics.accuracy(jnp.zeros(5), logits)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        metrics.accuracy(jnp.array([0, 1, 2, 3, 0]), logits)
    with pytest.raises(ValueError, match="predictions must have shape"):
        metrics.accuracy(jnp.zeros(5, jnp.int32), jnp.zeros((4, 3)))
    with pytest.raises(TypeError, match="predictions must have an integer dtype"):
        metrics.accuracy(jnp.zeros(5, jnp.int32), jnp.zeros(5))
    with pytest.raises(ValueError, match="shape of labels"):
        metrics.accuracy(jnp.zeros(5, jnp.int32), jnp.zeros((5, 3, 2)))
    with pytest.raises(ValueError, match="at least one example"):
        metrics.accuracy(jnp.zeros(0, jnp.int32), jnp.zeros((0, 3)))


# --------------------------------------------------------------------------- confusion


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_matches_sklearn(normalize):
    labels, preds = _case(0)
    expected = skm.confusion_matrix(labels, preds, labels=range(K), normalize=normalize)
    actual = metrics.confusion_matrix(labels, preds, K, normalize=normalize)
    assert actual.dtype == (jnp.int32 if normalize is None else jnp.float32)
    _close(actual, expected)


@given(st.integers(0, 10_000))
def test_confusion_matrix_counts_property(seed):
    labels, preds = _case(seed, 3, 12, drop_class=False)
    matrix = metrics.confusion_matrix(labels, preds, 3)
    np.testing.assert_array_equal(matrix, skm.confusion_matrix(labels, preds, labels=range(3)))
    assert int(matrix.sum()) == 12


def test_confusion_matrix_accepts_scores_and_jits():
    labels, preds = _case(1)
    scores = jax.nn.one_hot(preds, K) + 0.1
    np.testing.assert_array_equal(
        metrics.confusion_matrix(labels, scores, K), metrics.confusion_matrix(labels, preds, K)
    )
    assert_jit_matches_eager(
        metrics.confusion_matrix, labels, preds, num_classes=K, normalize="true"
    )


def test_confusion_matrix_errors():
    labels = jnp.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        metrics.confusion_matrix(labels, jnp.array([0, 1, 1]), 2)
    with pytest.raises(ValueError, match=r"predictions must lie in \[0, 3\)"):
        metrics.confusion_matrix(labels, jnp.array([0, 1, 3]), 3)
    with pytest.raises(ValueError, match="predictions must have 3 scores"):
        metrics.confusion_matrix(labels, jnp.zeros((3, 4)), 3)
    with pytest.raises(ValueError, match="predictions must have shape"):
        metrics.confusion_matrix(labels, jnp.array([0, 1]), 3)
    with pytest.raises(ValueError, match="normalize must be one of"):
        metrics.confusion_matrix(labels, labels, 3, normalize="rows")
    with pytest.raises(TypeError, match="num_classes must be an int"):
        metrics.confusion_matrix(labels, labels, 3.0)


# --------------------------------------------------------------------------- P / R / F


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("zero_division", [0.0, 1.0, math.nan])
def test_prfs_multiclass_matches_sklearn(average, zero_division):
    labels, preds = _case(0)  # class K-1 never predicted -> zero division
    for beta in (0.5, 1.0, 2.0):
        expected = skm.precision_recall_fscore_support(
            labels,
            preds,
            beta=beta,
            labels=range(K),
            average=average,
            zero_division=zero_division,
        )
        actual = metrics.precision_recall_fscore_support(
            labels,
            preds,
            num_classes=K,
            beta=beta,
            average=average,
            zero_division=zero_division,
        )
        for got, want in zip(actual[:3], expected[:3], strict=True):
            _close(got, want)
        if average is None:
            np.testing.assert_array_equal(actual.support, expected[3])
        else:
            assert actual.support is None


def test_class_absent_from_labels_and_preds_follows_zero_division():
    labels = np.array([0, 0, 1, 1], np.int32)
    preds = np.array([0, 1, 1, 1], np.int32)
    for zero_division in (0.0, 1.0):
        per_class = metrics.precision_recall_fscore_support(
            labels, preds, num_classes=3, zero_division=zero_division
        )
        assert float(per_class.precision[2]) == zero_division
        assert float(per_class.recall[2]) == zero_division
        assert float(per_class.fbeta[2]) == zero_division
        expected = skm.f1_score(
            labels, preds, labels=[0, 1, 2], average="macro", zero_division=zero_division
        )
        _close(
            metrics.f1_score(
                labels, preds, num_classes=3, average="macro", zero_division=zero_division
            ),
            expected,
        )


@pytest.mark.parametrize("pos_label", [0, 1])
@pytest.mark.parametrize("seed", range(2))
def test_binary_metrics_match_sklearn(pos_label, seed):
    labels, preds = _case(seed, num_classes=2, drop_class=False)
    kwargs = {"pos_label": pos_label}
    _close(metrics.precision(labels, preds, **kwargs), skm.precision_score(labels, preds, **kwargs))
    _close(metrics.recall(labels, preds, **kwargs), skm.recall_score(labels, preds, **kwargs))
    _close(metrics.f1_score(labels, preds, **kwargs), skm.f1_score(labels, preds, **kwargs))
    for beta in (0.0, 0.5, 3.0):
        _close(
            metrics.fbeta_score(labels, preds, beta, **kwargs),
            skm.fbeta_score(labels, preds, beta=beta, **kwargs),
        )


def test_fbeta_infinite_beta_is_recall():
    labels, preds = _case(2, num_classes=2, drop_class=False)
    _close(metrics.fbeta_score(labels, preds, math.inf), metrics.recall(labels, preds))


def test_never_predicting_positive_gives_zero_division_precision():
    labels = np.array([0, 1, 1, 0], np.int32)
    preds = np.zeros(4, np.int32)
    assert float(metrics.precision(labels, preds)) == 0.0
    assert float(metrics.precision(labels, preds, zero_division=1.0)) == 1.0
    assert math.isnan(float(metrics.precision(labels, preds, zero_division=math.nan)))
    assert float(metrics.recall(labels, preds)) == 0.0


def test_prfs_jit_and_vmap():
    labels, preds = _case(3)
    assert_jit_matches_eager(metrics.f1_score, labels, preds, num_classes=K, average="macro")
    assert_jit_matches_eager(
        metrics.precision_recall_fscore_support, labels, preds, num_classes=K, average=None
    )
    labels_b = jnp.stack([labels, preds])
    preds_b = jnp.stack([preds, labels])
    assert_vmap_matches_loop(
        lambda y, p: metrics.recall(y, p, num_classes=K, average="weighted"), labels_b, preds_b
    )


def test_prfs_errors():
    labels, preds = _case(0)
    with pytest.raises(ValueError, match="average must be one of"):
        metrics.precision(labels, preds, num_classes=K, average="samples")
    with pytest.raises(ValueError, match="average='binary' needs 2 classes, got 4"):
        metrics.precision(labels, preds, num_classes=K)
    with pytest.raises(ValueError, match="zero_division must be 0, 1, nan"):
        metrics.recall(labels, preds, num_classes=K, average="macro", zero_division=0.5)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        metrics.fbeta_score(labels, preds, -1.0, num_classes=K, average="macro")
    with pytest.raises(ValueError, match="pos_label must be 0 or 1"):
        metrics.recall(labels % 2, preds % 2, pos_label=2)
    with pytest.raises(ValueError, match="matrix must be a square"):
        metrics.prfs_from_confusion_matrix(jnp.zeros((2, 3), jnp.int32))


def test_classification_report_matches_sklearn():
    labels, preds = _case(4)
    names = ("cat", "dog", "emu", "fox")
    expected = skm.classification_report(
        labels, preds, labels=range(K), target_names=names, output_dict=True, zero_division=0
    )
    actual = metrics.classification_report(labels, preds, K, target_names=names)
    assert actual.keys() == expected.keys()
    for name, entry in expected.items():
        if isinstance(entry, dict):
            assert actual[name].keys() == entry.keys()
            for field, value in entry.items():
                assert actual[name][field] == pytest.approx(value, rel=1e-6, abs=1e-7), (
                    name,
                    field,
                )
        else:
            assert actual[name] == pytest.approx(entry, rel=1e-6)
    with pytest.raises(ValueError, match="target_names must hold 4 names, got 2"):
        metrics.classification_report(labels, preds, K, target_names=("a", "b"))


# --------------------------------------------------------------------------- costs


def test_cost_weighted_error_matches_manual_sum_and_reduces_to_error_rate():
    labels, preds = _case(5)
    rng = np.random.default_rng(5)
    costs = rng.uniform(0, 5, (K, K)).astype(np.float32)
    expected = np.mean([costs[y, p] for y, p in zip(labels, preds, strict=True)])
    _close(metrics.cost_weighted_error(labels, preds, costs), expected, tol=1e-5)
    _close(
        metrics.cost_weighted_error(labels, preds, costs, normalize=False), expected * N, tol=1e-5
    )
    zero_one = 1.0 - np.eye(K, dtype=np.float32)
    _close(
        metrics.cost_weighted_error(labels, preds, zero_one), 1 - skm.accuracy_score(labels, preds)
    )
    scores = jax.nn.one_hot(preds, K)
    _close(metrics.cost_weighted_error(labels, scores, costs), expected, tol=1e-5)
    assert_jit_matches_eager(metrics.cost_weighted_error, labels, preds, costs)


def test_cost_sensitive_predictions_minimize_expected_cost():
    rng = np.random.default_rng(6)
    probs = rng.dirichlet(np.ones(3), size=20).astype(np.float32)
    costs = rng.uniform(0, 4, (3, 3)).astype(np.float32)
    decisions = np.asarray(metrics.cost_sensitive_predictions(probs, costs))
    expected_cost = probs.astype(np.float64) @ costs
    np.testing.assert_array_equal(decisions, expected_cost.argmin(1))
    # The Bayes decisions never cost more in expectation than the argmax decisions.
    chosen = expected_cost[np.arange(20), decisions]
    argmax = expected_cost[np.arange(20), probs.argmax(1)]
    assert np.all(chosen <= argmax + 1e-9)


def test_cost_errors():
    labels = jnp.array([0, 1, 2])
    with pytest.raises(ValueError, match=r"cost_matrix must be a square \[K, K\]"):
        metrics.cost_weighted_error(labels, labels, jnp.ones((3, 2)))
    with pytest.raises(ValueError, match=r"cost_matrix must have shape \(4, 4\)"):
        metrics.cost_weighted_error(labels, jnp.zeros((3, 4)), jnp.ones((3, 3)))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        metrics.cost_weighted_error(labels, jnp.array([0, 1, 1]), jnp.ones((2, 2)))
    with pytest.raises(TypeError, match="cost_matrix must have a floating dtype"):
        metrics.cost_weighted_error(labels, labels, jnp.ones((3, 3), jnp.int32))
    with pytest.raises(ValueError, match="probabilities must sum to 1"):
        metrics.cost_sensitive_predictions(jnp.ones((2, 3)), jnp.ones((3, 3)))


def test_rare_disease_metrics_of_the_course_example():
    """Seed 002 (ch. 11, practical methodology): one person in a million has the disease.
    Always answering "healthy" is 99.9999 % accurate with zero precision and recall;
    always answering "sick" has recall 1 and precision 0.0001 %."""
    num_people = 1_000_000
    labels = jnp.zeros(num_people, jnp.int32).at[123_456].set(1)
    healthy = jnp.zeros(num_people, jnp.int32)
    sick = jnp.ones(num_people, jnp.int32)
    np.testing.assert_allclose(100 * float(metrics.accuracy(labels, healthy)), 99.9999, rtol=1e-7)
    never = metrics.precision_recall_fscore_support(labels, healthy, average="binary")
    assert float(never.precision) == 0.0 and float(never.recall) == 0.0
    always = metrics.precision_recall_fscore_support(labels, sick, average="binary")
    np.testing.assert_allclose(100 * float(always.precision), 0.0001, rtol=1e-5)
    assert float(always.recall) == 1.0
