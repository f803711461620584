"""Accuracy with a reject option: coverage/accuracy trade-off."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl import metrics
from jaxdl.testing import assert_jit_matches_eager, assert_vmap_matches_loop


def _case(seed: int, n: int = 40, k: int = 3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n).astype(np.int32)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[labels]
    probs = np.asarray(jax.nn.softmax(jnp.asarray(logits, jnp.float32)))
    return probs, labels


@pytest.mark.parametrize("threshold", [0.0, 0.4, 0.6, 0.8, 1.0])
def test_coverage_accuracy_matches_numpy(threshold):
    probs, labels = _case(0)
    coverage, accuracy = metrics.coverage_accuracy(labels, probs, threshold)
    accepted = probs.max(1) >= threshold
    correct = probs.argmax(1) == labels
    np.testing.assert_allclose(float(coverage), accepted.mean(), rtol=1e-6)
    expected = correct[accepted].mean() if accepted.any() else 1.0
    np.testing.assert_allclose(float(accuracy), expected, rtol=1e-6)


def test_full_coverage_is_plain_accuracy_and_zero_coverage_is_perfect():
    probs, labels = _case(1)
    coverage, accuracy = metrics.coverage_accuracy(labels, probs, 0.0)
    assert float(coverage) == 1.0
    assert float(accuracy) == pytest.approx(float(metrics.accuracy(labels, probs)))
    coverage, accuracy = metrics.coverage_accuracy(labels, probs, 1.0)
    assert float(coverage) == 0.0 and float(accuracy) == 1.0


def test_curve_points_equal_thresholded_metric_and_trade_off():
    probs, labels = _case(2)
    probs = np.round(probs, 1)  # ties in confidence
    probs = probs / probs.sum(1, keepdims=True)
    coverage, accuracy, thresholds = metrics.accuracy_coverage_curve(labels, probs)
    for i in (0, 5, 17, 39):
        want_cov, want_acc = metrics.coverage_accuracy(labels, probs, float(thresholds[i]))
        assert float(coverage[i]) == pytest.approx(float(want_cov))
        assert float(accuracy[i]) == pytest.approx(float(want_acc))
    assert np.all(np.diff(np.asarray(coverage)) >= 0)
    assert np.all(np.diff(np.asarray(thresholds)) <= 0)
    assert float(coverage[-1]) == 1.0
    # A model whose confidence tracks correctness is more accurate at lower coverage.
    assert float(accuracy[len(accuracy) // 4]) >= float(accuracy[-1])


def test_coverage_jit_and_vmap():
    probs, labels = _case(3)
    assert_jit_matches_eager(metrics.coverage_accuracy, labels, probs, threshold=0.7)
    assert_jit_matches_eager(metrics.accuracy_coverage_curve, labels, probs)
    batch_probs = jnp.stack([probs, probs[::-1]])
    batch_labels = jnp.stack([labels, labels[::-1]])
    assert_vmap_matches_loop(
        lambda p, y: metrics.coverage_accuracy(y, p, 0.6), batch_probs, batch_labels
    )


def test_coverage_errors():
    probs, labels = _case(4, n=5)
    with pytest.raises(ValueError, match=r"threshold must lie in \[0.0, 1.0\]"):
        metrics.coverage_accuracy(labels, probs, 1.5)
    with pytest.raises(ValueError, match="probabilities must sum to 1 along axis -1"):
        metrics.coverage_accuracy(labels, probs * 0.5, 0.5)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        metrics.accuracy_coverage_curve(labels + 3, probs)
    with pytest.raises(ValueError, match="labels must have shape"):
        metrics.accuracy_coverage_curve(labels[:-1], probs)
    with pytest.raises(ValueError, match="probabilities must have rank 2"):
        metrics.coverage_accuracy(labels[0], probs[0], 0.5)
