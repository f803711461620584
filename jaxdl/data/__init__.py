"""Datasets, toy problems and preprocessing (``jaxdl.data``).

- :mod:`jaxdl.data.datasets`: :class:`Dataset` and loaders for MNIST-1D, scikit-learn's
  digits / iris / breast cancer and the motorcycle-crash data (nothing downloaded);
- :mod:`jaxdl.data.toy`: XOR, moons, spirals, blobs, linearly separable points and a
  ring of Gaussians, each drawn from a PRNG key;
- :mod:`jaxdl.data.preprocessing`: standardization fitted on training data, hold-out
  splits, minibatches for ``lax.scan`` and one-hot labels.
"""

from jaxdl.data.augment import (
    fast_gradient_sign,
    original_vs_distorted_pairs,
    random_crop,
    random_flip_left_right,
    random_flip_up_down,
    random_rotation,
    random_translate,
    random_zoom,
    rotate,
    target_noise,
    translate,
    zoom,
)
from jaxdl.data.datasets import (
    Dataset,
    cache_dir,
    load_breast_cancer,
    load_digits,
    load_iris,
    load_mcycle,
    load_mnist,
    load_mnist1d,
)
from jaxdl.data.preprocessing import (
    Split,
    StandardizeStats,
    apply_standardize,
    iterate_batches,
    one_hot,
    shuffled_batches,
    standardize,
    train_test_split,
    unstandardize,
)
from jaxdl.data.toy import (
    SeparableData,
    blobs,
    gaussian_mixture_2d,
    gaussian_mixture_2d_centers,
    linearly_separable,
    moons,
    spirals,
    xor,
)

__all__ = [
    "random_rotation",
    "random_zoom",
    "rotate",
    "zoom",
    "fast_gradient_sign",
    "original_vs_distorted_pairs",
    "random_crop",
    "random_flip_left_right",
    "random_flip_up_down",
    "random_translate",
    "target_noise",
    "translate",
    "Dataset",
    "SeparableData",
    "Split",
    "StandardizeStats",
    "apply_standardize",
    "blobs",
    "cache_dir",
    "gaussian_mixture_2d",
    "gaussian_mixture_2d_centers",
    "iterate_batches",
    "linearly_separable",
    "load_breast_cancer",
    "load_digits",
    "load_iris",
    "load_mcycle",
    "load_mnist",
    "load_mnist1d",
    "moons",
    "one_hot",
    "shuffled_batches",
    "spirals",
    "standardize",
    "train_test_split",
    "unstandardize",
    "xor",
]
