"""Pre-training objectives: causal shift, BERT's 15 % / 80-10-10 statistics, span corruption."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.pretraining.objectives import (
    causal_lm_batch,
    mask_tokens,
    span_corruption,
    span_corruption_sizes,
)


def test_causal_lm_shift():
    tokens = jnp.arange(10, dtype=jnp.int32).reshape(2, 5)
    inputs, targets = causal_lm_batch(tokens)
    np.testing.assert_array_equal(inputs, tokens[:, :4])
    np.testing.assert_array_equal(targets, tokens[:, 1:])
    with pytest.raises(ValueError, match="tokens must have at least 2 positions"):
        causal_lm_batch(tokens[:, :1])


def test_masked_lm_proportions_are_bert_s(key):
    # 8,192 positions: every proportion within 4.5 standard errors of BERT's.
    tokens = jnp.full((64, 128), 7, jnp.int32)
    maskable = jnp.ones(tokens.shape, bool).at[:, 0].set(False)  # e.g. [CLS]
    out = jax.jit(lambda k, t, m: mask_tokens(k, t, mask_id=1, vocab_size=1000, maskable=m))(
        key, tokens, maskable
    )
    selected = np.asarray(out.selected)
    inputs = np.asarray(out.inputs)
    assert not selected[:, 0].any()
    n = selected[:, 1:].size
    rate = selected[:, 1:].mean()
    assert abs(rate - 0.15) < 4.5 * np.sqrt(0.15 * 0.85 / n)
    np.testing.assert_array_equal(inputs[~selected], 7)  # unselected positions untouched
    np.testing.assert_array_equal(np.asarray(out.targets), 7)
    chosen = inputs[selected]
    m = len(chosen)
    masked, kept = np.mean(chosen == 1), np.mean(chosen == 7)
    random = 1.0 - masked - kept  # a random token equals 7 or 1 with probability 2/1000
    for observed, expected in ((masked, 0.8), (kept, 0.1 + 0.1 / 1000), (random, 0.1)):
        assert abs(observed - expected) < 4.5 * np.sqrt(expected * (1 - expected) / m) + 2e-3


def _uncorrupt(inputs, targets, first_sentinel):
    """Rebuild the original row from a span-corrupted pair."""
    spans, current = {}, None
    for t in targets.tolist():
        if t >= first_sentinel:
            current = t
            spans[current] = []
        else:
            spans[current].append(t)
    out = []
    for t in inputs.tolist():
        out.extend(spans[t] if t >= first_sentinel else [t])
    return out


def test_span_corruption_hides_spans_behind_sentinels(key):
    tokens = jax.random.randint(key, (6, 40), 1, 50)
    corrupt = jax.jit(lambda k, t: span_corruption(k, t, first_sentinel=100, noise_density=0.25))
    inputs, targets = (np.asarray(a) for a in corrupt(jax.random.fold_in(key, 1), tokens))
    tokens = np.asarray(tokens)
    sizes = span_corruption_sizes(40, 0.25)
    assert sizes.num_noise == 10 and sizes.num_spans == 3
    assert inputs.shape == (6, sizes.input_length) and targets.shape == (6, sizes.target_length)
    for row in range(6):
        assert _uncorrupt(inputs[row], targets[row], 100) == (tokens[row].tolist())
        sentinels = targets[row][targets[row] >= 100]
        np.testing.assert_array_equal(sentinels, [100, 101, 102])
    # the spans differ between rows (a key per row)
    assert len({tuple(t.tolist()) for t in (targets >= 100)}) > 1
