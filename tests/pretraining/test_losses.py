"""Chunked cross-entropy equals the full one; LM, MLM and seq2seq losses score the right tokens."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxdl.nn import tiny_bert, tiny_gpt, tiny_transformer
from jaxdl.pretraining.losses import (
    chunked_cross_entropy,
    make_causal_lm_loss,
    make_masked_lm_loss,
    make_seq2seq_loss,
)
from jaxdl.pretraining.objectives import mask_tokens
from jaxdl.testing import assert_grads_close, assert_pytrees_allclose, count_compilations
from jaxdl.training import create_train_state, fit, fit_many, set_hyperparams


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


def _tiny_lm(key):
    """A one-layer GPT over 16 tokens and 16 random 8-token sequences."""
    model = tiny_gpt(vocab_size=16, max_length=8, num_layers=1, features=8, hidden_features=16)
    tokens = jax.random.randint(key, (16, 8), 0, 16)
    return model, tokens


@pytest.mark.standard_dtype_promotion  # optax's adam mixes Python floats and int32 counts
def test_causal_lm_population_under_fit_many_equals_separate_fits(key):
    # three tiny GPTs (own seeds and learning rates) in one compiled program
    k_data, k_init, k_run = jax.random.split(key, 3)
    model, tokens = _tiny_lm(k_data)
    loss_fn = make_causal_lm_loss(model)
    # plain SGD: Adam would blow the float32 noise in the key bias's zero gradient (softmax
    # is shift invariant) up to learning-rate-sized steps that differ between programs
    tx = optax.inject_hyperparams(optax.sgd)(learning_rate=0.1)
    states = jax.vmap(lambda k: create_train_state(k, model, tokens[:1], tx))(
        jax.random.split(k_init, 3)
    )
    rates = jnp.array([0.1, 0.3, 1.0])
    states = states.replace(opt_state=set_hyperparams(states.opt_state, learning_rate=rates))
    run_keys = jax.random.split(k_run, 3)
    many = fit_many(
        jax.random.clone(run_keys), states, loss_fn, (tokens,), num_epochs=2, batch_size=8
    )
    assert many.history["train_loss"].shape == (3, 2)
    for i in range(3):
        member = jax.tree.map(lambda a, i=i: a[i], states)
        single = fit(
            run_keys[i], member, loss_fn, (tokens,), num_epochs=2, batch_size=8, progress=False
        )
        member_params = jax.tree.map(lambda a, i=i: a[i], many.state.params)
        assert_pytrees_allclose(member_params, single.state.params, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(
            many.history["train_loss"][i], [r["train_loss"] for r in single.history], rtol=1e-4
        )


@pytest.mark.standard_dtype_promotion  # optax's adam mixes Python floats and int32 counts
def test_tiny_gpt_trains_through_fit_without_recompiling_or_donating_the_input_state(key):
    k_data, k_init, k_fit = jax.random.split(key, 3)
    model, tokens = _tiny_lm(k_data)
    state = create_train_state(k_init, model, tokens[:1], optax.adam(1e-2))
    counted = count_compilations(make_causal_lm_loss(model))
    after_chunk = []
    result = fit(
        k_fit,
        state,
        counted,
        (tokens,),
        num_epochs=4,
        batch_size=8,
        epochs_per_chunk=1,
        progress=False,
        callback=lambda record: after_chunk.append(counted.count),
    )
    # one trace for the first chunk, none for the three chunks after it
    assert after_chunk == [1, 1, 1, 1]
    assert int(result.state.step) == 8
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    # fit does not donate the caller's state: it is the snapshot a failing chunk reruns
    # from, so its buffers stay alive and unchanged
    leaves = jax.tree_util.tree_leaves(state.params)
    assert not any(leaf.is_deleted() for leaf in leaves)
    assert int(state.step) == 0
