"""Attention against PyTorch with the same weights; masks, causality, KV cache, gradients."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxdl.nn.attention import (
    MultiHeadAttention,
    attention_weights,
    causal_mask,
    padding_mask,
    scaled_dot_product_attention,
    set_attention,
)
from jaxdl.testing import assert_grads_close


@settings(max_examples=5)
@given(seed=st.integers(0, 2**16), size=st.integers(2, 6))
def test_set_attention_is_permutation_invariant(seed, size):
    rng = np.random.default_rng(seed)
    q = rng.normal(size=3).astype(np.float32)
    k = rng.normal(size=(size, 3)).astype(np.float32)
    v = rng.normal(size=(size, 2)).astype(np.float32)
    order = rng.permutation(size)
    context, weights = set_attention(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v))
    context_p, weights_p = set_attention(
        jnp.asarray(q), jnp.asarray(k[order]), jnp.asarray(v[order])
    )
    np.testing.assert_allclose(context_p, context, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights_p, np.asarray(weights)[order], rtol=1e-5, atol=1e-7)
    e = k @ q  # the slides' unscaled scores
    a = np.exp(e - e.max()) / np.exp(e - e.max()).sum()
    np.testing.assert_allclose(context, a @ v, rtol=1e-5, atol=1e-6)


def _qkv(key, b=2, t=4, s=5, h=2, d_k=3, d_v=3):
    kq, kk, kv = jax.random.split(key, 3)
    return (
        jax.random.normal(kq, (b, t, h, d_k)),
        jax.random.normal(kk, (b, s, h, d_k)),
        jax.random.normal(kv, (b, s, h, d_v)),
    )


def _torch(x):
    # (B, T, H, D) -> torch (B, H, T, D)
    return torch.tensor(np.asarray(x)).permute(0, 2, 1, 3)


@pytest.mark.parametrize("implementation", ["jax", "reference", "blocked"])
def test_sdpa_equals_torch_with_padding_and_causal_masks(key, implementation):
    q, k, v = _qkv(key, t=5, s=5)
    valid = jnp.array([[True] * 5, [True, True, True, False, False]])
    mask = padding_mask(valid) & causal_mask(5)
    out = scaled_dot_product_attention(q, k, v, mask, implementation=implementation)
    expected = torch.nn.functional.scaled_dot_product_attention(
        _torch(q), _torch(k), _torch(v), attn_mask=torch.tensor(np.asarray(mask))
    ).permute(0, 2, 1, 3)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-5, atol=1e-5)
    # is_causal=True is the same as the explicit causal mask
    causal = scaled_dot_product_attention(q, k, v, padding_mask(valid), is_causal=True)
    np.testing.assert_allclose(causal, out, rtol=1e-5, atol=1e-6)


def test_sdpa_is_causal_without_mask_equals_the_materialized_causal_mask(key):
    """The "jax" path's is_causal=True pass-through (no (B, H, T, S) mask) = explicit mask."""
    q, k, v = _qkv(key, t=5, s=5)

    def attend(q, k, v, causal):
        if causal:  # is_causal=True, mask=None: the pass-through
            return scaled_dot_product_attention(q, k, v, is_causal=True, implementation="jax")
        mask = causal_mask(5)  # explicit mask: the materialized path with its zero fix-up
        return scaled_dot_product_attention(q, k, v, mask, implementation="jax")

    for f in (attend, jax.grad(lambda q, k, v, c: jnp.sum(jnp.sin(attend(q, k, v, c))))):
        np.testing.assert_allclose(f(q, k, v, True), f(q, k, v, False), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        attend(q, k, v, True),
        scaled_dot_product_attention(q, k, v, is_causal=True, implementation="reference"),
        rtol=1e-5,
        atol=1e-6,
    )


