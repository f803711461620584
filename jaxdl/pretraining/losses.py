"""Pre-training losses for ``fit``: causal LM, masked LM, sequence-to-sequence, chunked CE.

Each ``make_*_loss`` returns a :class:`jaxdl.losses.Objective`:
``loss_fn(params, model_state, batch, key) -> (loss, (model_state, metrics))`` with an
``.evaluate(params, model_state, batch)`` that uses no randomness.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from jaxdl._checks import check_positive_int, check_rank
from jaxdl.losses import Objective
from jaxdl.pretraining.objectives import causal_lm_batch, mask_tokens
from jaxdl.typing import Array, Key


def chunked_cross_entropy(
    hidden: Array,
    embedding: Array,
    targets: Array,
    weights: Array | None = None,
    *,
    chunk_size: int = 1024,
) -> tuple[Array, Array]:
    """Mean cross-entropy of tied logits ``h E^T`` computed ``chunk_size`` rows at a time.

    ``-log softmax(h_n E^T)[y_n]`` for every row; only a ``(chunk_size, V)`` block of
    float32 logits exists at any time, in the forward and (rematerialized in the
    backward pass) in the gradient, instead of the whole ``(N, V)`` matrix. With
    ``V = 50,257`` and ``N = 16 x 1,024`` tokens the whole matrix would be 3.3 GB.

    Args:
        hidden: ``(..., d)`` final hidden states (any float dtype).
        embedding: ``(V, d)`` the output (tied) matrix ``E``.
        targets: ``(...)`` integer ids.
        weights: ``(...)`` per-token weights (e.g. a padding mask); default ones.
        chunk_size: rows per block.

    Returns:
        ``(loss, accuracy)``: the weighted mean cross-entropy (nats) and the weighted
        fraction of rows whose argmax is the target.

    Example:
        >>> h = jnp.ones((3, 5, 4)); table = jnp.eye(6, 4); y = jnp.zeros((3, 5), jnp.int32)
        >>> loss, _ = chunked_cross_entropy(h, table, y, chunk_size=4)
        >>> full = optax.softmax_cross_entropy_with_integer_labels(h @ table.T, y).mean()
        >>> bool(jnp.allclose(loss, full))
        True

    Reference: Wijmans et al., "Cut your losses in large-vocabulary language models",
    ICLR 2025 (the memory argument).
    """
    check_positive_int("chunk_size", chunk_size)
    check_rank("embedding", embedding, 2)
    d = hidden.shape[-1]
    h = hidden.reshape(-1, d)
    y = targets.reshape(-1)
    dtype = jnp.promote_types(hidden.dtype, jnp.float32)
    w = jnp.ones(y.shape, dtype) if weights is None else weights.reshape(-1).astype(dtype)
    n = h.shape[0]
    chunk = min(chunk_size, n)
    pad = (-n) % chunk
    if pad:
        h = jnp.concatenate([h, jnp.zeros((pad, d), h.dtype)])
        y = jnp.concatenate([y, jnp.zeros((pad,), y.dtype)])
        w = jnp.concatenate([w, jnp.zeros((pad,), w.dtype)])
    table = embedding.astype(h.dtype)

    @jax.checkpoint
    def block(carry, inputs):
        h_c, y_c, w_c = inputs
        logits = jnp.einsum("nd,vd->nv", h_c, table, preferred_element_type=dtype)
        nll = optax.softmax_cross_entropy_with_integer_labels(logits, y_c)
        hit = (jnp.argmax(logits, -1) == y_c).astype(dtype)
        return (carry[0] + jnp.sum(w_c * nll), carry[1] + jnp.sum(w_c * hit)), None

    split = lambda a: a.reshape((-1, chunk) + a.shape[1:])  # noqa: E731
    zero = jnp.zeros((), dtype)
    (total, hits), _ = jax.lax.scan(block, (zero, zero), (split(h), split(y), split(w)))
    count = jnp.maximum(jnp.sum(w), 1.0)
    return total / count, jax.lax.stop_gradient(hits / count)


def _apply(model: nn.Module, params, *args, key: Key | None, **kwargs):
    if key is None:
        return model.apply({"params": params}, *args, **kwargs)
    return model.apply({"params": params}, *args, train=True, rngs={"dropout": key}, **kwargs)


def _token_loss(logits: Array, targets: Array, weights: Array) -> tuple[Array, Array]:
    nll = optax.softmax_cross_entropy_with_integer_labels(logits.astype(jnp.float32), targets)
    weights = weights.astype(jnp.float32)
    count = jnp.maximum(jnp.sum(weights), 1.0)
    hits = (jnp.argmax(logits, -1) == targets).astype(jnp.float32)
    return jnp.sum(weights * nll) / count, jnp.sum(weights * hits) / count


def make_causal_lm_loss(model: nn.Module, *, chunk_size: int | None = None) -> Objective:
    """GPT's loss ``-mean_t log P(u_{t+1} | u_<=t)`` on ``(B, T + 1)`` token blocks.

    The batch is ``(tokens,)``; :func:`causal_lm_batch` shifts it. With ``chunk_size``
    the model returns hidden states and :func:`chunked_cross_entropy` scores them
    against the tied embedding (``params["token_embedding"]["embedding"]``).

    Args:
        model: a ``jaxdl.nn.GPT`` (anything with ``return_hidden`` and a
            ``token_embedding`` when chunked).
        chunk_size: rows per logits block; ``None`` builds all logits.

    Returns:
        An :class:`Objective` with metrics ``loss``, ``perplexity`` and ``accuracy``.

    Example:
        >>> import jax
        >>> from jaxdl.nn import tiny_gpt
        >>> model = tiny_gpt(); tokens = jnp.ones((2, 9), jnp.int32)
        >>> params = jax.jit(model.init)(jax.random.key(0), tokens[:, :-1])["params"]
        >>> loss_fn = make_causal_lm_loss(model, chunk_size=4)
        >>> sorted(jax.jit(loss_fn.evaluate)(params, {}, (tokens,)))
        ['accuracy', 'loss', 'perplexity']

    Reference: Radford et al., "Improving language understanding by generative
    pre-training", 2018.
    """

    def metrics(params, batch, key):
        inputs, targets = causal_lm_batch(batch[0])
        if chunk_size is None:
            logits = _apply(model, params, inputs, key=key)
            loss, accuracy = _token_loss(logits, targets, jnp.ones(targets.shape))
        else:
            hidden = _apply(model, params, inputs, key=key, return_hidden=True)
            table = params["token_embedding"]["embedding"]
            loss, accuracy = chunked_cross_entropy(hidden, table, targets, chunk_size=chunk_size)
        return loss, {"loss": loss, "perplexity": jnp.exp(loss), "accuracy": accuracy}

    def loss_fn(params, model_state, batch, key):
        loss, values = metrics(params, batch, key)
        return loss, (model_state, values)

    return Objective(loss_fn, lambda params, model_state, batch: metrics(params, batch, None)[1])


def make_masked_lm_loss(
    model: nn.Module, *, mask_id: int, vocab_size: int, rate: float = 0.15
) -> Objective:
    """BERT's masked-LM loss: cross-entropy on the selected positions only.

    Training batches are ``(tokens,)`` (corrupted here with the step's key by
    :func:`mask_tokens`) or ``(inputs, targets, selected)`` already corrupted; evaluation
    needs the latter (a fixed corruption, so that numbers are comparable).

    Args:
        model: a ``jaxdl.nn.BERT`` with ``mlm_head=True``.
        mask_id: the ``[MASK]`` id.
        vocab_size: range of random replacements.
        rate: selection probability.

    Returns:
        An :class:`Objective` with metrics ``loss`` and ``masked_accuracy``.

    Example:
        >>> import jax
        >>> from jaxdl.nn import tiny_bert
        >>> model = tiny_bert(mlm_head=True); tokens = jnp.ones((2, 8), jnp.int32)
        >>> params = jax.jit(model.init)(jax.random.key(0), tokens)["params"]
        >>> loss_fn = make_masked_lm_loss(model, mask_id=0, vocab_size=64)
        >>> loss, (_, m) = jax.jit(loss_fn)(params, {}, (tokens,), jax.random.key(1))
        >>> sorted(m)
        ['loss', 'masked_accuracy']

    Reference: Devlin et al., "BERT", NAACL 2019.
    """

    def metrics(params, batch, key):
        if len(batch) == 1:
            if key is None:
                raise ValueError("evaluation batches must be (inputs, targets, selected)")
            k_mask, key = jax.random.split(key)
            batch = mask_tokens(k_mask, batch[0], mask_id=mask_id, vocab_size=vocab_size, rate=rate)
        inputs, targets, selected = batch
        logits = _apply(model, params, inputs, key=key).logits
        loss, accuracy = _token_loss(logits, targets, selected)
        return loss, {"loss": loss, "masked_accuracy": accuracy}

    def loss_fn(params, model_state, batch, key):
        loss, values = metrics(params, batch, key)
        return loss, (model_state, values)

    return Objective(loss_fn, lambda params, model_state, batch: metrics(params, batch, None)[1])


def make_seq2seq_loss(model: nn.Module, *, bos_id: int, pad_id: int | None = None) -> Objective:
    """Teacher-forced cross-entropy of an encoder-decoder on ``(source, target)`` batches.

    The decoder reads ``[BOS, y_1 .. y_{T-1}]`` and predicts ``y_1 .. y_T``; positions
    whose target is ``pad_id`` are not scored. ``exact_match`` is the fraction of
    sequences whose every (non-pad) teacher-forced prediction is right.

    Args:
        model: a ``jaxdl.nn.Transformer``.
        bos_id: the begin-of-sequence id.
        pad_id: target padding id, or ``None``.

    Returns:
        An :class:`Objective` with metrics ``loss``, ``accuracy`` and ``exact_match``.

    Example:
        >>> import jax
        >>> from jaxdl.nn import tiny_transformer
        >>> model = tiny_transformer(); x = jnp.ones((2, 5), jnp.int32)
        >>> params = jax.jit(model.init)(jax.random.key(0), x, x)["params"]
        >>> sorted(jax.jit(make_seq2seq_loss(model, bos_id=0).evaluate)(params, {}, (x, x)))
        ['accuracy', 'exact_match', 'loss']

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017.
    """

    def metrics(params, batch, key):
        source, target = batch
        bos = jnp.full((target.shape[0], 1), bos_id, target.dtype)
        decoder_inputs = jnp.concatenate([bos, target[:, :-1]], axis=1)
        logits = _apply(model, params, source, decoder_inputs, key=key)
        valid = jnp.ones(target.shape, bool) if pad_id is None else target != pad_id
        loss, accuracy = _token_loss(logits, target, valid)
        right = (jnp.argmax(logits, -1) == target) | ~valid
        exact = jnp.mean(jnp.all(right, axis=1).astype(jnp.float32))
        return loss, {"loss": loss, "accuracy": accuracy, "exact_match": exact}

    def loss_fn(params, model_state, batch, key):
        loss, values = metrics(params, batch, key)
        return loss, (model_state, values)

    return Objective(loss_fn, lambda params, model_state, batch: metrics(params, batch, None)[1])


__all__ = [
    "chunked_cross_entropy",
    "make_causal_lm_loss",
    "make_masked_lm_loss",
    "make_seq2seq_loss",
]
