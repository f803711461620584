"""Chunked cross-entropy equals the full one; LM, MLM and seq2seq losses score the right tokens."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxdl.nn import tiny_bert, tiny_gpt, tiny_transformer
from jaxdl.pretraining.losses import (
    chunked_cross_entropy,
    make_causal_lm_loss,
    make_masked_lm_loss,
    make_seq2seq_loss,
)
from jaxdl.pretraining.objectives import mask_tokens
from jaxdl.testing import assert_grads_close


def test_chunked_cross_entropy_equals_full_values_and_gradients(key):
    k_h, k_e, k_y, k_w, k_check = jax.random.split(key, 5)
    h = jax.random.normal(k_h, (3, 7, 4))
    table = jax.random.normal(k_e, (11, 4))
    y = jax.random.randint(k_y, (3, 7), 0, 11)
    w = (jax.random.uniform(k_w, (3, 7)) < 0.7).astype(jnp.float32)

    def full(h, table):
        nll = optax.softmax_cross_entropy_with_integer_labels(h @ table.T, y)
        return jnp.sum(w * nll) / jnp.sum(w)

    def chunked(h, table):
        return chunked_cross_entropy(h, table, y, w, chunk_size=5)[0]  # 21 rows: padded

    value, grads = jax.jit(jax.value_and_grad(chunked, argnums=(0, 1)))(h, table)
    expected, expected_grads = jax.value_and_grad(full, argnums=(0, 1))(h, table)
    np.testing.assert_allclose(value, expected, rtol=1e-5)
    for a, b in zip(grads, expected_grads, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert_grads_close(
        lambda p: chunked_cross_entropy(p[0], p[1], y[:1], chunk_size=3)[0],
        (np.asarray(h[:1], np.float64), np.asarray(table, np.float64)),
        mode="directions",
        num_samples=3,
        key=k_check,
    )


def test_causal_lm_loss_chunked_equals_full_logits(key):
    model = tiny_gpt()
    k_t, k_p = jax.random.split(key)
    tokens = jax.random.randint(k_t, (2, 9), 0, 64)
    params = model.init(k_p, tokens[:, :-1])["params"]
    full = jax.jit(make_causal_lm_loss(model).evaluate)(params, {}, (tokens,))
    chunked = jax.jit(make_causal_lm_loss(model, chunk_size=5).evaluate)(params, {}, (tokens,))
    np.testing.assert_allclose(chunked["loss"], full["loss"], rtol=1e-5)
    np.testing.assert_allclose(full["perplexity"], np.exp(full["loss"]), rtol=1e-5)
    assert abs(float(full["loss"]) - np.log(64)) < 0.5  # near uniform at initialization


def test_masked_lm_loss_scores_selected_positions_only(key):
    model = tiny_bert(mlm_head=True)
    k_t, k_p, k_m = jax.random.split(key, 3)
    tokens = jax.random.randint(k_t, (2, 8), 2, 64)
    params = model.init(k_p, tokens)["params"]
    batch = mask_tokens(k_m, tokens, mask_id=1, vocab_size=64, rate=0.5)
    loss = make_masked_lm_loss(model, mask_id=1, vocab_size=64)
    evaluate = jax.jit(loss.evaluate)
    before = evaluate(params, {}, tuple(batch))
    changed = jnp.where(batch.selected, batch.targets, 0)  # unscored targets changed
    after = evaluate(params, {}, (batch.inputs, changed, batch.selected))
    np.testing.assert_allclose(after["loss"], before["loss"], rtol=1e-6)


def test_seq2seq_loss_teacher_forcing_and_exact_match(key):
    model = tiny_transformer(num_layers=1)
    k_s, k_p = jax.random.split(key)
    source = jax.random.randint(k_s, (3, 5), 2, 32)
    params = model.init(k_p, source, source)["params"]
    metrics = jax.jit(make_seq2seq_loss(model, bos_id=0, pad_id=1).evaluate)(
        params, {}, (source, source.at[:, 3:].set(1))
    )
    logits = jax.jit(model.apply)(
        {"params": params},
        source,
        jnp.concatenate(
            [jnp.zeros((3, 1), jnp.int32), source[:, :2], jnp.ones((3, 2), jnp.int32)], axis=1
        ),
    )
    nll = optax.softmax_cross_entropy_with_integer_labels(logits[:, :3], source[:, :3])
    np.testing.assert_allclose(metrics["loss"], nll.mean(), rtol=1e-5)
    right = np.all(np.asarray(jnp.argmax(logits[:, :3], -1) == source[:, :3]), axis=1)
    np.testing.assert_allclose(metrics["exact_match"], right.mean())