def test_sdpa_separate_value_size_and_fully_masked_rows(key):
    q, k, v = _qkv(key, d_v=7)
    query_valid = jnp.array([[True, True, False, False], [True] * 4])
    mask = padding_mask(jnp.ones((2, 5), bool), query_valid)
    out = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, 4, 2, 7)
    expected = torch.nn.functional.scaled_dot_product_attention(_torch(q), _torch(k), _torch(v))
    expected = expected.permute(0, 2, 1, 3).numpy()
    np.testing.assert_allclose(out[1], expected[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out[0, :2], expected[0, :2], rtol=1e-5, atol=1e-5)
    # Fully masked queries: zero output, finite zero gradients, for both implementations.
    np.testing.assert_array_equal(out[0, 2:], 0.0)
    for implementation in ("jax", "reference", "blocked"):
        q2, k2, v2 = _qkv(jax.random.fold_in(key, 1))
        empty = jnp.zeros((2, 1, 4, 5), bool)

        def loss(q2, k2=k2, v2=v2, empty=empty, implementation=implementation):
            return scaled_dot_product_attention(
                q2, k2, v2, empty, implementation=implementation
            ).sum()

        grad = jax.grad(loss)(q2)
        assert loss(q2) == 0.0
        assert bool(jnp.all(jnp.isfinite(grad))) and bool(jnp.all(grad == 0))
    weights = attention_weights(q, k, mask)
    np.testing.assert_array_equal(weights[0, :, 2:], 0.0)
    np.testing.assert_allclose(weights[1].sum(-1), 1.0, rtol=1e-6)


def test_sdpa_gradients_float64():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(1, 3, 1, 2)), rng.normal(size=(1, 4, 1, 2))
    v = rng.normal(size=(1, 4, 1, 3))
    mask = jnp.asarray(rng.random((1, 1, 3, 4)) < 0.7).at[..., 0].set(True)

    def loss(qkv, mask):
        q, k, v = qkv
        out = scaled_dot_product_attention(q, k, v, mask, implementation="reference")
        return jnp.sum(jnp.sin(out))

    assert_grads_close(loss, (q, k, v), mask, rtol=1e-6)


@pytest.mark.parametrize("block_size", [1, 2, 3, 7])
def test_blocked_causal_attention_equals_reference(key, block_size):
    """Causal query blocks over key prefixes (uneven last block, d_v != d_k, padding)."""
    q, k, v = _qkv(key, t=7, s=7, d_v=5)
    valid = jnp.array([[True] * 7, [True] * 4 + [False] * 3])
    expected = scaled_dot_product_attention(
        q, k, v, padding_mask(valid), is_causal=True, implementation="reference"
    )
    out = scaled_dot_product_attention(
        q,
        k,
        v,
        padding_mask(valid),
        is_causal=True,
        implementation="blocked",
        block_size=block_size,
    )
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    # more keys than queries (a cached prefix): query t still sees keys <= t only
    q_short = q[:, :3]
    np.testing.assert_allclose(
        scaled_dot_product_attention(
            q_short, k, v, is_causal=True, implementation="blocked", block_size=block_size
        ),
        scaled_dot_product_attention(q_short, k, v, is_causal=True, implementation="reference"),
        rtol=1e-5,
        atol=1e-6,
    )


def test_blocked_attention_gradients_float64():
    rng = np.random.default_rng(1)
    q, k, v = (rng.normal(size=(1, 5, 2, d)) for d in (2, 2, 3))
    mask = jnp.asarray(rng.random((1, 1, 5, 5)) < 0.8)

    def loss(qkv, mask):
        q, k, v = qkv
        out = scaled_dot_product_attention(
            q, k, v, mask, is_causal=True, implementation="blocked", block_size=2
        )
        return jnp.sum(jnp.sin(out))

    assert_grads_close(loss, (q, k, v), mask, rtol=1e-6)


