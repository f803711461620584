"""Objectives of multi-task, semi-supervised and self-supervised learning."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.losses.multitask import masked_prediction_loss, multi_task_loss, semi_supervised_loss
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


def test_multi_task_loss_values_grads_errors():
    np.testing.assert_allclose(multi_task_loss([jnp.array(2.0), jnp.array(4.0)], [1.0, 0.5]), 4.0)
    np.testing.assert_allclose(multi_task_loss([jnp.array(2.0), jnp.array(4.0)]), 6.0)
    assert_grads_close(lambda z: multi_task_loss([z[0] ** 2, z[1] ** 3], [0.3, 2.0]), jnp.ones(2))
    with pytest.raises(ValueError, match="weights must have one entry per task"):
        multi_task_loss([jnp.array(1.0)], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"weights\[1\] must be >= 0"):
        multi_task_loss([jnp.array(1.0), jnp.array(1.0)], [1.0, -2.0])
    with pytest.raises(ValueError, match="each task loss must be a scalar"):
        multi_task_loss([jnp.ones(3)])


def test_semi_supervised_loss_value_and_unlabelled_rows_ignored(key):
    k1, k2, k3 = jax.random.split(key, 3)
    logits = jax.random.normal(k1, (5, 3))
    x = jax.random.normal(k2, (5, 4))
    x_hat = jax.random.normal(k3, (5, 4))
    labels = jnp.array([0, 2, -1, -1, 1])
    labelled = labels >= 0
    z = np.asarray(logits, np.float64)
    log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
    ce = -log_p[[0, 1, 4], [0, 2, 1]].mean()
    recon = np.mean((np.asarray(x_hat) - np.asarray(x)) ** 2)
    got = semi_supervised_loss(logits, x_hat, x, labels, labelled, 0.3)
    np.testing.assert_allclose(got, ce + 0.3 * recon, rtol=1e-5)
    # changing the label of an unlabelled row changes nothing
    other = semi_supervised_loss(logits, x_hat, x, labels.at[2].set(1), labelled, 0.3)
    np.testing.assert_allclose(other, got)
    assert_grads_close(
        lambda p: semi_supervised_loss(p[0], p[1], x, labels, labelled, 0.3), (logits, x_hat)
    )
    assert_jit_matches_eager(semi_supervised_loss, logits, x_hat, x, labels, labelled, 0.3)


def test_semi_supervised_loss_errors():
    ok = dict(
        logits=jnp.zeros((2, 3)),
        reconstruction=jnp.zeros((2, 4)),
        x=jnp.zeros((2, 4)),
        labels=jnp.array([0, 1]),
        labelled=jnp.array([True, False]),
        reconstruction_weight=1.0,
    )
    with pytest.raises(ValueError, match="reconstruction_weight must be >= 0"):
        semi_supervised_loss(**{**ok, "reconstruction_weight": -1.0})
    with pytest.raises(ValueError, match="reconstruction must have the shape of x"):
        semi_supervised_loss(**{**ok, "reconstruction": jnp.zeros((2, 5))})
    with pytest.raises(TypeError, match="labelled must be a bool array"):
        semi_supervised_loss(**{**ok, "labelled": jnp.array([1, 0])})
    with pytest.raises(ValueError, match="must have the same number of rows"):
        semi_supervised_loss(**{**ok, "labels": jnp.array([0, 1, 1])})


def test_masked_prediction_loss_counts_only_masked_positions(key):
    x = jnp.array([[1.0, 2.0, 3.0, 4.0]])
    mask = jnp.array([[False, True, True, False]])
    prediction = jnp.array([[100.0, 2.5, 2.0, -100.0]])
    np.testing.assert_allclose(masked_prediction_loss(prediction, x, mask), [(0.25 + 1.0) / 2])
    k1, k2 = jax.random.split(key)
    xs = jax.random.normal(k1, (3, 5))
    preds = jax.random.normal(k2, (3, 5))
    masks = jnp.arange(15).reshape(3, 5) % 2 == 0
    assert_grads_close(lambda p: jnp.sum(masked_prediction_loss(p, xs, masks)), preds)
    assert_vmap_matches_loop(masked_prediction_loss, preds, xs, masks)
    with pytest.raises(ValueError, match="must share one shape"):
        masked_prediction_loss(preds, xs, masks[:, :2])
