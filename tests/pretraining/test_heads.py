"""Sequence classification on a pre-trained GPT / BERT backbone."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn import tiny_bert, tiny_gpt
from jaxdl.pretraining.heads import FineTuningClassifier


def test_gpt_last_token_head_uses_pretrained_weights_and_padding(key):
    k_b, k_h, k_t = jax.random.split(key, 3)
    tokens = jax.random.randint(k_t, (2, 6), 0, 64)
    valid = jnp.array([[True] * 6, [True] * 3 + [False] * 3])
    backbone = tiny_gpt()
    pretrained = backbone.init(k_b, tokens)["params"]
    model = FineTuningClassifier(backbone, num_classes=3, pooling="last")
    params = model.init(k_h, tokens, valid)["params"]
    params = {**params, "backbone": pretrained}
    logits = model.apply({"params": params}, tokens, valid)
    hidden = backbone.apply({"params": pretrained}, tokens, return_hidden=True)
    last = jnp.stack([hidden[0, 5], hidden[1, 2]])
    head = params["head"]
    np.testing.assert_allclose(
        logits, last @ head["kernel"] + head["bias"][None], rtol=1e-5, atol=1e-6
    )


def test_bert_head_uses_the_pooler_and_errors(key):
    tokens = jnp.ones((2, 5), jnp.int32)
    model = FineTuningClassifier(tiny_bert(num_layers=1), num_classes=2)
    params = model.init(key, tokens)
    assert model.apply(params, tokens).shape == (2, 2)
    assert "pooler" in params["params"]["backbone"]
    with pytest.raises(ValueError, match="pooling must be one of"):
        FineTuningClassifier(tiny_gpt(), 2, pooling="max").init(key, tokens)
