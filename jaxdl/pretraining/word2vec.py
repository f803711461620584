"""word2vec: skip-gram and CBOW with negative sampling, subsampling, windows on device.

Skip-gram maximises, for each (centre ``c``, context ``o``) pair and ``K`` noise words
``w_k ~ P_n`` (unigram^0.75),

    log s(u_o . v_c) + sum_k log s(-u_{w_k} . v_c),

with ``v`` the input (centre) and ``u`` the output (context) embeddings. CBOW predicts the
centre from the mean of its context's input vectors. Frequent words are discarded with
probability ``1 - sqrt(t / f(w))``.
"""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_positive, check_positive_int, check_rank
from jaxdl.losses import Objective
from jaxdl.typing import Array, Key

KINDS = ("skipgram", "cbow")


class Vocabulary(NamedTuple):
    """Words kept by :func:`build_vocabulary`, most frequent first.

    Attributes:
        words: the words; id ``i`` is ``words[i]``.
        counts: ``(V,)`` corpus counts.
        index: word -> id.
    """

    words: tuple[str, ...]
    counts: np.ndarray
    index: dict[str, int]

    def encode(self, tokens: list[str]) -> np.ndarray:
        """The ids of the known words of ``tokens`` (unknown words are dropped)."""
        return np.asarray([self.index[w] for w in tokens if w in self.index], np.int32)


def build_vocabulary(tokens: list[str], min_count: int = 5) -> Vocabulary:
    """Words seen at least ``min_count`` times, most frequent first.

    Example:
        >>> build_vocabulary(["a", "b", "a"], min_count=2).words
        ('a',)
    """
    check_positive_int("min_count", min_count)
    counts = Counter(tokens)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return Vocabulary(
        tuple(kept),
        np.asarray([counts[w] for w in kept], np.int64),
        {w: i for i, w in enumerate(kept)},
    )


def keep_probabilities(counts: Array, threshold: float = 1e-4) -> Array:
    """Subsampling: keep word ``w`` with probability ``min(1, sqrt(t / f(w)))``.

    Example:
        >>> [round(float(p), 3) for p in keep_probabilities(jnp.array([900.0, 100.0]), 0.01)]
        [0.105, 0.316]

    Reference: Mikolov et al., "Distributed representations of words and phrases and
    their compositionality", NeurIPS 2013, eq. (5).
    """
    check_positive("threshold", threshold)
    counts = jnp.asarray(counts, jnp.float32)
    frequency = counts / jnp.sum(counts)
    return jnp.minimum(1.0, jnp.sqrt(threshold / frequency))


def noise_distribution(counts: Array, power: float = 0.75) -> Array:
    """Negative-sampling distribution ``P_n(w) ~ count(w)^0.75``.

    Example:
        >>> [round(float(p), 6) for p in noise_distribution(jnp.array([1.0, 16.0]), power=0.5)]
        [0.2, 0.8]
    """
    weights = jnp.asarray(counts, jnp.float32) ** power
    return weights / jnp.sum(weights)


class Windows(NamedTuple):
    """Context windows of every position of a stream (static shapes).

    Attributes:
        centers: ``(N,)`` the centre ids.
        contexts: ``(N, 2W)`` the ids at offsets ``-W .. -1, 1 .. W``.
        valid: ``(N, 2W)`` booleans: inside the stream, inside the sampled window, and
            both words kept by subsampling.
    """

    centers: Array
    contexts: Array
    valid: Array


