"""KV-cached decoding equals recomputing the whole prefix (GPT and encoder-decoder)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl.nn.decoding import generate, translate
from jaxdl.nn.language_models import tiny_gpt
from jaxdl.nn.transformer import tiny_transformer


def test_kv_cache_decoding_equals_full_recomputation(key):
    model = tiny_gpt()
    k_init, k_prompt, k_greedy, k_sample, k_source, k_init2, k_translate = jax.random.split(key, 7)
    prompt = jax.random.randint(k_prompt, (2, 3), 0, 64)
    params = model.init(k_init, prompt)["params"]
    greedy = generate(k_greedy, model, params, prompt, 5, temperature=None)
    np.testing.assert_array_equal(greedy[:, :3], prompt)
    full = jax.jit(model.apply)({"params": params}, greedy[:, :-1])
    np.testing.assert_array_equal(greedy[:, 3:], jnp.argmax(full, axis=-1)[:, 2:])
    sampled = generate(k_sample, model, params, prompt, 5, temperature=1.0)
    assert sampled.shape == (2, 8) and int(sampled.min()) >= 0 and int(sampled.max()) < 64

    seq2seq = tiny_transformer(num_layers=1)
    source = jax.random.randint(k_source, (2, 6), 1, 32)
    seq_params = seq2seq.init(k_init2, source, source)["params"]
    valid = jnp.array([[True] * 6, [True] * 4 + [False] * 2])
    tokens, logits = translate(
        k_translate, seq2seq, seq_params, source, 4, bos_id=0, source_valid=valid
    )
    teacher = jnp.concatenate([jnp.zeros((2, 1), jnp.int32), tokens[:, :-1]], axis=1)
    recomputed = jax.jit(lambda p, s, t, v: seq2seq.apply({"params": p}, s, t, source_valid=v))(
        seq_params, source, teacher, valid
    )
    np.testing.assert_allclose(logits, recomputed, rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(tokens, jnp.argmax(recomputed, -1))
