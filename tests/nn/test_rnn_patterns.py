"""The RNN design patterns (forcing, masks, encoder-decoder) and the sequence losses."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.nn.rnn_patterns import (
    EncoderDecoder,
    OutputRecurrentRNN,
    SequenceClassifier,
    ShallowRNN,
    VectorToSequence,
    make_sequence_classification_loss,
    make_transduction_loss,
)

B, T, D = 2, 5, 3


def test_padding_masks_match_the_unpadded_sequences(key):
    x = jax.random.normal(key, (2, 6, 3))
    mask = jnp.array([[1] * 6, [1] * 4 + [0] * 2], bool)
    model = SequenceClassifier(num_hidden=4, num_outputs=3, cell="lstm")
    params = model.init(jax.random.key(3), x)
    padded = model.apply(params, x, mask=mask)
    short = model.apply(params, x[1:, :4])
    np.testing.assert_allclose(padded[1], short[0], atol=1e-6)
    with pytest.raises(ValueError, match=r"mask must have shape \(batch, time\) = \(2, 6\)"):
        model.apply(params, x, mask=mask[:, :5])


def test_teacher_forcing_equals_free_running_fed_its_own_outputs(key):
    k_x, k_p = jax.random.split(key)
    x = jax.random.normal(k_x, (B, T, D))
    model = OutputRecurrentRNN(num_hidden=6, num_outputs=3)
    params = model.init(k_p, x)
    free = model.apply(params, x)
    own = jnp.argmax(free, -1)
    forced = model.apply(params, x, own, teacher_forcing=True)
    np.testing.assert_allclose(forced, free, atol=1e-5)
    other = (own + 1) % 3
    assert float(jnp.max(jnp.abs(model.apply(params, x, other, teacher_forcing=True) - free))) > 0
    with pytest.raises(ValueError, match="teacher_forcing=True needs targets"):
        model.apply(params, x, teacher_forcing=True)


def test_encoder_decoder_and_vector_to_sequence_forcing_is_consistent(key):
    k_x, k_p, k_v = jax.random.split(key, 3)
    x = jax.random.normal(k_x, (B, T, D))
    model = EncoderDecoder(num_hidden=6, num_classes=4, output_length=3, cell="simple")
    params = model.init(k_p, x)
    free = model.apply(params, x)
    forced = model.apply(params, x, jnp.argmax(free, -1), teacher_forcing=True)
    np.testing.assert_allclose(forced, free, atol=1e-5)
    with pytest.raises(ValueError, match="teacher_forcing=True needs targets"):
        model.apply(params, x, teacher_forcing=True)
    v2s = VectorToSequence(num_hidden=5, num_outputs=2, length=4)
    vp = v2s.init(k_v, x[:, 0])
    free = v2s.apply(vp, x[:, 0])
    np.testing.assert_allclose(v2s.apply(vp, x[:, 0], free, teacher_forcing=True), free, atol=1e-5)


def test_transduction_loss_is_the_nll_summed_over_valid_steps(key):
    k_x, k_p = jax.random.split(key)
    x = jax.random.normal(k_x, (B, T, D))
    y = jnp.array([[0, 1, 2, 0, 1], [2, 2, 1, 0, 0]])
    mask = jnp.array([[1] * 5, [1] * 3 + [0] * 2], bool)
    model = ShallowRNN(num_hidden=4, num_outputs=3)
    params = model.init(k_p, x)["params"]
    loss_fn = make_transduction_loss(model)
    metrics = loss_fn.evaluate(params, {}, (x, y, mask))
    log_p = np.asarray(jax.nn.log_softmax(model.apply({"params": params}, x, mask=mask)))
    nll = [-sum(log_p[b, t, y[b, t]] for t in range(T) if mask[b, t]) for b in range(B)]
    np.testing.assert_allclose(metrics["loss"], np.mean(nll), rtol=1e-5)
    changed = y.at[1, 4].set(1)  # a padded target does not count
    np.testing.assert_allclose(
        loss_fn.evaluate(params, {}, (x, changed, mask))["loss"], metrics["loss"]
    )
    classify = make_sequence_classification_loss(SequenceClassifier(num_hidden=4, num_outputs=3))
    with pytest.raises(ValueError, match="labels must have shape"):
        classify.evaluate(
            SequenceClassifier(4, 3).init(k_p, x)["params"], {}, (x, jnp.zeros((3,), jnp.int32))
        )
    with pytest.raises(ValueError, match="teacher_forcing=True needs a model"):
        make_transduction_loss(model, teacher_forcing=True)
