"""Exact references for the RBM tests: enumeration of tiny models, random parameters."""

from __future__ import annotations

import jax
import numpy as np

from jaxdl.probabilistic import rbm


def bits(n: int) -> np.ndarray:
    """All 2**n binary vectors as float64 rows."""
    codes = np.arange(2**n)[:, None]
    return ((codes >> np.arange(n)[None, :]) & 1).astype(np.float64)


def random_rbm(key, num_visible, num_hidden, scale=1.0) -> rbm.RBMParams:
    k_w, k_b, k_c = jax.random.split(key, 3)
    return rbm.RBMParams(
        weights=scale * jax.random.normal(k_w, (num_visible, num_hidden)),
        visible_bias=0.5 * jax.random.normal(k_b, (num_visible,)),
        hidden_bias=0.5 * jax.random.normal(k_c, (num_hidden,)),
    )


def random_gaussian_rbm(key, num_visible, num_hidden, scale=0.7) -> rbm.GaussianRBMParams:
    k_w, k_b, k_c, k_s = jax.random.split(key, 4)
    return rbm.GaussianRBMParams(
        weights=scale * jax.random.normal(k_w, (num_visible, num_hidden)),
        visible_bias=0.5 * jax.random.normal(k_b, (num_visible,)),
        hidden_bias=0.5 * jax.random.normal(k_c, (num_hidden,)),
        log_variance=0.3 * jax.random.normal(k_s, (num_visible,)),
    )


def np_params(params):
    return [np.asarray(x, np.float64) for x in params]


def np_energy(params, v, h):
    W, b, c = np_params(params)[:3]
    return -(v @ b) - (h @ c) - np.einsum("...i,ij,...j->...", v, W, h)


def exact_joint(params):
    """Exact P(v, h) of a tiny Bernoulli RBM as a [2**V, 2**H] table."""
    V, H = params.weights.shape
    vs, hs = bits(V), bits(H)
    log_p = -np_energy(params, vs[:, None, :], hs[None, :, :])
    log_p -= np.logaddexp.reduce(log_p.ravel())
    return vs, hs, np.exp(log_p)
