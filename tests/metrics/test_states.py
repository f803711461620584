"""Mergeable metric states: merge(state(b1), state(b2)) == state(b1 + b2)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn import metrics as skm

from jaxdl import metrics
from jaxdl.metrics import MSE, Accuracy, Average, ConfusionMatrix, Mean

K = 3
N = 24


def _case(seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, K, N).astype(np.int32)
    logits = (rng.normal(size=(N, K)) + np.eye(K)[labels]).astype(np.float32)
    values = rng.normal(size=N).astype(np.float32)
    targets = rng.normal(size=(N, 2)).astype(np.float32)
    return logits, labels, values, targets


def _states(lo: int, hi: int, data):
    logits, labels, values, targets = data
    return (
        Accuracy.from_batch(labels[lo:hi], logits[lo:hi]),
        ConfusionMatrix.from_batch(labels[lo:hi], logits[lo:hi], K),
        Mean.from_batch(values[lo:hi]),
        MSE.from_batch(targets[lo:hi], targets[lo:hi] * 0.5),
    )


@pytest.mark.parametrize(("seed", "cut"), [(0, 1), (1, 9), (2, 9)])
def test_merge_of_batch_states_equals_state_of_concatenation(seed, cut):
    data = _case(seed)
    whole = _states(0, N, data)
    first = _states(0, cut, data)
    second = _states(cut, N, data)
    for a, b, full in zip(first, second, whole, strict=True):
        merged = metrics.merge(a, b)
        for got, want in zip(jax.tree.leaves(merged), jax.tree.leaves(full), strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(
            metrics.compute(merged), metrics.compute(full), rtol=1e-5, atol=1e-5
        )


def test_empty_is_neutral_and_update_is_merge():
    logits, labels, values, targets = _case(1)
    acc = Accuracy.empty().update(labels, logits)
    assert float(acc.compute()) == pytest.approx(float(metrics.accuracy(labels, logits)))
    matrix = ConfusionMatrix.init(K).update(labels, logits)
    np.testing.assert_array_equal(matrix.compute(), metrics.confusion_matrix(labels, logits, K))
    mean = Average.init().update(values)
    assert float(mean.compute()) == pytest.approx(float(values.mean()), rel=1e-6)
    mse = MSE.empty().update(targets, targets * 0.5)
    assert float(mse.compute()) == pytest.approx(float(np.mean((targets * 0.5) ** 2)), rel=1e-6)
    assert float(mse.rmse()) == pytest.approx(math.sqrt(float(mse.compute())), rel=1e-6)
    assert math.isnan(float(Mean.empty().compute()))


def test_streaming_over_batches_with_scan_matches_sklearn():
    logits, labels, _, _ = _case(2)
    batches = (logits.reshape(4, 6, K), labels.reshape(4, 6))

    @jax.jit
    def evaluate(batches):
        def body(state, batch):
            return state.update(batch[1], batch[0]), None

        state, _ = jax.lax.scan(body, ConfusionMatrix.empty(K), batches)
        return state

    state = evaluate(batches)
    preds = logits.argmax(1)
    np.testing.assert_array_equal(state.matrix, skm.confusion_matrix(labels, preds))
    assert float(state.accuracy()) == pytest.approx(skm.accuracy_score(labels, preds))
    for average in ("macro", "weighted", "micro"):
        assert float(state.f1(average=average)) == pytest.approx(
            skm.f1_score(labels, preds, average=average), rel=1e-6
        )
        assert float(state.precision(average=average)) == pytest.approx(
            skm.precision_score(labels, preds, average=average, zero_division=0), rel=1e-6
        )
        assert float(state.recall(average=average)) == pytest.approx(
            skm.recall_score(labels, preds, average=average), rel=1e-6
        )
    assert float(state.fbeta(2.0, average="macro")) == pytest.approx(
        skm.fbeta_score(labels, preds, beta=2.0, average="macro"), rel=1e-6
    )
    np.testing.assert_allclose(
        state.compute(normalize="true"),
        skm.confusion_matrix(labels, preds, normalize="true"),
        rtol=1e-6,
    )
    report = state.report()
    assert report["accuracy"] == pytest.approx(skm.accuracy_score(labels, preds))


def test_mask_drops_padded_examples():
    logits, labels, values, targets = _case(3)
    keep = np.arange(N) < 17
    np.testing.assert_allclose(
        Accuracy.from_batch(labels, logits, keep).compute(),
        metrics.accuracy(labels[:17], logits[:17]),
        rtol=1e-6,
    )
    np.testing.assert_array_equal(
        ConfusionMatrix.from_batch(labels, logits, K, mask=keep).matrix,
        metrics.confusion_matrix(labels[:17], logits[:17], K),
    )
    np.testing.assert_allclose(
        Mean.from_batch(values, keep.astype(np.float32)).compute(), values[:17].mean(), rtol=1e-6
    )
    np.testing.assert_allclose(
        MSE.from_batch(targets, targets * 0.5, keep).compute(),
        np.mean((targets[:17] * 0.5) ** 2),
        rtol=1e-6,
    )


def test_states_vmap_over_independent_streams():
    logits, labels, _, _ = _case(4)
    stacked = jax.vmap(Accuracy.from_batch)(labels.reshape(3, 8), logits.reshape(3, 8, K))
    for i in range(3):
        one = Accuracy.from_batch(labels[8 * i : 8 * i + 8], logits[8 * i : 8 * i + 8])
        assert float(stacked.correct[i]) == float(one.correct)


def test_state_errors():
    logits, labels, values, _ = _case(5)
    with pytest.raises(TypeError, match="cannot merge Accuracy with Mean"):
        Accuracy.empty().merge(Mean.empty())
    with pytest.raises(ValueError, match="cannot merge confusion matrices of shapes"):
        ConfusionMatrix.empty(2).merge(ConfusionMatrix.empty(3))
    with pytest.raises(ValueError, match=r"mask must have shape \(24\)"):
        Accuracy.from_batch(labels, logits, np.ones(5, bool))
    with pytest.raises(ValueError, match=r"weights must have shape \(24\)"):
        Mean.from_batch(values, np.ones(3, np.float32))
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        ConfusionMatrix.empty(2).update(labels, labels)
    with pytest.raises(ValueError, match="predictions must have shape"):
        MSE.from_batch(jnp.zeros(4), jnp.zeros(3))
    with pytest.raises(TypeError, match="num_classes must be an int"):
        ConfusionMatrix.empty(2.5)
