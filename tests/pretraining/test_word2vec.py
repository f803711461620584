"""word2vec: windows on device against a loop, the negative-sampling loss, neighbours, analogies."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxdl.pretraining.word2vec import (
    analogy,
    build_vocabulary,
    context_windows,
    init_params,
    keep_probabilities,
    make_word2vec_loss,
    nearest_neighbours,
    noise_distribution,
)
from jaxdl.testing import assert_grads_close


def test_windows_against_a_python_loop(key):
    tokens = jnp.arange(10, 20)
    w = context_windows(key, tokens, 3)
    contexts, valid = np.asarray(w.contexts), np.asarray(w.valid)
    for i in range(10):
        size = int(np.abs(np.array([-3, -2, -1, 1, 2, 3]))[valid[i]].max(initial=0))
        expected = [10 + i + o for o in (-3, -2, -1, 1, 2, 3) if 0 <= i + o < 10 and abs(o) <= size]
        assert contexts[i][valid[i]].tolist() == expected
    # a word kept with probability 0 never appears in a valid pair
    keep = jnp.ones(20).at[15].set(0.0)
    w = context_windows(jax.random.fold_in(key, 1), tokens, 3, keep)
    assert not np.any(np.asarray(w.contexts)[np.asarray(w.valid)] == 15)
    assert not np.any(np.asarray(w.valid)[5])


def test_vocabulary_subsampling_and_noise():
    vocab = build_vocabulary("a b a c a b d".split(), min_count=2)
    assert vocab.words == ("a", "b") and vocab.counts.tolist() == [3, 2]
    np.testing.assert_array_equal(vocab.encode(["b", "z", "a"]), [1, 0])
    keep = keep_probabilities(jnp.array([1000.0, 10.0]), threshold=1e-3)
    np.testing.assert_allclose(keep, np.sqrt(1e-3 * 1010 / np.array([1000, 10])), rtol=1e-5)
    assert float(keep_probabilities(jnp.array([1.0, 1.0]), threshold=0.9)[0]) == 1.0
    np.testing.assert_allclose(noise_distribution(jnp.array([1.0, 3.0])).sum(), 1.0, rtol=1e-6)


@pytest.mark.parametrize("kind", ["skipgram", "cbow"])
def test_negative_sampling_loss_gradients_and_a_step_lowers_it(key, kind):
    k_p, k_w, k_n, k_o = jax.random.split(key, 4)
    params = init_params(k_p, 8, 3)
    params["output"] = 0.3 * jax.random.normal(k_o, (8, 3))
    batch = tuple(context_windows(k_w, jnp.array([0, 1, 2, 3, 0, 1, 2, 3, 4, 5]), 2))
    loss_fn = make_word2vec_loss(noise_distribution(jnp.ones(8)), kind=kind, num_negatives=3)

    def loss(params, batch, key):
        return loss_fn(params, {}, batch, key)[0]

    if kind == "skipgram":  # one float64 check (the CBOW mean reuses the same pieces)
        assert_grads_close(
            loss,
            jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), params),
            batch,
            jax.random.clone(k_n),
            mode="directions",
            num_samples=3,
            key=jax.random.fold_in(key, 9),
        )
    value, grads = jax.value_and_grad(loss)(params, batch, jax.random.clone(k_n))
    stepped = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)
    assert float(loss(stepped, batch, jax.random.clone(k_n))) < float(value)


def test_neighbours_and_analogies_on_planted_vectors():
    # man, woman, king, queen, apple: queen - woman = king - man
    e = jnp.array(
        [[1.0, 0.0, 0.1], [1.0, 1.0, 0.1], [3.0, 0.0, 1.0], [3.0, 1.0, 1.0], [-1.0, 0.2, -2.0]]
    )
    ids, sims = nearest_neighbours(e, jnp.array([2]), k=2)
    unit = np.asarray(e) / np.linalg.norm(np.asarray(e), axis=1, keepdims=True)
    cosine = unit @ unit[2]
    assert ids.tolist() == [list(np.argsort(-cosine)[1:3])]  # itself excluded
    np.testing.assert_allclose(sims[0], np.sort(cosine)[::-1][1:3], rtol=1e-6)
    assert analogy(e, jnp.array([0]), jnp.array([1]), jnp.array([2]))[:, 0].tolist() == [3]
    with pytest.raises(ValueError, match="kind must be one of"):
        make_word2vec_loss(jnp.ones(3) / 3, kind="glove")


def test_noise_words_follow_the_noise_distribution(key):
    # every centre has input vector 1 and context word 1 (u_1 = 0); noise word w scores
    # softplus(u_w): 5 for word 0, log 2 for words 1, 2 and 1e4 for word 3, which has
    # probability zero. The loss is log 2 + K E[softplus(u_w)] up to sampling noise.
    noise = jnp.array([0.7, 0.2, 0.1, 0.0])
    params = {"input": jnp.ones((4, 1)), "output": jnp.array([[5.0], [0.0], [0.0], [1e4]])}
    n, k = 2000, 5
    batch = (jnp.zeros(n, jnp.int32), jnp.ones((n, 1), jnp.int32), jnp.ones((n, 1), bool))
    loss, _ = make_word2vec_loss(noise, num_negatives=k)(params, {}, batch, key)
    softplus = np.log1p(np.exp(np.array([5.0, 0.0])))
    expected = np.log(2) + k * (0.7 * softplus[0] + 0.3 * softplus[1])
    # standard error of the mean: sqrt(K * 0.21) * (softplus(5) - log 2) / sqrt(n) ~ 0.1
    assert abs(float(loss) - expected) < 0.4