def context_windows(
    key: Key, tokens: Array, window: int, keep_probability: Array | None = None
) -> Windows:
    """Build every (centre, context) window of a token stream on device.

    As in word2vec, each centre draws its window size uniformly from ``1 .. window``,
    and subsampled words (``keep_probability`` per id) are removed before windows are
    formed, approximated here by invalidating pairs that touch a discarded word.

    Args:
        key: PRNG key.
        tokens: ``(N,)`` ids.
        window: the largest window ``W``.
        keep_probability: ``(V,)`` per-word keep probabilities, or ``None``.

    Returns:
        :class:`Windows`.

    Example:
        >>> import jax
        >>> w = context_windows(jax.random.key(0), jnp.arange(5), 1)
        >>> w.contexts[2].tolist(), w.valid[0].tolist()
        ([1, 3], [False, True])
    """
    check_rank("tokens", tokens, 1)
    check_positive_int("window", window)
    k_size, k_keep = jax.random.split(key)
    n = tokens.shape[0]
    offsets = jnp.concatenate([jnp.arange(-window, 0), jnp.arange(1, window + 1)])
    positions = jnp.arange(n)[:, None] + offsets[None, :]
    inside = (positions >= 0) & (positions < n)
    contexts = tokens[jnp.clip(positions, 0, n - 1)]
    sizes = jax.random.randint(k_size, (n, 1), 1, window + 1)
    valid = inside & (jnp.abs(offsets)[None, :] <= sizes)
    if keep_probability is not None:
        kept = jax.random.uniform(k_keep, (n,)) < keep_probability[tokens]
        valid = valid & kept[:, None] & kept[jnp.clip(positions, 0, n - 1)]
    return Windows(tokens, contexts, valid)


def init_params(key: Key, vocab_size: int, features: int) -> dict[str, Array]:
    """Input embeddings ``v`` uniform in ``[-0.5/d, 0.5/d]`` and output ``u`` zero (word2vec).

    Example:
        >>> import jax
        >>> p = init_params(jax.random.key(0), 10, 4)
        >>> p["input"].shape, float(p["output"].sum())
        ((10, 4), 0.0)
    """
    check_positive_int("vocab_size", vocab_size)
    check_positive_int("features", features)
    bound = 0.5 / features
    return {
        "input": jax.random.uniform(key, (vocab_size, features), minval=-bound, maxval=bound),
        "output": jnp.zeros((vocab_size, features)),
    }


