"""PR / ROC curves, average precision and ROC AUC against scikit-learn."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm

from jaxdl import metrics
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop

N = 30


def _case(seed: int, ties: bool):
    """Scores correlated with binary labels; rounding creates tied scores."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, N).astype(np.int32)
    scores = (labels + rng.normal(0.0, 1.0, N)).astype(np.float32)
    if ties:
        scores = np.round(scores * 2) / 2
    return scores, labels


def _close(actual, expected, tol=1e-6):
    np.testing.assert_allclose(np.asarray(actual, np.float64), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", range(2))
def test_average_precision_and_auc_match_sklearn(seed, ties):
    scores, labels = _case(seed, ties)
    _close(metrics.average_precision(labels, scores), skm.average_precision_score(labels, scores))
    _close(metrics.roc_auc(labels, scores), skm.roc_auc_score(labels, scores))
    # pos_label=0 scores the other class: flip the score's direction.
    _close(
        metrics.average_precision(labels, -scores, pos_label=0),
        skm.average_precision_score(labels, -scores, pos_label=0),
    )


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", range(2))
def test_precision_recall_curve_matches_sklearn_exactly(seed, ties):
    scores, labels = _case(seed, ties)
    precision, recall, thresholds = metrics.precision_recall_curve(labels, scores)
    want_p, want_r, want_t = skm.precision_recall_curve(labels, scores)
    assert precision.shape == want_p.shape and thresholds.shape == want_t.shape
    _close(precision, want_p)
    _close(recall, want_r)
    np.testing.assert_array_equal(thresholds, want_t)


@pytest.mark.parametrize("drop_intermediate", [False, True])
@pytest.mark.parametrize("ties", [False, True])
def test_roc_curve_matches_sklearn_exactly(drop_intermediate, ties):
    scores, labels = _case(7, ties)
    fpr, tpr, thresholds = metrics.roc_curve(labels, scores, drop_intermediate=drop_intermediate)
    want_f, want_t, want_thr = skm.roc_curve(labels, scores, drop_intermediate=drop_intermediate)
    assert fpr.shape == want_f.shape
    _close(fpr, want_f)
    _close(tpr, want_t)
    np.testing.assert_array_equal(thresholds, want_thr.astype(np.float32))
    # The trapezoidal area under the returned curve is the Mann-Whitney AUC.
    _close(
        np.trapezoid(np.asarray(tpr), np.asarray(fpr)),
        float(metrics.roc_auc(labels, scores)),
        tol=1e-5,
    )


def test_fixed_threshold_curves_match_the_exact_curves_and_jit():
    scores, labels = _case(3, ties=True)
    want_p, want_r, want_t = skm.precision_recall_curve(labels, scores)
    curve = jax.jit(metrics.precision_recall_curve)
    precision, recall, _ = curve(labels, scores, thresholds=want_t)
    _close(precision, want_p[:-1])
    _close(recall, want_r[:-1])
    # A threshold above every score accepts nothing: precision 1 by convention.
    above, _, _ = curve(labels, scores, thresholds=jnp.array([100.0]))
    assert float(above[0]) == 1.0
    fpr, tpr, thresholds = skm.roc_curve(labels, scores, drop_intermediate=False)
    got_fpr, got_tpr, _ = jax.jit(metrics.roc_curve)(labels, scores, thresholds=thresholds[1:])
    _close(got_fpr, fpr[1:])
    _close(got_tpr, tpr[1:])


def test_binary_counts_match_sklearn_confusion_at_thresholds():
    scores, labels = _case(4, ties=True)
    sorted_scores, tps, fps, is_last = metrics.binary_counts_at_scores(labels, scores)
    _, want_fps, _, want_tps, want_thresholds = skm.confusion_matrix_at_thresholds(labels, scores)
    last = np.asarray(is_last)
    np.testing.assert_array_equal(np.asarray(tps)[last], want_tps)
    np.testing.assert_array_equal(np.asarray(fps)[last], want_fps)
    np.testing.assert_array_equal(np.asarray(sorted_scores)[last], want_thresholds)


def test_multiclass_one_vs_rest_matches_sklearn():
    rng = np.random.default_rng(11)
    labels = np.tile(np.arange(3, dtype=np.int32), 10)
    logits = rng.normal(size=(30, 3)) + 1.5 * np.eye(3)[labels]
    probs = np.asarray(jax.nn.softmax(jnp.asarray(logits, jnp.float32)), np.float64)
    probs = probs / probs.sum(1, keepdims=True)
    _close(
        metrics.roc_auc(labels, probs.astype(np.float32)),
        skm.roc_auc_score(labels, probs, multi_class="ovr"),
        tol=1e-5,
    )
    _close(
        metrics.average_precision(labels, probs.astype(np.float32)),
        skm.average_precision_score(labels, probs),
        tol=1e-5,
    )


def test_degenerate_labels_follow_sklearn():
    scores = np.array([0.2, 0.5, 0.9], np.float32)
    negatives = np.zeros(3, np.int32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want_ap = skm.average_precision_score(negatives, scores)
        want_p, want_r, _ = skm.precision_recall_curve(negatives, scores)
    _close(metrics.average_precision(negatives, scores), want_ap)
    precision, recall, _ = metrics.precision_recall_curve(negatives, scores)
    _close(precision, want_p)
    _close(recall, want_r)
    assert math.isnan(float(metrics.roc_auc(negatives, scores)))
    assert math.isnan(float(metrics.roc_auc(np.ones(3, np.int32), scores)))


def test_perfect_and_reversed_rankings():
    labels = np.array([0, 0, 1, 1], np.int32)
    scores = np.array([0.1, 0.2, 0.8, 0.9], np.float32)
    assert float(metrics.roc_auc(labels, scores)) == 1.0
    assert float(metrics.roc_auc(labels, -scores)) == 0.0
    assert float(metrics.average_precision(labels, scores)) == 1.0
    # Every score tied: AUC one half, AP the positive rate.
    flat = np.zeros(4, np.float32)
    assert float(metrics.roc_auc(labels, flat)) == 0.5
    assert float(metrics.average_precision(labels, flat)) == 0.5


def test_ranking_metrics_jit_and_vmap():
    scores, labels = _case(5, ties=True)
    assert_jit_matches_eager(metrics.average_precision, labels, scores)
    assert_jit_matches_eager(metrics.roc_auc, labels, scores)
    batch_scores = jnp.stack([scores, -scores, jnp.round(scores)])
    batch_labels = jnp.stack([labels] * 3)
    assert_vmap_matches_loop(metrics.roc_auc, batch_labels, batch_scores)
    assert_vmap_matches_loop(metrics.average_precision, batch_labels, batch_scores)


def test_ranking_errors():
    scores, labels = _case(0, ties=False)
    with pytest.raises(TypeError, match="scores must have a floating dtype"):
        metrics.roc_auc(labels, labels)
    with pytest.raises(TypeError, match="labels must have an integer dtype"):
        metrics.average_precision(scores, scores)
    with pytest.raises(ValueError, match="labels must have shape"):
        metrics.roc_auc(labels[:-1], scores)
    with pytest.raises(ValueError, match="scores must be finite"):
        metrics.roc_auc(np.array([0, 1], np.int32), np.array([0.1, np.nan], np.float32))
    with pytest.raises(ValueError, match="at least one example"):
        metrics.average_precision(np.zeros(0, np.int32), np.zeros(0, np.float32))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        metrics.roc_auc(np.array([0, 3], np.int32), np.full((2, 3), 1 / 3, np.float32))
    with pytest.raises(ValueError, match="data-dependent length"):
        jax.jit(metrics.precision_recall_curve)(labels, scores)
    with pytest.raises(ValueError, match="data-dependent length"):
        jax.jit(metrics.roc_curve)(labels, scores)
    with pytest.raises(ValueError, match="thresholds must have rank 1"):
        metrics.roc_curve(labels, scores, thresholds=jnp.zeros((2, 2)))
