"""Splits: scikit-learn's partitions for unshuffled folds, partition properties, errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.model_selection import KFold, LeaveOneOut, StratifiedKFold

from jaxdl.selection import (
    bootstrap,
    fold_indices,
    holdout,
    kfold,
    leave_one_out,
    stratified_kfold,
)


def _assert_partition(folds, num_examples):
    test = np.asarray(folds.test_mask)
    assert test.shape[1] == num_examples
    np.testing.assert_array_equal(test.sum(axis=0), np.ones(num_examples))
    np.testing.assert_array_equal(np.asarray(folds.train_mask), ~test)


@pytest.mark.parametrize(("num_examples", "num_folds"), [(10, 2), (11, 3), (17, 5), (7, 7)])
def test_kfold_equals_sklearn_unshuffled(num_examples, num_folds):
    folds = kfold(None, num_examples, num_folds)
    expected = list(KFold(num_folds).split(np.zeros(num_examples)))
    for mine_train, mine_test, (sk_train, sk_test) in zip(
        fold_indices(folds.train_mask), fold_indices(folds.test_mask), expected, strict=True
    ):
        np.testing.assert_array_equal(mine_test, sk_test)
        np.testing.assert_array_equal(mine_train, sk_train)
    _assert_partition(folds, num_examples)


def test_kfold_shuffled_is_a_partition_with_sklearn_sizes(key):
    folds = kfold(key, 23, 4)
    _assert_partition(folds, 23)
    sizes = [len(t) for _, t in KFold(4).split(np.zeros(23))]
    assert np.asarray(folds.test_mask).sum(axis=1).tolist() == sizes
    assert not np.array_equal(np.asarray(folds.test_mask), np.asarray(kfold(None, 23, 4).test_mask))
    np.testing.assert_array_equal(np.asarray(folds.train_weights), np.asarray(folds.train_mask))


@pytest.mark.parametrize("seed", range(6))
def test_stratified_kfold_equals_sklearn_unshuffled(seed):
    rng = np.random.default_rng(seed)
    num_examples, num_classes, num_folds = int(rng.integers(20, 50)), 3, int(rng.integers(2, 5))
    labels = rng.choice(num_classes, num_examples, p=[0.5, 0.3, 0.2]).astype(np.int32)
    folds = stratified_kfold(None, labels, num_folds, num_classes)
    expected = [t for _, t in StratifiedKFold(num_folds).split(np.zeros(num_examples), labels)]
    for mine, theirs in zip(fold_indices(folds.test_mask), expected, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def test_stratified_kfold_shuffled_keeps_class_proportions(key):
    labels = jnp.asarray(np.repeat(np.arange(3), [30, 20, 10]), jnp.int32)
    folds = stratified_kfold(key, labels, 5, 3)
    _assert_partition(folds, 60)
    counts = np.stack(
        [np.bincount(np.asarray(labels)[m], minlength=3) for m in np.asarray(folds.test_mask)]
    )
    np.testing.assert_array_equal(counts, np.tile([6, 4, 2], (5, 1)))
    assert not np.array_equal(
        np.asarray(folds.test_mask), np.asarray(stratified_kfold(None, labels, 5, 3).test_mask)
    )


def test_stratified_kfold_runs_under_jit(key):
    labels = jnp.asarray([0, 1, 0, 1, 1, 0, 2, 2, 2, 0], jnp.int32)
    eager = stratified_kfold(None, labels, 2, 3)
    jitted = jax.jit(stratified_kfold, static_argnums=(2, 3))(None, labels, 2, 3)
    np.testing.assert_array_equal(np.asarray(eager.test_mask), np.asarray(jitted.test_mask))


def test_leave_one_out_equals_sklearn():
    folds = leave_one_out(5)
    for mine, (_, theirs) in zip(
        fold_indices(folds.test_mask), LeaveOneOut().split(np.zeros(5)), strict=True
    ):
        np.testing.assert_array_equal(mine, theirs)
    _assert_partition(folds, 5)


def test_holdout_size_follows_sklearn_rule(key):
    folds = holdout(key, 10, 0.25)
    assert folds.num_folds == 1
    assert int(folds.test_mask.sum()) == 3  # ceil(0.25 * 10)
    np.testing.assert_array_equal(np.asarray(folds.train_mask), ~np.asarray(folds.test_mask))


def test_bootstrap_counts_and_out_of_bag_share(key):
    num_examples, num_resamples = 200, 64
    boot = bootstrap(key, num_examples, num_resamples)
    counts = np.asarray(boot.counts)
    np.testing.assert_array_equal(counts.sum(axis=1), np.full(num_resamples, num_examples))
    np.testing.assert_array_equal(np.asarray(boot.out_of_bag), counts == 0)
    np.testing.assert_array_equal(np.asarray(boot.weights), counts.astype(np.float32))
    # P(out of bag) = (1 - 1/N)^N; its estimate over B*N indicators (correlated within a
    # row only weakly) has standard deviation about sqrt(p(1-p)/(B N)).
    p = (1 - 1 / num_examples) ** num_examples
    share = np.asarray(boot.out_of_bag).mean()
    assert abs(share - p) < 5 * np.sqrt(p * (1 - p) / (num_examples * num_resamples))
    # Each count is Binomial(N, 1/N): mean 1, variance 1 - 1/N.
    assert abs(counts.var() - (1 - 1 / num_examples)) < 0.1


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: kfold(None, 5, 6), "num_folds must be <= the number of examples"),
        (lambda: kfold(None, 5, 1), "num_folds must be >= 2"),
        (lambda: kfold(None, 0, 2), "num_examples must be > 0"),
        (lambda: stratified_kfold(None, jnp.zeros(0, jnp.int32), 2, 2), "at least one example"),
        (lambda: stratified_kfold(None, jnp.array([0, 0, 1, 1]), 3, 2), "largest class"),
        (lambda: leave_one_out(1), "num_examples must be >= 2"),
        (lambda: holdout(jax.random.key(0), 10, 1.5), "test_fraction must lie in"),
        (lambda: bootstrap(jax.random.key(0), 10, 0), "num_resamples must be > 0"),
        (lambda: fold_indices(np.zeros(3)), "mask must have rank 2"),
    ],
)
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_float_labels_raise():
    with pytest.raises(TypeError, match="labels must have an integer dtype"):
        stratified_kfold(None, jnp.zeros(4), 2, 2)
