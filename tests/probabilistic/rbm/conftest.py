"""Fixtures of the RBM tests."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from sklearn.datasets import load_digits

from tests.probabilistic.rbm._reference import random_rbm


@pytest.fixture
def tiny():
    return random_rbm(jax.random.key(123), 5, 4)


@pytest.fixture(scope="module")
def binary_digits():
    x = load_digits().data[:300]
    return (x / 16.0 > 0.5).astype(np.float32)
