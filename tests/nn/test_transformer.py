"""Transformer blocks against PyTorch; block gradients, the cost model, clear errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from jaxdl.nn.attention import padding_mask
from jaxdl.nn.language_models import (
    tiny_bert,
    tiny_gpt,
)
from jaxdl.nn.transformer import EncoderBlock, tiny_transformer, transformer_flops
from jaxdl.testing import assert_grads_close


def _copy_block_into_torch(params, layer, d_model):
    w = jax.tree_util.tree_map(np.asarray, params["params"])
    attention = w["self_attention"]
    kernels = [
        attention[n]["kernel"].reshape(d_model, d_model).T for n in ("query", "key", "value")
    ]
    biases = [attention[n]["bias"].reshape(d_model) for n in ("query", "key", "value")]
    pairs = [
        (layer.self_attn.in_proj_weight, np.concatenate(kernels)),
        (layer.self_attn.in_proj_bias, np.concatenate(biases)),
        (layer.self_attn.out_proj.weight, attention["out"]["kernel"].reshape(d_model, d_model).T),
        (layer.self_attn.out_proj.bias, attention["out"]["bias"]),
        (layer.linear1.weight, w["feed_forward"]["hidden"]["kernel"].T),
        (layer.linear1.bias, w["feed_forward"]["hidden"]["bias"]),
        (layer.linear2.weight, w["feed_forward"]["output"]["kernel"].T),
        (layer.linear2.bias, w["feed_forward"]["output"]["bias"]),
        (layer.norm1.weight, w["self_attention_norm"]["scale"]),
        (layer.norm1.bias, w["self_attention_norm"]["bias"]),
        (layer.norm2.weight, w["feed_forward_norm"]["scale"]),
        (layer.norm2.bias, w["feed_forward_norm"]["bias"]),
    ]
    with torch.no_grad():
        for target, value in pairs:
            target.copy_(torch.tensor(np.ascontiguousarray(value)))


@pytest.mark.parametrize(("norm", "activation"), [("post", "relu"), ("pre", "gelu")])
def test_encoder_block_equals_torch_transformer_encoder_layer(key, norm, activation):
    d_model, heads, d_ff = 8, 2, 12
    x = jax.random.normal(key, (2, 5, d_model))
    block = EncoderBlock(num_heads=heads, hidden_features=d_ff, norm=norm, activation=activation)
    params = block.init(jax.random.fold_in(key, 1), x)
    layer = torch.nn.TransformerEncoderLayer(
        d_model,
        heads,
        d_ff,
        dropout=0.0,
        activation=activation,
        batch_first=True,
        norm_first=norm == "pre",
    ).eval()
    _copy_block_into_torch(params, layer, d_model)
    valid = np.array([[True] * 5, [True, True, True, False, False]])
    out = block.apply(params, x, padding_mask(jnp.asarray(valid)))
    with torch.no_grad():
        # the slow path is the reference (the fused fast path differs on padded rows)
        torch.backends.mha.set_fastpath_enabled(False)
        expected = layer(torch.tensor(np.asarray(x)), src_key_padding_mask=torch.tensor(~valid))
        torch.backends.mha.set_fastpath_enabled(True)
    np.testing.assert_allclose(out, expected.numpy(), rtol=1e-4, atol=1e-5)


def test_encoder_block_gradients_float64(key):
    block = EncoderBlock(num_heads=2, hidden_features=6, norm="post")
    x = jax.random.normal(key, (1, 3, 4))
    params = block.init(jax.random.fold_in(key, 1), x)["params"]
    mask = jnp.array([True, True, False])[None, None, None, :]

    def loss(params, x):
        return jnp.sum(jnp.tanh(block.apply({"params": params}, x, mask)))

    assert_grads_close(
        loss, params, x, mode="directions", num_samples=2, key=jax.random.fold_in(key, 2), rtol=1e-6
    )


def test_flop_counter_matches_the_matmul_parameters():
    # The projection + FFN FLOPs are 2 T (matrix parameters of the blocks), the
    # attention FLOPs 4 T^2 d per layer and the logits 2 T d V.
    model = tiny_gpt(num_layers=3, features=16, hidden_features=40)
    shapes = jax.eval_shape(
        lambda k: model.init(k, jnp.zeros((1, 8), jnp.int32)), jax.eval_shape(jax.random.key, 0)
    )["params"]["layers"]
    leaves = jax.tree_util.tree_leaves_with_path(shapes)
    matrices = sum(int(s.size) for path, s in leaves if "kernel" in jax.tree_util.keystr(path))
    flops = transformer_flops(3, 16, 8, hidden_features=40, vocab_size=64, batch_size=2)
    assert flops.projections + flops.feed_forward == 2 * 2 * 8 * matrices
    assert flops.attention == 2 * 3 * 4 * 8 * 8 * 16
    assert flops.logits == 2 * 2 * 8 * 16 * 64
    assert flops.training == 3 * flops.forward
    # the course's orders: attention grows as T^2, the FFN as d^2
    assert transformer_flops(1, 16, 64).attention == 4 * transformer_flops(1, 16, 32).attention
    assert transformer_flops(1, 32, 8).feed_forward == 4 * transformer_flops(1, 16, 8).feed_forward


def test_clear_errors(key):
    tokens = jnp.zeros((1, 4), jnp.int32)
    with pytest.raises(ValueError, match="d_model must be divisible by num_heads"):
        tiny_gpt(num_heads=3).init(key, tokens)
    with pytest.raises(ValueError, match="longer than the positional table .max_length=32."):
        tiny_gpt().init(key, jnp.zeros((1, 33), jnp.int32))
    with pytest.raises(ValueError, match=r"tokens must be token ids in \[0, 64\), got values in"):
        tiny_bert().init(key, tokens.at[0, 1].set(64))
    with pytest.raises(ValueError, match="source must be token ids"):
        tiny_transformer().init(key, tokens - 1, tokens)
    with pytest.raises(ValueError, match="norm must be one of"):
        EncoderBlock(num_heads=2, hidden_features=4, norm="sandwich").init(key, jnp.ones((1, 2, 4)))