def make_word2vec_loss(
    noise: Array, *, kind: str = "skipgram", num_negatives: int = 5
) -> Objective:
    """Negative-sampling loss for batches ``(centers, contexts, valid)`` of :class:`Windows`.

    Skip-gram scores every valid (centre, context) pair with ``num_negatives`` noise
    words per pair; CBOW averages the valid contexts' input vectors and scores the
    centre against ``num_negatives`` noise words. Loss: the mean over scored
    examples of ``-log s(u_o . h) - sum_k log s(-u_k . h)``. Evaluation uses no noise
    words: it reports ``positive_loss`` ``-log s(u_o . h)``.

    Args:
        noise: ``(V,)`` noise distribution (:func:`noise_distribution`).
        kind: ``"skipgram"`` or ``"cbow"``.
        num_negatives: ``K``.

    Returns:
        An :class:`Objective` with metrics ``loss`` and ``positive_loss``.

    Example:
        >>> import jax
        >>> params = init_params(jax.random.key(0), 6, 3)
        >>> w = context_windows(jax.random.key(1), jnp.arange(6), 2)
        >>> loss_fn = make_word2vec_loss(noise_distribution(jnp.ones(6)))
        >>> loss, _ = loss_fn(params, {}, tuple(w), jax.random.key(2))
        >>> round(float(loss), 3)  # zero output vectors: (1 + K) log 2
        4.159

    Reference: Mikolov et al., "Distributed representations of words and phrases and
    their compositionality", NeurIPS 2013.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    check_positive_int("num_negatives", num_negatives)
    # inverse-CDF sampling: one uniform and a binary search per noise word, instead of the
    # V Gumbel draws per noise word of jax.random.categorical (slow for V in the thousands)
    noise_cdf = jnp.cumsum(jnp.asarray(noise, jnp.float32))

    def hidden_and_targets(params, batch):
        centers, contexts, valid = batch
        if kind == "skipgram":
            h = params["input"][centers][:, None, :]  # (B, 1, d) per pair
            return jnp.broadcast_to(h, contexts.shape + h.shape[-1:]), contexts, valid
        weights = valid.astype(params["input"].dtype)
        summed = jnp.einsum("bw,bwd->bd", weights, params["input"][contexts])
        h = summed / jnp.maximum(weights.sum(1, keepdims=True), 1.0)
        return h[:, None, :], centers[:, None], jnp.any(valid, axis=1, keepdims=True)

    def scores(params, batch, key):
        h, targets, mask = hidden_and_targets(params, batch)
        positive = -jax.nn.log_sigmoid(jnp.sum(h * params["output"][targets], -1))
        weights = mask.astype(h.dtype)
        count = jnp.maximum(weights.sum(), 1.0)
        positive_loss = jnp.sum(weights * positive) / count
        if key is None:
            return positive_loss, positive_loss
        u = jax.random.uniform(key, targets.shape + (num_negatives,)) * noise_cdf[-1]
        negatives = jnp.minimum(jnp.searchsorted(noise_cdf, u, side="right"), len(noise_cdf) - 1)
        negative_scores = jnp.einsum("bwd,bwkd->bwk", h, params["output"][negatives])
        negative = -jnp.sum(jax.nn.log_sigmoid(-negative_scores), -1)
        return jnp.sum(weights * (positive + negative)) / count, positive_loss

    def loss_fn(params, model_state, batch, key):
        loss, positive = scores(params, batch, key)
        return loss, (model_state, {"loss": loss, "positive_loss": positive})

    def evaluate(params, model_state, batch):
        loss, _ = scores(params, batch, None)
        return {"loss": loss, "positive_loss": loss}

    return Objective(loss_fn, evaluate)


def nearest_neighbours(embeddings: Array, query_ids: Array, k: int = 5) -> tuple[Array, Array]:
    """The ``k`` words of highest cosine similarity to each query word (itself excluded).

    Args:
        embeddings: ``(V, d)``.
        query_ids: ``(Q,)`` ids.
        k: neighbours per query.

    Returns:
        ``(ids, similarities)``, each ``(Q, k)``, most similar first.

    Example:
        >>> e = jnp.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
        >>> nearest_neighbours(e, jnp.array([0]), k=1)[0].tolist()
        [[1]]
    """
    check_rank("embeddings", embeddings, 2)
    check_positive_int("k", k)
    unit = embeddings / jnp.maximum(jnp.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    similarity = unit[query_ids] @ unit.T
    similarity = similarity.at[jnp.arange(len(query_ids)), query_ids].set(-jnp.inf)
    values, ids = jax.lax.top_k(similarity, k)
    return ids, values


def analogy(embeddings: Array, a: Array, b: Array, c: Array, k: int = 1) -> Array:
    """``a : b :: c : ?`` by the nearest word (cosine) to ``v_b - v_a + v_c``, not a, b or c.

    Example:
        >>> e = jnp.array([[1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [-1.0, 2.0], [0.2, -1.0]])
        >>> analogy(e, jnp.array([0]), jnp.array([1]), jnp.array([2]))[:, 0].tolist()
        [3]

    Reference: Mikolov, Yih & Zweig, "Linguistic regularities in continuous space word
    representations", NAACL 2013.
    """
    check_rank("embeddings", embeddings, 2)
    unit = embeddings / jnp.maximum(jnp.linalg.norm(embeddings, axis=1, keepdims=True), 1e-12)
    target = unit[b] - unit[a] + unit[c]
    similarity = target @ unit.T
    rows = jnp.arange(len(a))
    for excluded in (a, b, c):
        similarity = similarity.at[rows, excluded].set(-jnp.inf)
    return jax.lax.top_k(similarity, k)[1]


__all__ = [
    "KINDS",
    "Vocabulary",
    "Windows",
    "analogy",
    "build_vocabulary",
    "context_windows",
    "init_params",
    "keep_probabilities",
    "make_word2vec_loss",
    "nearest_neighbours",
    "noise_distribution",
]
