"""Properties of the course losses on random shapes and values (hypothesis).

Each is a mathematical identity or inequality of the loss, checked against a float64
NumPy computation where one exists: cross-entropy is ``-log p(label)``, MSE is a
symmetric discrepancy that vanishes only at equality, the Gaussian NLL is minimized at
the mean (and at the squared residual for the log variance), KL obeys Pinsker.

Each property evaluates the losses inside one ``jax.jit`` (one compilation per drawn
shape, instead of one per primitive and shape in eager mode), on small shapes.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from jaxdl import losses
from jaxdl.testing import strategies as jst

batch_shapes = jst.shapes(min_rank=1, max_rank=2, max_side=3)


@st.composite
def logits_and_labels(draw):
    batch = draw(batch_shapes)
    k = draw(st.sampled_from([2, 5]))
    logits = draw(jst.float_arrays(shape=(*batch, k), min_value=-20.0, max_value=20.0))
    labels = draw(jst.class_labels(k, shape=batch))
    return logits, labels


@st.composite
def prediction_pairs(draw):
    """Two arrays of one drawn shape, differing by at least 0.1 in every entry."""
    shape = draw(jst.shapes(min_rank=1, max_rank=2, max_side=3))
    a = draw(jst.float_arrays(shape=shape))
    gap = draw(jst.float_arrays(shape=shape, min_value=0.1, max_value=5.0))
    sign = draw(st.sampled_from([-1.0, 1.0]))
    return a, a + sign * gap


@jax.jit
def _cross_entropies(logits, labels, shift):
    one_hot = jax.nn.one_hot(labels, logits.shape[-1], dtype=logits.dtype)
    return (
        losses.softmax_cross_entropy(logits, labels),
        losses.softmax_cross_entropy(logits + shift, labels),
        losses.softmax_cross_entropy_with_probs(logits, one_hot),
    )


@given(logits_and_labels(), st.floats(-50.0, 50.0))
def test_softmax_cross_entropy_is_minus_log_probability_of_the_label(case, shift):
    """CE = -log softmax(z)_y >= 0; unchanged by a common shift; equal to one-hot CE."""
    logits, labels = case
    loss, shifted, with_probs = _cross_entropies(logits, labels, jnp.float32(shift))
    assert loss.shape == labels.shape
    z = np.asarray(logits, np.float64)
    top = z.max(-1, keepdims=True)
    log_p = z - top - np.log(np.sum(np.exp(z - top), -1, keepdims=True))
    expected = -np.take_along_axis(log_p, np.asarray(labels)[..., None], axis=-1)[..., 0]
    np.testing.assert_allclose(loss, expected, rtol=1e-5, atol=1e-5)
    assert np.all(np.asarray(loss) >= 0.0)
    np.testing.assert_allclose(shifted, loss, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(with_probs, loss, rtol=1e-5, atol=1e-5)


@jax.jit
def _sigmoid_vs_softmax(z):
    two = jnp.stack([jnp.zeros_like(z), z], axis=-1)
    return [
        (
            losses.sigmoid_binary_cross_entropy(z, jnp.full(z.shape, y, jnp.int32)),
            losses.softmax_cross_entropy(two, jnp.full(z.shape, y, jnp.int32)),
        )
        for y in (0, 1)
    ]


@given(jst.float_arrays(shape=batch_shapes, min_value=-30.0, max_value=30.0))
def test_sigmoid_cross_entropy_is_a_two_class_softmax(z):
    """A sigmoid unit is a softmax over the logits (0, z): the two NLLs agree for y in {0, 1}."""
    for sigmoid_loss, softmax_loss in _sigmoid_vs_softmax(z):
        np.testing.assert_allclose(sigmoid_loss, softmax_loss, rtol=1e-5, atol=1e-5)
        assert np.all(np.asarray(sigmoid_loss) >= 0.0)


@jax.jit
def _squared_errors(a, b):
    return (
        losses.mean_squared_error(a, b),
        losses.mean_squared_error(b, a),
        losses.mean_squared_error(a, a),
        losses.half_squared_error(a, b),
    )


@given(prediction_pairs())
def test_mean_squared_error_is_a_symmetric_discrepancy(pair):
    """MSE(a, b) = MSE(b, a) >= 0, zero iff a = b, and half the summed error times 2/D."""
    a, b = pair
    ab, ba, aa, half = _squared_errors(a, b)
    np.testing.assert_array_equal(ab, ba)
    np.testing.assert_array_equal(aa, np.zeros(a.shape[:-1]))
    assert np.all(np.asarray(ab) > 0.0)  # every row differs
    expected = np.mean((np.asarray(a, np.float64) - np.asarray(b, np.float64)) ** 2, axis=-1)
    np.testing.assert_allclose(ab, expected, rtol=1e-5)
    np.testing.assert_allclose(half, 0.5 * a.shape[-1] * np.asarray(ab), rtol=1e-5)


@jax.jit
def _gaussian_nlls(targets, other, log_variance):
    v = jnp.full(targets.shape, log_variance)
    at_mean = losses.gaussian_nll(targets, v, targets)
    elsewhere = losses.gaussian_nll(other, v, targets)
    grad = jax.grad(lambda m: jnp.sum(losses.gaussian_nll(m, v, targets)))(targets)
    best_v = jnp.log((targets - other) ** 2)
    best, worse_low, worse_high = (
        losses.gaussian_nll(other, best_v + step, targets, include_constant=False)
        for step in (0.0, -0.5, 0.5)
    )
    return at_mean, elsewhere, grad, best_v, best, worse_low, worse_high


@given(prediction_pairs(), st.floats(-2.0, 2.0))
def test_gaussian_nll_is_minimized_at_the_mean_and_the_squared_residual(pair, log_variance):
    """For a fixed variance the NLL is least (zero gradient) at mean = target; for a fixed
    mean it is least at log variance = log residual^2, where it is 1/2 (1 + log r^2)."""
    targets, other = pair
    at_mean, elsewhere, grad, best_v, best, worse_low, worse_high = _gaussian_nlls(
        targets, other, jnp.float32(log_variance)
    )
    assert np.all(np.asarray(at_mean) < np.asarray(elsewhere))
    np.testing.assert_array_equal(grad, np.zeros(targets.shape))
    np.testing.assert_allclose(
        best, np.sum(0.5 * (1.0 + np.asarray(best_v)), -1), rtol=1e-4, atol=1e-4
    )
    assert np.all(np.asarray(best) < np.asarray(worse_low))
    assert np.all(np.asarray(best) < np.asarray(worse_high))


@jax.jit
def _kl(p, q):
    return losses.kl_divergence(p, q), losses.kl_divergence(p, p)


@given(st.data())
def test_kl_divergence_is_non_negative_zero_iff_equal_and_obeys_pinsker(data):
    k = data.draw(st.sampled_from([2, 5]))
    p = data.draw(jst.probability_vectors(k, min_probability=1e-2))
    q = data.draw(jst.probability_vectors(k, min_probability=1e-2))
    kl, kl_pp = (float(x) for x in _kl(p, q))
    assert kl_pp == 0.0
    p64, q64 = np.asarray(p, np.float64), np.asarray(q, np.float64)
    total_variation = 0.5 * np.sum(np.abs(p64 - q64))
    assert kl >= 2.0 * total_variation**2 - 1e-5  # Pinsker: KL >= 2 TV^2, > 0 when p != q
    np.testing.assert_allclose(kl, np.sum(p64 * np.log(p64 / q64)), rtol=1e-4, atol=1e-5)
