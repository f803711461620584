"""GPT and BERT: causality by gradients, published sizes, mixed precision and remat."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn.language_models import (
    PUBLISHED_MODELS,
    PUBLISHED_PARAMETER_COUNTS,
    parameter_count,
    tiny_gpt,
)


def test_gpt_is_causal_by_gradients(key):
    model = tiny_gpt(num_layers=2)
    k_tokens, k_init = jax.random.split(key)
    tokens = jax.random.randint(k_tokens, (1, 6), 0, 64)
    params = model.init(k_init, tokens)["params"]

    @jax.jit
    def logits_per_position(position_table):
        p = {**params, "position_embedding": {"embedding": position_table}}
        return model.apply({"params": p}, tokens)[0].sum(-1)  # (T,)

    table = params["position_embedding"]["embedding"]
    jacobian = np.abs(np.asarray(jax.jacrev(logits_per_position)(table))).sum(-1)  # (T, rows)
    for t in range(6):
        assert np.all(jacobian[t, t + 1 :] == 0.0), f"output {t} depends on later positions"
        assert np.all(jacobian[t, : t + 1] > 0.0)


@pytest.mark.parametrize("name", sorted(PUBLISHED_MODELS))
def test_published_parameter_counts(name):
    tokens = jax.ShapeDtypeStruct((1, 8), jnp.int32)
    assert parameter_count(PUBLISHED_MODELS[name](), tokens) == PUBLISHED_PARAMETER_COUNTS[name]


@pytest.mark.standard_dtype_promotion  # flax's LayerNorm mixes bf16 inputs and fp32 scales
def test_mixed_precision_and_remat(key):
    k_tokens, k_init = jax.random.split(key)
    tokens = jax.random.randint(k_tokens, (2, 6), 0, 64)
    params = tiny_gpt().init(k_init, tokens)["params"]

    def value_and_grad(model):
        def loss(params):
            logits = model.apply({"params": params}, tokens)
            return jnp.mean(jax.nn.log_softmax(logits)[..., 0])

        return jax.jit(jax.value_and_grad(loss))(params)

    value, grads = value_and_grad(tiny_gpt())
    # rematerialized and unrolled layer stacks compute the same function, same parameters
    for variant in (tiny_gpt(remat=True), tiny_gpt(scan_unroll=2), tiny_gpt(scan_unroll=9)):
        variant_value, variant_grads = value_and_grad(variant)
        np.testing.assert_allclose(variant_value, value, rtol=1e-6)
        leaves = zip(
            jax.tree_util.tree_leaves(variant_grads), jax.tree_util.tree_leaves(grads), strict=True
        )
        for a, b in leaves:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    with pytest.raises(ValueError, match="scan_unroll must be > 0, got 0"):
        tiny_gpt(scan_unroll=0).init(k_init, tokens)
    # bf16 compute with fp32 master weights: fp32 gradients, a close loss
    bf16_value, bf16_grads = value_and_grad(tiny_gpt(dtype=jnp.bfloat16))
    assert all(g.dtype == jnp.float32 for g in jax.tree_util.tree_leaves(bf16_grads))
    np.testing.assert_allclose(bf16_value, value, rtol=2e-2)