def _torch_mha_from(params, d_model):
    """An nn.MultiheadAttention holding the same weights as our module."""
    mha = torch.nn.MultiheadAttention(d_model, num_heads=2, batch_first=True)
    w = params["params"]
    in_w = [
        np.asarray(w[n]["kernel"]).reshape(d_model, d_model).T for n in ("query", "key", "value")
    ]
    in_b = [np.asarray(w[n]["bias"]).reshape(d_model) for n in ("query", "key", "value")]
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.tensor(np.concatenate(in_w)))
        mha.in_proj_bias.copy_(torch.tensor(np.concatenate(in_b)))
        mha.out_proj.weight.copy_(
            torch.tensor(np.asarray(w["out"]["kernel"]).reshape(d_model, d_model).T)
        )
        mha.out_proj.bias.copy_(torch.tensor(np.asarray(w["out"]["bias"])))
    return mha


def test_mha_equals_torch_multihead_attention_self_and_cross(key):
    k1, k2, k3 = jax.random.split(key, 3)
    x = jax.random.normal(k1, (2, 4, 6))
    memory = jax.random.normal(k2, (2, 5, 6))
    module = MultiHeadAttention(num_heads=2)
    params = module.init(k3, x, memory)
    mha = _torch_mha_from(params, 6)
    valid = jnp.array([[True] * 5, [True, True, False, False, False]])
    out = module.apply(params, x, memory, padding_mask(valid))
    expected, _ = mha(
        torch.tensor(np.asarray(x)),
        torch.tensor(np.asarray(memory)),
        torch.tensor(np.asarray(memory)),
        key_padding_mask=torch.tensor(~np.asarray(valid)),
    )
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=1e-4, atol=1e-5)
    causal = MultiHeadAttention(num_heads=2, causal=True).apply(params, x)
    expected, _ = mha(
        *(torch.tensor(np.asarray(x)),) * 3,
        attn_mask=torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1),
    )
    np.testing.assert_allclose(causal, expected.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_masked_self_attention_is_causal_by_gradients(key):
    module = MultiHeadAttention(num_heads=2, key_features=3, value_features=4, causal=True)
    x = jax.random.normal(key, (1, 5, 4))
    params = module.init(jax.random.fold_in(key, 1), x)
    jacobian = jax.jacobian(lambda x: module.apply(params, x)[0])(x)[..., 0, :, :]  # (T,d,T,d)
    dependence = np.abs(np.asarray(jacobian)).sum(axis=(1, 3))  # output t on input s
    assert np.all(dependence[np.triu_indices(5, 1)] == 0.0)
    assert np.all(dependence[np.tril_indices(5)] > 0.0)


def test_kv_cache_decoding_equals_full_attention(key):
    module = MultiHeadAttention(num_heads=2, causal=True)
    x = jax.random.normal(key, (2, 6, 4))
    variables = module.init(jax.random.fold_in(key, 1), x, decode=True)
    params, cache = {"params": variables["params"]}, variables["cache"]
    full = module.apply(params, x)
    steps = []
    for start, stop in ((0, 1), (1, 4), (4, 6)):  # one token, then chunks
        out, mutated = module.apply(
            {**params, "cache": cache}, x[:, start:stop], decode=True, mutable=["cache"]
        )
        cache = mutated["cache"]
        steps.append(out)
    np.testing.assert_allclose(jnp.concatenate(steps, axis=1), full, rtol=1e-5, atol=1e-6)
    assert int(cache["index"]) == 6


def test_clear_errors(key):
    with pytest.raises(ValueError, match="d_model must be divisible by num_heads, got d_model=6"):
        MultiHeadAttention(num_heads=4).init(key, jnp.ones((1, 2, 6)))
    q, k, v = _qkv(key)
    with pytest.raises(ValueError, match=r"keys must have shape \(2, S, 2, 3\)"):
        scaled_dot_product_attention(q, k[..., :2], v)
    with pytest.raises(ValueError, match="implementation must be one of"):
        scaled_dot_product_attention(q, k, v, implementation="flash")
    with pytest.raises(ValueError, match="block_size must be > 0, got 0"):
        scaled_dot_product_attention(q, k, v, is_causal=True, block_size=0)
    with pytest.raises(ValueError, match="query must have rank 1"):
        set_attention(jnp.ones((1, 2)), jnp.ones((2, 2)), jnp.ones((2, 1)))
