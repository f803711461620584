"""Standardization, hold-out splits, minibatches and one-hot labels."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.preprocessing import StandardScaler

from jaxdl import data
from jaxdl.testing import assert_grads_close


def _features(seed: int, n: int = 12):
    rng = np.random.default_rng(seed)
    x = rng.normal(3.0, 2.0, (n, 3)).astype(np.float32)
    x[:, 2] = 7.0  # a constant feature
    return x


# --------------------------------------------------------------------------- standardize


def test_standardize_matches_sklearn_and_uses_train_statistics_only():
    x_train, x_test = _features(0), _features(1, n=5)
    stats, (train_z, test_z) = data.standardize(x_train, x_test)
    scaler = StandardScaler().fit(x_train)
    np.testing.assert_allclose(train_z, scaler.transform(x_train), atol=1e-5)
    np.testing.assert_allclose(test_z, scaler.transform(x_test), atol=1e-5)
    np.testing.assert_allclose(train_z[:, :2].mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train_z[:, :2].std(0), 1.0, atol=1e-5)
    np.testing.assert_array_equal(train_z[:, 2], 0.0)  # constant: centred, not scaled
    np.testing.assert_allclose(data.unstandardize(stats, test_z), x_test, rtol=1e-5)
    np.testing.assert_allclose(data.apply_standardize(stats, x_test), test_z, rtol=1e-6)


def test_standardize_gradient():
    x_train, x_test = _features(2, n=6)[:, :2], _features(3, n=3)[:, :2]

    def objective(x_train, x_test):
        _, (_, test_z) = data.standardize(x_train, x_test)
        return jnp.sum(test_z**2)

    assert_grads_close(objective, x_train, x_test, rtol=1e-5)


def test_standardize_errors():
    with pytest.raises(TypeError, match="x_train must have a floating dtype"):
        data.standardize(jnp.ones((3, 2), jnp.int32))
    with pytest.raises(ValueError, match="x_train must hold at least one example"):
        data.standardize(jnp.ones((0, 2)))
    with pytest.raises(ValueError, match=r"others\[0\] must have feature shape \(2,\)"):
        data.standardize(jnp.ones((3, 2)), jnp.ones((3, 4)))
    with pytest.raises(ValueError, match="eps must be >= 0"):
        data.standardize(jnp.ones((3, 2)), eps=-1.0)


# --------------------------------------------------------------------------- split


def test_split_is_a_partition_of_sklearn_size(key):
    ids = jnp.arange(23)
    split = data.train_test_split(key, ids[:, None].astype(jnp.float32), ids, 0.3)
    assert split.y_test.shape == (math.ceil(0.3 * 23),)  # scikit-learn's rounding
    both = np.concatenate([split.y_train, split.y_test])
    np.testing.assert_array_equal(np.sort(both), np.arange(23))
    np.testing.assert_array_equal(split.x_train[:, 0], split.y_train.astype(jnp.float32))
    # The original order is kept inside each part.
    assert np.all(np.diff(np.asarray(split.y_train)) > 0)
    assert np.all(np.diff(np.asarray(split.y_test)) > 0)


def test_stratified_split_keeps_class_shares(key):
    labels = jnp.asarray(np.repeat(np.arange(3), [30, 12, 6]).astype(np.int32))
    x = jnp.arange(48.0)[:, None]
    fn = jax.jit(
        data.train_test_split, static_argnames=("test_fraction", "stratify", "num_classes")
    )
    split = fn(jax.random.clone(key), x, labels, test_fraction=0.25, stratify=True, num_classes=3)
    eager = data.train_test_split(key, x, labels, 0.25, stratify=True)
    np.testing.assert_array_equal(split.x_test, eager.x_test)
    counts = np.bincount(np.asarray(split.y_test), minlength=3)
    assert counts.sum() == 12
    np.testing.assert_allclose(counts, 12 * np.array([30, 12, 6]) / 48, atol=1.0)
    rows = np.asarray(split.x_test[:, 0]).astype(int)
    np.testing.assert_array_equal(split.y_test, np.asarray(labels)[rows])


def test_split_is_uniform_over_keys(key):
    """Each example lands in the test part with probability test_fraction."""
    ids = jnp.arange(10)
    keys = jax.random.split(key, 2000)
    split = jax.vmap(lambda k: data.train_test_split(k, ids, ids, 0.2))(keys)
    hits = np.bincount(np.asarray(split.y_test).ravel(), minlength=10) / 2000
    # Binomial(2000, 0.2) frequencies: within 5 standard errors.
    np.testing.assert_allclose(hits, 0.2, atol=5 * math.sqrt(0.2 * 0.8 / 2000))


def test_split_errors(key):
    x, y = jnp.zeros((10, 2)), jnp.zeros(10, jnp.int32)
    with pytest.raises(ValueError, match=r"test_fraction must lie in \(0.0, 1.0\)"):
        data.train_test_split(key, x, y, 1.0)
    with pytest.raises(ValueError, match="both parts must be non-empty"):
        data.train_test_split(key, x, y, 0.99)
    with pytest.raises(ValueError, match="x and y must have the same number of rows"):
        data.train_test_split(key, x, y[:9], 0.2)
    with pytest.raises(ValueError, match="x must hold at least one example"):
        data.train_test_split(key, x[:0], y[:0], 0.2)
    with pytest.raises(TypeError, match="y must have an integer dtype"):
        data.train_test_split(key, x, jnp.zeros(10), 0.2, stratify=True)
    with pytest.raises(ValueError, match="num_classes must be given to stratify under jit"):
        jax.jit(lambda k, x, y: data.train_test_split(k, x, y, 0.2, stratify=True))(key, x, y)


# --------------------------------------------------------------------------- batches


def test_shuffled_batches_drop_remainder(key):
    x = jnp.arange(22.0)[:, None]
    y = jnp.arange(22)
    xb, yb = jax.jit(data.shuffled_batches, static_argnums=(3, 4))(key, x, y, 5, True)
    assert xb.shape == (4, 5, 1) and yb.shape == (4, 5)
    seen = np.asarray(yb).ravel()
    assert len(set(seen.tolist())) == 20  # each example at most once
    np.testing.assert_array_equal(xb[..., 0], yb.astype(jnp.float32))


def test_shuffled_batches_fill_last_batch(key):
    y = jnp.arange(22)
    xb, yb = data.shuffled_batches(key, y, None, 5, drop_remainder=False)
    assert xb.shape == (5, 5) and yb is None
    assert set(np.asarray(xb).ravel().tolist()) == set(range(22))  # all seen


def test_shuffled_batches_are_uniform(key):
    keys = jax.random.split(key, 1000)
    ids = jnp.arange(8)
    first, _ = jax.vmap(lambda k: data.shuffled_batches(k, ids, None, 4))(keys)
    freq = np.bincount(np.asarray(first[:, 0, 0]), minlength=8) / 1000
    np.testing.assert_allclose(freq, 1 / 8, atol=5 * math.sqrt((1 / 8) * (7 / 8) / 1000))


def test_iterate_batches(key):
    x = np.arange(10.0)[:, None]
    y = np.arange(10)
    sizes = [len(yb) for _, yb in data.iterate_batches(key, x, y, 4)]
    assert sizes == [4, 4, 2]
    seen = np.concatenate([yb for _, yb in data.iterate_batches(None, x, y, 3)])
    np.testing.assert_array_equal(seen, np.arange(10))  # key=None keeps the order
    dropped = list(data.iterate_batches(None, x, None, 4, drop_remainder=True))
    assert [len(xb) for xb, _ in dropped] == [4, 4] and dropped[0][1] is None


def test_batch_errors(key):
    x = jnp.zeros((6, 2))
    with pytest.raises(ValueError, match="batch_size must be > 0"):
        data.shuffled_batches(key, x, None, 0)
    with pytest.raises(ValueError, match="batch_size must be <= the number of examples 6"):
        data.shuffled_batches(key, x, None, 7)
    with pytest.raises(ValueError, match="x and y must have the same number of rows"):
        data.shuffled_batches(key, x, jnp.zeros(5), 2)
    with pytest.raises(ValueError, match="x must hold at least one example"):
        next(data.iterate_batches(None, x[:0], None, 1))


# --------------------------------------------------------------------------- one-hot


def test_one_hot():
    labels = jnp.array([[0, 2], [1, 1]])
    encoded = data.one_hot(labels, 3)
    np.testing.assert_array_equal(encoded, np.eye(3, dtype=np.float32)[np.asarray(labels)])
    assert encoded.dtype == jnp.float32
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        data.one_hot(jnp.array([3]), 3)
    with pytest.raises(TypeError, match="labels must have an integer dtype"):
        data.one_hot(jnp.array([0.0]), 3)


# ------------------------------------------- constant and near-constant columns (issue 7)


@pytest.mark.parametrize("value", [7.0, 0.1, -3.3, 1e4, 1e-3])
@pytest.mark.parametrize("n", [13, 7, 100])
def test_standardize_constant_float32_column_like_sklearn(value, n):
    # The float32 mean of thirteen 7.0s is 7.0000005: the spread is ~1e-7, not 0.
    x = np.full((n, 2), value, np.float32)
    x[:, 1] = np.linspace(0.0, 1.0, n)
    x_test = np.array([[value, 0.5]], np.float32)
    scaler = StandardScaler().fit(x.astype(np.float64))
    stats, (train_z, test_z) = data.standardize(jnp.asarray(x), jnp.asarray(x_test))
    np.testing.assert_allclose(np.asarray(stats.std)[0], 1.0)
    np.testing.assert_allclose(train_z, scaler.transform(x), atol=1e-4)
    np.testing.assert_allclose(test_z, scaler.transform(x_test), atol=1e-4)


# Random values over a few sizes: each new size compiles every eager op again, so the
# sizes (including the thirteen of the bug report) are drawn from a short list.
@settings(max_examples=25)
@given(
    value=st.floats(-1e4, 1e4, allow_nan=False, width=32),
    n=st.sampled_from([2, 13, 60]),
    relative_step=st.sampled_from([0.0, 1e-3, 1e-1]),
)
def test_standardize_near_constant_column_matches_float64(value, n, relative_step):
    # A column that moves by a relative 1e-3 is a real spread; 0 is a constant.
    step = relative_step * max(abs(value), 1.0)
    x = (value + step * (np.arange(n) % 2)).astype(np.float32)[:, None]
    _, (z,) = data.standardize(jnp.asarray(x))
    reference = StandardScaler().fit_transform(x.astype(np.float64))
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(z, reference, atol=2e-2)
