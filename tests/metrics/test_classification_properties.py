"""Identities of the classification metrics on random label vectors (hypothesis).

Every metric is compared with scikit-learn on random labels and predictions of random
lengths and numbers of classes, and checked for the identities that tie them together:
the confusion matrix sums to N with the label counts as row sums, accuracy is its trace
over N, a shuffle of the examples changes nothing.

The metrics are called with keyword arguments for labels and predictions
(:func:`call`), so the tests hold whatever positional order the metrics take.
"""

from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sklearn import metrics as skm

from jaxdl import metrics
from jaxdl.testing import strategies as jst


def call(fn, labels, predictions, **kwargs):
    """``fn`` with ``labels=`` and the other of its first two parameters as keywords
    (every other argument by keyword too)."""
    first_two = list(inspect.signature(fn).parameters)[:2]
    assert "labels" in first_two, f"{fn.__name__} takes no 'labels' argument: {first_two}"
    (prediction_name,) = (name for name in first_two if name != "labels")
    return fn(labels=labels, **{prediction_name: predictions}, **kwargs)


@st.composite
def classification_cases(draw, max_classes=4):
    """(labels, predictions, K): int32 vectors of one length (1 to 23) with classes < K."""
    k = draw(st.integers(2, max_classes))
    n = draw(st.sampled_from([1, 6, 23]))
    labels = draw(jst.class_labels(k, shape=(n,)))
    predictions = draw(jst.class_labels(k, shape=(n,)))
    return labels, predictions, k


@functools.partial(jax.jit, static_argnames="num_classes")
def _summary(labels, predictions, num_classes):
    matrix = call(metrics.confusion_matrix, labels, predictions, num_classes=num_classes)
    return (
        matrix,
        call(metrics.accuracy, labels, predictions),
        call(metrics.error_rate, labels, predictions),
        metrics.normalize_confusion_matrix(matrix, "true"),
    )


@given(classification_cases())
def test_confusion_matrix_and_accuracy_identities(case):
    labels, predictions, k = case
    n = labels.shape[0]
    matrix, acc, err, by_row = _summary(labels, predictions, num_classes=k)
    y, p = np.asarray(labels), np.asarray(predictions)
    np.testing.assert_array_equal(matrix, skm.confusion_matrix(y, p, labels=range(k)))
    assert int(matrix.sum()) == n
    np.testing.assert_array_equal(matrix.sum(axis=1), np.bincount(y, minlength=k))
    np.testing.assert_array_equal(matrix.sum(axis=0), np.bincount(p, minlength=k))
    np.testing.assert_allclose(acc, np.trace(matrix) / n, rtol=1e-6)
    np.testing.assert_allclose(acc, skm.accuracy_score(y, p), rtol=1e-6)
    np.testing.assert_allclose(acc + err, 1.0, rtol=1e-6)
    present = np.bincount(y, minlength=k) > 0
    np.testing.assert_allclose(np.asarray(by_row).sum(axis=1)[present], 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        np.diag(by_row)[present],
        skm.recall_score(y, p, labels=np.arange(k)[present], average=None, zero_division=0),
        rtol=1e-6,
    )


@given(classification_cases(), st.sampled_from([None, "micro", "macro", "weighted"]))
def test_precision_recall_f_support_match_sklearn(case, average):
    labels, predictions, k = case
    ours = call(
        metrics.precision_recall_fscore_support,
        labels,
        predictions,
        num_classes=k,
        average=average,
        zero_division=0.0,
    )
    expected = skm.precision_recall_fscore_support(
        np.asarray(labels),
        np.asarray(predictions),
        labels=range(k),
        average=average,
        zero_division=0.0,
    )
    for name, actual, reference in zip(
        ("precision", "recall", "fbeta"), ours[:3], expected[:3], strict=True
    ):
        np.testing.assert_allclose(actual, reference, rtol=1e-5, atol=1e-6, err_msg=name)
    if average is None:
        np.testing.assert_array_equal(ours.support, expected[3])


@given(classification_cases(max_classes=2), st.floats(0.25, 4.0))
def test_binary_scores_match_sklearn_and_f_is_a_harmonic_mean(case, beta):
    labels, predictions, _ = case
    y, p = np.asarray(labels), np.asarray(predictions)
    precision = float(call(metrics.precision, labels, predictions))
    recall = float(call(metrics.recall, labels, predictions))
    f1 = float(call(metrics.f1_score, labels, predictions))
    fbeta = float(call(metrics.fbeta_score, labels, predictions, beta=beta))
    np.testing.assert_allclose(precision, skm.precision_score(y, p, zero_division=0), rtol=1e-6)
    np.testing.assert_allclose(recall, skm.recall_score(y, p, zero_division=0), rtol=1e-6)
    np.testing.assert_allclose(f1, skm.f1_score(y, p, zero_division=0), rtol=1e-6)
    np.testing.assert_allclose(fbeta, skm.fbeta_score(y, p, beta=beta, zero_division=0), rtol=1e-5)
    if precision > 0 and recall > 0:
        np.testing.assert_allclose(f1, 2 * precision * recall / (precision + recall), rtol=1e-5)
        assert min(precision, recall) - 1e-6 <= fbeta <= max(precision, recall) + 1e-6


@given(classification_cases(), st.randoms(use_true_random=False))
def test_shuffling_examples_and_renaming_classes(case, random):
    """A permutation of the examples changes no metric; renaming the classes permutes the
    confusion matrix the same way on both axes."""
    labels, predictions, k = case
    order = np.arange(labels.shape[0])
    random.shuffle(order)
    rename = np.arange(k)
    random.shuffle(rename)
    matrix, acc, _, _ = _summary(labels, predictions, num_classes=k)
    shuffled, shuffled_acc, _, _ = _summary(labels[order], predictions[order], num_classes=k)
    np.testing.assert_array_equal(shuffled, matrix)
    np.testing.assert_allclose(shuffled_acc, acc)
    renamed, renamed_acc, _, _ = _summary(
        jnp.asarray(rename[np.asarray(labels)]),
        jnp.asarray(rename[np.asarray(predictions)]),
        num_classes=k,
    )
    expected = np.zeros((k, k), np.int64)
    expected[np.ix_(rename, rename)] = np.asarray(matrix)
    np.testing.assert_array_equal(renamed, expected)
    np.testing.assert_allclose(renamed_acc, acc)


@given(st.data())
def test_perfect_predictions(data):
    k = data.draw(st.integers(2, 4))
    labels = data.draw(jst.class_labels(k, shape=(data.draw(st.sampled_from([1, 6, 23])),)))
    matrix, acc, err, _ = _summary(labels, labels, num_classes=k)
    np.testing.assert_array_equal(matrix, np.diag(np.bincount(np.asarray(labels), minlength=k)))
    assert float(acc) == 1.0
    assert float(err) == 0.0


def test_error_rate_of_perfect_predictions_is_exactly_zero_under_jit():
    # 1 - accuracy would compile to a fused multiply-add giving -2.98e-8 here.
    labels = jnp.zeros(6, jnp.int32)
    error = jax.jit(lambda y, p: call(metrics.error_rate, y, p))(labels, labels)
    assert float(error) == 0.0
