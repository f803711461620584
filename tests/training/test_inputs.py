"""fit's checks at the boundary: typed keys, finite data, sizes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.training import NonFiniteLossError, fit, make_supervised_loss
from jaxdl.training.inputs import check_finite_data, check_key, num_examples, validate_fit_args
from tests._fixtures import linear_problem

pytestmark = pytest.mark.standard_dtype_promotion


def test_key_must_be_a_typed_key():
    model, state, x, y = linear_problem()
    loss = make_supervised_loss(model)
    for bad in (0, jnp.arange(2, dtype=jnp.uint32), jax.random.PRNGKey(0), np.int32(3)):
        with pytest.raises(TypeError, match="key must be a typed PRNG key"):
            fit(bad, state, loss, (x, y), num_epochs=1, progress=False)


def test_nonfinite_data_is_reported_with_array_and_index():
    model, state, x, y = linear_problem()
    loss = make_supervised_loss(model)
    bad = x.at[5, 2].set(jnp.nan)
    with pytest.raises(ValueError, match=r"train_data\[0\] holds a non-finite value .* \(5, 2\)"):
        fit(jax.random.key(0), state, loss, (bad, y), num_epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"val_data\[0\] holds a non-finite value \(inf\)"):
        fit(
            jax.random.key(0),
            state,
            loss,
            (x, y),
            val_data=(x.at[0, 0].set(jnp.inf), y),
            num_epochs=1,
            progress=False,
        )
    with pytest.raises(NonFiniteLossError):  # skipping the check lets training meet the NaN
        fit(
            jax.random.key(0),
            state,
            loss,
            (bad, y),
            num_epochs=1,
            progress=False,
            check_finite_data=False,
        )


def test_check_key_accepts_typed_keys_and_names_the_argument():
    check_key(jax.random.key(0))
    check_key(jax.random.split(jax.random.key(0), 3), batched=True)
    check_key(jax.random.key(0), batched=None)
    with pytest.raises(TypeError, match="seed must be a typed PRNG key .* got int$"):
        check_key(3, "seed")
    with pytest.raises(TypeError, match=r"key must be a typed .*got int32 array"):
        check_key(jnp.arange(3, dtype=jnp.int32))
    with pytest.raises(TypeError, match=r"legacy uint32\[2\] key; .*wrap_key_data\(key\)"):
        check_key(jax.random.PRNGKey(0))
    with pytest.raises(TypeError, match=r"got uint32 array"):
        check_key(np.zeros((3,), np.uint32))
    with pytest.raises(ValueError, match=r"key must be a key of rank \(0,\), got shape \(2,\)"):
        check_key(jax.random.split(jax.random.key(0)))


def test_check_finite_data_names_the_array_and_the_first_bad_index():
    x = jnp.zeros((3, 4)).at[2, 1].set(jnp.inf).at[2, 3].set(jnp.nan)
    labels = jnp.arange(3)  # integer leaves are not checked
    check_finite_data((jnp.zeros((3, 4)), labels), "train_data")
    with pytest.raises(ValueError, match=r"train_data\[1\] holds a non-finite value \(inf\) at "):
        check_finite_data((labels, x), "train_data")
    with pytest.raises(ValueError, match=r"data\['x'\] .* at index \(2, 1\)"):
        check_finite_data({"x": x}, "data")


def test_sizes_are_checked():
    assert num_examples((jnp.zeros((5, 2)), jnp.zeros(5)), "train_data") == 5
    with pytest.raises(ValueError, match="must share a leading example axis"):
        num_examples((jnp.zeros((5, 2)), jnp.zeros(4)), "train_data")
    with pytest.raises(ValueError, match="train_data is empty"):
        num_examples((jnp.zeros((0, 2)),), "train_data")
    validate_fit_args(2, 4, 4, 1, 1)
    with pytest.raises(ValueError, match="batch_size must be <= the number"):
        validate_fit_args(2, 5, 4, 1, 1)
    with pytest.raises(ValueError, match="epochs_per_chunk must be > 0"):
        validate_fit_args(2, None, 4, 1, 0)


def test_shuffle_modes_are_checked():
    from jaxdl.training.inputs import check_shuffle

    for mode in (True, False):
        check_shuffle(mode, None)
    check_shuffle("iid", 4)
    with pytest.raises(ValueError, match="shuffle must be True, False or 'iid', got 'random'"):
        check_shuffle("random", 4)
    with pytest.raises(ValueError, match="batch_size must be given"):
        check_shuffle("iid", None)
