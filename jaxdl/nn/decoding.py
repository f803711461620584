"""Autoregressive decoding with the KV cache: GPT continuation and encoder-decoder translation.

Each step feeds one token and reuses the cached keys and values of the earlier positions
(``O(T d)`` per step instead of recomputing the prefix), all in one ``lax.scan``; the next
token is ``argmax`` (greedy) or drawn from ``softmax(logits / temperature)``.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.nn.embeddings import check_token_ids
from jaxdl.nn.language_models import GPT
from jaxdl.nn.transformer import Transformer
from jaxdl.typing import Array, Key, PyTree


def _empty_cache(apply_fn, *args) -> PyTree:
    """The zero ``"cache"`` collection of a decode call, built from shapes alone."""
    shapes = jax.eval_shape(lambda *a: apply_fn(*a)[1]["cache"], *args)
    return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)


def _next_token(key, logits, temperature: float | None):
    if temperature is None:
        return jnp.argmax(logits, axis=-1).astype(jnp.int32)
    return jax.random.categorical(key, logits / temperature, axis=-1).astype(jnp.int32)


def _scan_decode(key, step_fn, cache, first, forced, num_steps, temperature):
    """Feed one token per step through ``step_fn``; force ``forced`` where it is >= 0."""
    keys = jax.random.split(key, num_steps)

    def body(carry, inputs):
        cache, token = carry
        step_key, force = inputs
        logits, variables = step_fn(cache, token[:, None])
        cache = variables["cache"]
        new = _next_token(step_key, logits[:, -1], temperature)
        new = jnp.where(force >= 0, force, new)
        return (cache, new), (new, logits[:, -1])

    _, (tokens, logits) = jax.lax.scan(body, (cache, first), (keys, forced.T))
    return tokens.T, logits.transpose(1, 0, 2)


def generate(
    key: Key,
    model: GPT,
    params: PyTree,
    prompt: Array,
    num_new_tokens: int,
    *,
    temperature: float | None = 1.0,
) -> Array:
    """Autoregressive continuation of ``prompt`` with the KV cache, in one ``lax.scan``.

    Each step feeds one token, reuses the cached keys and values of the earlier
    positions (``O(T d)`` per step instead of recomputing the whole prefix) and draws
    ``u_{t+1} ~ softmax(logits / temperature)``; ``temperature=None`` is greedy
    (``argmax``).

    Args:
        key: PRNG key for sampling (unused when greedy).
        model: a :class:`GPT`.
        params: its ``"params"``.
        prompt: ``(B, P)`` ids, ``P >= 1``.
        num_new_tokens: tokens to add; ``P + num_new_tokens <= model.max_length``.
        temperature: softmax temperature, or ``None`` for greedy decoding.

    Returns:
        ``(B, P + num_new_tokens)`` ids: the prompt then the continuation.

    Example:
        >>> import jax
        >>> from jaxdl.nn.language_models import tiny_gpt
        >>> model = tiny_gpt()
        >>> params = jax.jit(model.init)(jax.random.key(0), jnp.zeros((1, 4), jnp.int32))["params"]
        >>> generate(jax.random.key(1), model, params, jnp.array([[1, 2]]), 3).shape
        (1, 5)

    Reference: Radford et al., "Language models are unsupervised multitask learners", 2019.
    """
    check_positive_int("num_new_tokens", num_new_tokens)
    check_token_ids("prompt", prompt, model.vocab_size)
    batch, length = prompt.shape
    total = length + num_new_tokens
    if total > model.max_length:
        raise ValueError(
            f"prompt length + num_new_tokens must be <= max_length={model.max_length}, got {total}"
        )

    return _generate(key, model, params, prompt, num_new_tokens, temperature)


@partial(jax.jit, static_argnums=(1, 4, 5))
def _generate(key, model, params, prompt, num_new_tokens, temperature):
    batch, length = prompt.shape
    total = length + num_new_tokens

    def apply(params, cache, tokens):
        variables = {"params": params} if cache is None else {"params": params, "cache": cache}
        return model.apply(variables, tokens, decode=True, mutable=["cache"])

    cache = _empty_cache(lambda t: apply(params, None, t), jnp.zeros((batch, total), jnp.int32))
    forced = jnp.full((batch, total - 1), -1, jnp.int32).at[:, : length - 1].set(prompt[:, 1:])
    tokens, _ = _scan_decode(
        key,
        lambda cache, token: apply(params, cache, token),
        cache,
        prompt[:, 0].astype(jnp.int32),
        forced,
        total - 1,
        temperature,
    )
    return jnp.concatenate([prompt[:, :1].astype(jnp.int32), tokens], axis=1)


def translate(
    key: Key,
    model: Transformer,
    params: PyTree,
    source: Array,
    max_length: int,
    *,
    bos_id: int,
    temperature: float | None = None,
    source_valid: Array | None = None,
) -> tuple[Array, Array]:
    """Decode a target for ``source`` with the encoder-decoder (KV-cached, one scan).

    The encoder runs once; the decoder then feeds BOS and each produced token, caching
    its self-attention keys and values. Greedy when ``temperature`` is ``None``.

    Args:
        key: PRNG key for sampling (unused when greedy).
        model: a :class:`Transformer`.
        params: its ``"params"``.
        source: ``(B, S)`` source ids.
        max_length: target tokens to produce (after BOS).
        bos_id: the begin-of-sequence id fed first.
        temperature: sampling temperature, or ``None`` for greedy decoding.
        source_valid: ``(B, S)`` booleans, ``False`` on source padding.

    Returns:
        ``(tokens, logits)``: ``(B, max_length)`` produced ids (BOS excluded) and the
        ``(B, max_length, V)`` logits of each step.

    Example:
        >>> import jax
        >>> from jaxdl.nn.transformer import tiny_transformer
        >>> model = tiny_transformer()
        >>> src = jnp.ones((2, 5), jnp.int32)
        >>> params = jax.jit(model.init)(jax.random.key(0), src, src)["params"]
        >>> translate(jax.random.key(1), model, params, src, 4, bos_id=0)[0].shape
        (2, 4)

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017.
    """
    check_positive_int("max_length", max_length)
    if max_length > model.max_length:
        raise ValueError(
            f"max_length must be <= model.max_length={model.max_length}, got {max_length}"
        )
    return _translate(key, model, params, source, max_length, bos_id, temperature, source_valid)


@partial(jax.jit, static_argnums=(1, 4, 5, 6))
def _translate(key, model, params, source, max_length, bos_id, temperature, source_valid):
    memory = model.apply({"params": params}, source, source_valid=source_valid)
    batch = source.shape[0]

    def apply(params, cache, tokens):
        variables = {"params": params} if cache is None else {"params": params, "cache": cache}
        return model.apply(
            variables,
            source,
            tokens,
            memory=memory,
            source_valid=source_valid,
            decode=True,
            mutable=["cache"],
        )

    cache = _empty_cache(
        lambda t: apply(params, None, t), jnp.zeros((batch, max_length), jnp.int32)
    )
    first = jnp.full((batch,), bos_id, jnp.int32)
    forced = jnp.full((batch, max_length), -1, jnp.int32)
    return _scan_decode(
        key,
        lambda cache, token: apply(params, cache, token),
        cache,
        first,
        forced,
        max_length,
        temperature,
    )


__all__ = [
    "generate",
    "translate",
]
