"""Penalties on representations: sparsity (L1, KL) and the contractive Jacobian norm."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.losses.penalties import (
    bernoulli_kl,
    hutchinson_jacobian_frobenius_squared,
    jacobian_frobenius_squared,
    kl_sparsity_penalty,
    l1_code_penalty,
)
from jaxdl.testing import assert_grads_close, assert_jit_matches_eager, assert_vmap_matches_loop


def test_l1_and_kl_penalties_match_numpy(key):
    code = jax.nn.sigmoid(jax.random.normal(key, (6, 4)))
    np.testing.assert_allclose(l1_code_penalty(code), np.abs(np.asarray(code)).sum(-1), rtol=1e-6)
    rho = 0.1
    rho_hat = np.asarray(code, dtype=np.float64).mean(0)
    expected = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    assert float(kl_sparsity_penalty(code, rho)) == pytest.approx(expected, rel=1e-5)
    # KL(rho || rho) = 0 and the penalty is positive elsewhere.
    assert float(bernoulli_kl(0.3, jnp.array(0.3))) == pytest.approx(0.0, abs=1e-7)
    assert float(bernoulli_kl(0.3, jnp.array(0.6))) > 0.0


def test_penalty_gradients(key):
    code = jax.nn.sigmoid(jax.random.normal(key, (5, 3)))
    assert_grads_close(lambda h: jnp.sum(l1_code_penalty(h - 0.5)), code)
    assert_grads_close(lambda h: kl_sparsity_penalty(h, 0.2), code, rtol=1e-4)


def test_penalties_jit_and_vmap(key):
    code = jax.nn.sigmoid(jax.random.normal(key, (3, 5, 4)))
    assert_jit_matches_eager(lambda h: kl_sparsity_penalty(h, 0.1), code[0])
    assert_vmap_matches_loop(lambda h: kl_sparsity_penalty(h, 0.1), code)
    assert_vmap_matches_loop(l1_code_penalty, code)


def test_exact_jacobian_norm_matches_closed_form(key):
    w_key, b_key, x_key = jax.random.split(key, 3)
    W = jax.random.normal(w_key, (3, 5))
    b = jax.random.normal(b_key, (3,))
    x = jax.random.normal(x_key, (4, 5))

    def encoder(v):
        return jnp.tanh(W @ v + b)

    # J = diag(1 - tanh^2(W x + b)) W.
    derivative = 1.0 - np.tanh(np.asarray(x) @ np.asarray(W).T + np.asarray(b)) ** 2
    expected = np.einsum("nh,hd->n", derivative**2, np.asarray(W) ** 2)
    np.testing.assert_allclose(
        jacobian_frobenius_squared(encoder, x), expected, rtol=1e-5, atol=1e-6
    )
    assert jacobian_frobenius_squared(encoder, x[0]).shape == ()
    assert_vmap_matches_loop(lambda v: jacobian_frobenius_squared(encoder, v), x)
    assert_jit_matches_eager(lambda v: jacobian_frobenius_squared(encoder, v), x)


def test_exact_jacobian_norm_gradients(key):
    w_key, x_key = jax.random.split(key)
    W = jax.random.normal(w_key, (3, 4))
    x = jax.random.normal(x_key, (2, 4))

    def penalty(W):
        return jnp.sum(jacobian_frobenius_squared(lambda v: jax.nn.sigmoid(W @ v), x))

    assert_grads_close(penalty, W, rtol=1e-4)


@pytest.mark.parametrize("probe", ["rademacher", "gaussian"])
def test_hutchinson_is_unbiased_with_known_variance(key, probe):
    w_key, x_key, probe_key = jax.random.split(key, 3)
    W = jax.random.normal(w_key, (3, 6))
    x = jnp.zeros((2000, 6))  # 2000 independent single-probe estimates of ||W||_F^2
    estimates = np.asarray(
        hutchinson_jacobian_frobenius_squared(probe_key, lambda v: W @ v, x, probe=probe),
        dtype=np.float64,
    )
    W_np = np.asarray(W, dtype=np.float64)
    exact = np.sum(W_np**2)
    A = W_np.T @ W_np
    variance = 2 * np.sum(A**2)
    if probe == "rademacher":
        variance -= 2 * np.sum(np.diag(A) ** 2)
    n = estimates.size
    assert abs(estimates.mean() - exact) < 4 * np.sqrt(variance / n)
    # Sample variance of a sum of squares: loose relative tolerance.
    assert estimates.var() == pytest.approx(variance, rel=0.25)


def test_hutchinson_variance_shrinks_with_probes(key):
    w_key, k1, k2 = jax.random.split(key, 3)
    W = jax.random.normal(w_key, (3, 6))
    x = jnp.zeros((1000, 6))
    one = np.asarray(hutchinson_jacobian_frobenius_squared(k1, lambda v: W @ v, x, num_probes=1))
    many = np.asarray(hutchinson_jacobian_frobenius_squared(k2, lambda v: W @ v, x, num_probes=16))
    ratio = many.var() / one.var()
    assert ratio == pytest.approx(1 / 16, rel=0.35)
    exact = float(jnp.sum(W**2))
    assert abs(many.mean() - exact) < 4 * np.sqrt(many.var() / many.size)


def test_hutchinson_errors(key):
    with pytest.raises(ValueError, match="probe must be 'rademacher' or 'gaussian'"):
        hutchinson_jacobian_frobenius_squared(key, lambda v: v, jnp.ones(2), probe="cauchy")
    with pytest.raises(ValueError, match="num_probes must be > 0"):
        hutchinson_jacobian_frobenius_squared(key, lambda v: v, jnp.ones(2), num_probes=0)


def test_kl_sparsity_penalty_errors():
    with pytest.raises(ValueError, match=r"target must lie in \(0.0, 1.0\)"):
        kl_sparsity_penalty(jnp.full((2, 2), 0.5), 1.2)
    with pytest.raises(ValueError, match="code must have rank 2"):
        kl_sparsity_penalty(jnp.full((2, 2, 2), 0.5), 0.1)
