"""Attention: the slides' attention over a set, scaled dot-product attention, multi-head.

Shapes follow :func:`jax.nn.dot_product_attention`: queries ``(B, T, H, d_k)``, keys
``(B, S, H, d_k)``, values ``(B, S, H, d_v)`` (batch, query length, heads, size per
head; ``S`` the key length). Masks are boolean, ``True`` where a query may look, and
broadcast to ``(B, H, T, S)``.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.dtypes import promote_dtype

from jaxdl._checks import check_in_range, check_positive_int, check_rank
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

IMPLEMENTATIONS = ("auto", "jax", "cudnn", "reference", "blocked")


def set_attention(query: Array, keys: Array, values: Array) -> tuple[Array, Array]:
    """Attention of one query over a set, as in the slides: unscaled dot products.

    ``e_i = q . k_i``, ``a = softmax(e)``, ``c = sum_i a_i v_i``. The elements of the set
    enter only through sums, so permuting the pairs ``(k_i, v_i)`` permutes ``a`` the same
    way and leaves ``c`` unchanged.

    Args:
        query: ``(d,)`` the query ``q``.
        keys: ``(N, d)`` one key per element.
        values: ``(N, d_v)`` one value per element.

    Returns:
        ``(context, weights)``: ``(d_v,)`` the weighted sum and ``(N,)`` the weights.

    Example:
        >>> q = jnp.array([1.0, 0.0]); k = jnp.array([[1.0, 0.0], [0.0, 1.0]])
        >>> context, weights = set_attention(q, k, jnp.array([[1.0], [0.0]]))
        >>> [round(float(w), 3) for w in weights]
        [0.731, 0.269]

    Reference: Bahdanau, Cho & Bengio, "Neural machine translation by jointly learning to
    align and translate", ICLR 2015.
    """
    check_rank("query", query, 1)
    check_rank("keys", keys, 2)
    check_rank("values", values, 2)
    if keys.shape[1] != query.shape[0] or keys.shape[0] != values.shape[0]:
        raise ValueError(
            f"keys must have shape ({values.shape[0]}, {query.shape[0]}) to match values and "
            f"query, got {keys.shape}"
        )
    weights = jax.nn.softmax(keys @ query)
    return weights @ values, weights


def causal_mask(length: int, key_length: int | None = None, offset: int | Array = 0) -> Array:
    """``(1, 1, T, S)`` boolean mask: query ``t`` (at position ``offset + t``) sees keys ``<= it``.

    Example:
        >>> causal_mask(3).astype(int)[0, 0].tolist()
        [[1, 0, 0], [1, 1, 0], [1, 1, 1]]
    """
    check_positive_int("length", length)
    key_length = length if key_length is None else key_length
    rows = jnp.asarray(offset) + jnp.arange(length)[:, None]
    return (jnp.arange(key_length)[None, :] <= rows)[None, None]


def padding_mask(key_valid: Array, query_valid: Array | None = None) -> Array:
    """``(B, 1, T, S)`` mask from per-token validity: only valid keys (and queries) attend.

    Args:
        key_valid: ``(B, S)`` booleans, ``True`` for real tokens, ``False`` for padding.
        query_valid: ``(B, T)`` booleans; ``None`` lets every query attend (``T = 1``
            broadcast).

    Example:
        >>> padding_mask(jnp.array([[True, False]])).astype(int).tolist()
        [[[[1, 0]]]]
    """
    check_rank("key_valid", key_valid, 2)
    key_valid = jnp.asarray(key_valid, bool)
    if query_valid is None:
        return key_valid[:, None, None, :]
    check_rank("query_valid", query_valid, 2)
    return jnp.asarray(query_valid, bool)[:, None, :, None] & key_valid[:, None, None, :]


def _check_qkv(query: Array, keys: Array, values: Array) -> None:
    for name, x in (("query", query), ("keys", keys), ("values", values)):
        check_rank(name, x, 4)
    b, _, h, d_k = query.shape
    if keys.shape[0] != b or keys.shape[2] != h or keys.shape[3] != d_k:
        raise ValueError(f"keys must have shape ({b}, S, {h}, {d_k}), got {keys.shape}")
    if values.shape[:3] != keys.shape[:3]:
        raise ValueError(
            f"values must have shape ({b}, {keys.shape[1]}, {h}, d_v), got {values.shape}"
        )


def _full_mask(mask: Array | None, is_causal: bool, shape: tuple[int, ...]) -> Array | None:
    """The boolean ``(B, H, T, S)`` mask (``None`` when nothing is masked)."""
    b, t, h, s = shape
    if is_causal:
        causal = causal_mask(t, s)
        mask = causal if mask is None else jnp.logical_and(mask, causal)
    return None if mask is None else jnp.broadcast_to(jnp.asarray(mask, bool), (b, h, t, s))


def attention_weights(
    query: Array, keys: Array, mask: Array | None = None, *, scale: float | None = None
) -> Array:
    """Softmax attention weights ``softmax(q k^T * scale)``, zero on fully masked rows.

    Args:
        query: ``(B, T, H, d_k)``.
        keys: ``(B, S, H, d_k)``.
        mask: boolean, broadcastable to ``(B, H, T, S)``; ``None`` for no mask.
        scale: multiplier of the dot products; default ``1 / sqrt(d_k)``.

    Returns:
        ``(B, H, T, S)`` weights; each row sums to one, or is all zero when masked out.

    Example:
        >>> w = attention_weights(jnp.ones((1, 2, 1, 4)), jnp.ones((1, 3, 1, 4)))
        >>> w.shape, float(w.sum(-1)[0, 0, 0])
        ((1, 1, 2, 3), 1.0)
    """
    scale = float(1.0 / np.sqrt(query.shape[-1])) if scale is None else scale
    dtype = jnp.promote_types(query.dtype, jnp.float32)
    logits = jnp.einsum("BTNH,BSNH->BNTS", query, keys, preferred_element_type=dtype)
    logits = logits * jnp.asarray(scale, dtype)
    if mask is None:
        return jax.nn.softmax(logits, axis=-1)
    mask = jnp.broadcast_to(jnp.asarray(mask, bool), logits.shape)
    logits = jnp.where(mask, logits, jnp.asarray(jnp.finfo(dtype).min, dtype))
    weights = jax.nn.softmax(logits, axis=-1)
    return jnp.where(mask, weights, jnp.zeros((), dtype))


def scaled_dot_product_attention(
    query: Array,
    keys: Array,
    values: Array,
    mask: Array | None = None,
    *,
    is_causal: bool = False,
    scale: float | None = None,
    implementation: str = "auto",
    block_size: int | None = None,
) -> Array:
    """``softmax(Q K^T / sqrt(d_k)) V`` per head, with padding / causal masks.

    A query whose every key is masked (a padding query, or a padded batch row) gets a
    zero output instead of the NaN of ``0 / 0`` or the mean of masked values; its
    gradient is zero too. ``implementation="auto"`` picks ``"blocked"`` on CPU; elsewhere
    :func:`jax.nn.dot_product_attention` (its XLA implementation) when it applies
    (``d_k == d_v`` and not float64, whose softmax that function runs in float32), else the
    einsum reference. ``"cudnn"`` is the same call with ``implementation="cudnn"``: cuDNN's
    fused flash attention, on NVIDIA GPUs only, for float16/bfloat16 inputs. On the
    ``"jax"``/``"cudnn"`` paths, causal self-attention without an explicit mask
    (``mask=None``, ``is_causal=True``, ``T == S``) passes ``is_causal=True`` through and
    builds no ``(B, H, T, S)`` mask (cuDNN then skips the masked blocks); no query is fully
    masked there (every query sees key 0), so no zero fix-up is needed. ``"blocked"`` works
    heads-major and, with a causal mask, splits the queries into blocks that read only the
    keys up to their last position, so the masked upper triangle is never computed (about
    5/8 of the causal work at 4 blocks); on XLA:CPU its forward and backward pass with a
    causal mask ran 1.6x-1.9x faster than :func:`jax.nn.dot_product_attention` at a small
    GPT's sizes (``benchmarks/attention_cpu.py``).

    Args:
        query: ``(B, T, H, d_k)``.
        keys: ``(B, S, H, d_k)``.
        values: ``(B, S, H, d_v)``.
        mask: boolean, ``True`` where query ``t`` may attend key ``s``; broadcastable to
            ``(B, H, T, S)``.
        is_causal: also mask keys after the query (``s > t``).
        scale: multiplier of the dot products; default ``1 / sqrt(d_k)``.
        implementation: ``"auto"``, ``"jax"`` (:func:`jax.nn.dot_product_attention`),
            ``"cudnn"`` (the same, cuDNN's kernel; GPU only), ``"reference"`` (einsum and
            softmax here) or ``"blocked"`` (see above).
        block_size: queries per block of ``"blocked"`` with a causal mask; default
            ``max(64, ceil(T / 8))``.

    Returns:
        ``(B, T, H, d_v)``.

    Example:
        >>> q = jnp.ones((1, 3, 2, 4))
        >>> out = scaled_dot_product_attention(q, q, q, is_causal=True)
        >>> out.shape
        (1, 3, 2, 4)

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017, eq. (1).
    """
    _check_qkv(query, keys, values)
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}")
    if block_size is not None:
        check_positive_int("block_size", block_size)
    if implementation == "blocked" or (implementation == "auto" and jax.default_backend() == "cpu"):
        return _blocked_attention(query, keys, values, mask, is_causal, scale, block_size)
    b, t, h, _ = query.shape
    use_jax = implementation in ("jax", "cudnn") or (
        implementation == "auto"
        and values.shape[-1] == query.shape[-1]
        and query.dtype != jnp.float64
    )
    backend = "cudnn" if implementation == "cudnn" else None
    if use_jax and mask is None and is_causal and t == keys.shape[1]:
        # every query sees key 0: no fully masked row, no (B, H, T, S) mask to build
        return jax.nn.dot_product_attention(
            query, keys, values, scale=scale, is_causal=True, implementation=backend
        )
    full = _full_mask(mask, is_causal, (b, t, h, keys.shape[1]))
    if use_jax:
        out = jax.nn.dot_product_attention(
            query, keys, values, mask=full, scale=scale, implementation=backend
        )
    else:
        weights = attention_weights(query, keys, full, scale=scale)
        out = jnp.einsum("BNTS,BSNH->BTNH", weights.astype(values.dtype), values)
    if full is None:
        return out
    row_valid = jnp.any(full, axis=-1).transpose(0, 2, 1)[..., None]  # (B, T, H, 1)
    return jnp.where(row_valid, out, jnp.zeros((), out.dtype))


def _blocked_attention(
    query: Array,
    keys: Array,
    values: Array,
    mask: Array | None,
    is_causal: bool,
    scale: float | None,
    block_size: int | None,
) -> Array:
    """Heads-major einsum attention; causal queries in blocks over their key prefix only.

    Query block ``[a, b)`` under a causal mask sees keys ``< b`` only, so the logits of the
    masked upper triangle beyond the block are never formed. Masked weights are set to
    zero after the softmax, so a fully masked query gives a zero output and gradient.
    """
    _, t, _, d_k = query.shape
    s = keys.shape[1]
    scale = float(1.0 / np.sqrt(d_k)) if scale is None else scale
    dtype = jnp.promote_types(query.dtype, jnp.float32)
    q, k, v = (x.transpose(0, 2, 1, 3) for x in (query, keys, values))  # (B, H, T, d)
    if mask is not None:
        mask = jnp.asarray(mask, bool)
        mask = mask.reshape((1,) * (4 - mask.ndim) + mask.shape)
    size = t
    if is_causal:
        size = block_size or max(64, -(-t // 8))
    outputs = []
    for start in range(0, t, size):
        stop = min(t, start + size)
        seen = min(s, stop) if is_causal else s
        logits = jnp.einsum(
            "BNTH,BNSH->BNTS", q[:, :, start:stop], k[:, :, :seen], preferred_element_type=dtype
        ) * jnp.asarray(scale, dtype)
        keep = None
        if mask is not None:
            keep = mask[:, :, start:stop] if mask.shape[2] > 1 else mask
            keep = keep[..., :seen] if keep.shape[3] > 1 else keep
        if is_causal:
            causal = (jnp.arange(start, stop)[:, None] >= jnp.arange(seen)[None, :])[None, None]
            keep = causal if keep is None else jnp.logical_and(keep, causal)
        if keep is not None:
            keep = jnp.broadcast_to(keep, logits.shape)
            logits = jnp.where(keep, logits, jnp.asarray(jnp.finfo(dtype).min, dtype))
        weights = jax.nn.softmax(logits, axis=-1)
        if keep is not None:
            weights = jnp.where(keep, weights, jnp.zeros((), dtype))
        outputs.append(jnp.einsum("BNTS,BNSH->BNTH", weights.astype(v.dtype), v[:, :, :seen]))
    out = outputs[0] if len(outputs) == 1 else jnp.concatenate(outputs, axis=2)
    return out.transpose(0, 2, 1, 3)


class _HeadProjection(nn.Module):
    """The kernel and bias of one per-head projection, as ``nn.DenseGeneral`` makes them."""

    num_heads: int
    features: int
    use_bias: bool
    kernel_init: nn.initializers.Initializer
    param_dtype: jnp.dtype

    @nn.compact
    def __call__(self, in_features: int) -> tuple[Array, Array | None]:
        shape = (in_features, self.num_heads, self.features)
        flat = (in_features, self.num_heads * self.features)
        kernel = self.param(
            "kernel",
            lambda key, shape, dtype: self.kernel_init(key, flat, dtype).reshape(shape),
            shape,
            self.param_dtype,
        )
        if not self.use_bias:
            return kernel, None
        bias = self.param("bias", nn.initializers.zeros, shape[1:], self.param_dtype)
        return kernel, bias


class MultiHeadAttention(nn.Module):
    """Multi-head attention with separate query/key and value sizes, and a KV cache.

    ``head_j = Attention(X_q W_j^Q, X_kv W_j^K, X_kv W_j^V)`` with ``W^Q, W^K`` of
    ``d_k`` and ``W^V`` of ``d_v`` columns per head; ``MHA = [head_1 .. head_h] W^O``.
    Self-attention when ``inputs_kv`` is ``None``, cross-attention otherwise; masked
    (causal) self-attention through ``causal=True``.

    With ``decode=True`` the module keeps a ``"cache"`` collection of the keys and values
    seen so far (autoregressive decoding): initialise it with ``model.init(key,
    x_full_length, decode=True)``, then feed a few positions per call with
    ``mutable=["cache"]``; each call attends to the cached positions and itself, causally.

    Attributes:
        num_heads: ``h``.
        key_features: ``d_k`` per head; default ``d_model // h`` (then ``d_model`` must be
            divisible by ``h``).
        value_features: ``d_v`` per head; default ``key_features``.
        out_features: output width; default the width of ``inputs_q``.
        causal: mask keys after each query (masked self-attention).
        use_bias: biases on the four projections.
        attention_dropout_rate: dropout on the attention weights in training.
        kernel_init: initializer of the projections.
        dtype: computation dtype (``jnp.bfloat16`` for mixed precision); parameters stay
            ``param_dtype``.
        param_dtype: dtype of the parameters.
        implementation: see :func:`scaled_dot_product_attention`.

    Example:
        >>> import jax
        >>> mha = MultiHeadAttention(num_heads=2, key_features=3, value_features=5)
        >>> x = jnp.ones((1, 4, 8))
        >>> params = mha.init(jax.random.key(0), x)
        >>> mha.apply(params, x).shape
        (1, 4, 8)

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017, section 3.2.2.
    """

    num_heads: int
    key_features: int | None = None
    value_features: int | None = None
    out_features: int | None = None
    causal: bool = False
    use_bias: bool = True
    attention_dropout_rate: float = 0.0
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    dtype: jnp.dtype | None = None
    param_dtype: jnp.dtype = jnp.float32
    implementation: str = "auto"

    def _sizes(self, d_model: int) -> tuple[int, int]:
        check_positive_int("num_heads", self.num_heads)
        if self.key_features is None and d_model % self.num_heads:
            raise ValueError(
                f"d_model must be divisible by num_heads, got d_model={d_model} and "
                f"num_heads={self.num_heads}"
            )
        d_k = self.key_features or d_model // self.num_heads
        d_v = self.value_features or d_k
        return d_k, d_v

    def _fused_projections(self, inputs: Array, sizes: tuple[int, ...]) -> list[Array]:
        """Self-attention's query, key and value projections as one matmul.

        The parameters stay three ``DenseGeneral``-shaped entries (``"query"``, ``"key"``,
        ``"value"``: kernel ``(d_model, h, size)``, bias ``(h, size)``, the same
        initialisation); their kernels are concatenated so the input is read once by one
        wider matmul, which XLA runs nearer its peak than three narrow ones.
        """
        names = ("query", "key", "value")
        weights = [
            _HeadProjection(
                self.num_heads, size, self.use_bias, self.kernel_init, self.param_dtype, name=name
            )(inputs.shape[-1])
            for name, size in zip(names, sizes, strict=True)
        ]
        kernel = jnp.concatenate([w[0] for w in weights], axis=-1)
        bias = jnp.concatenate([w[1] for w in weights], axis=-1) if self.use_bias else None
        inputs, kernel, bias = promote_dtype(inputs, kernel, bias, dtype=self.dtype)
        out = jnp.einsum("BTD,DNH->BTNH", inputs, kernel)
        if bias is not None:
            out = out + bias[None, None]
        return jnp.split(out, np.cumsum(sizes)[:-1].tolist(), axis=-1)

    @nn.compact
    def __call__(
        self,
        inputs_q: Array,
        inputs_kv: Array | None = None,
        mask: Array | None = None,
        *,
        decode: bool = False,
        train: bool = False,
        return_weights: bool = False,
    ) -> Array | tuple[Array, Array]:
        """Attend.

        Args:
            inputs_q: ``(B, T, d_model)`` queries.
            inputs_kv: ``(B, S, d_kv)`` keys/values source; ``None`` for self-attention.
            mask: boolean, broadcastable to ``(B, h, T, S)``, ``True`` = may attend.
            decode: use and update the KV cache (self-attention only).
            train: apply attention dropout (needs a ``"dropout"`` rng).
            return_weights: also return the ``(B, h, T, S)`` attention weights.

        Returns:
            ``(B, T, out_features)``, and the weights when asked.
        """
        check_rank("inputs_q", inputs_q, 3)
        check_in_range(
            "attention_dropout_rate", self.attention_dropout_rate, 0.0, 1.0, high_inclusive=False
        )
        self_attention = inputs_kv is None
        inputs_kv = inputs_q if self_attention else inputs_kv
        check_rank("inputs_kv", inputs_kv, 3)
        d_model = inputs_q.shape[-1]
        d_k, d_v = self._sizes(d_model)
        dense = lambda features, name: nn.DenseGeneral(  # noqa: E731
            features=(self.num_heads, features),
            use_bias=self.use_bias,
            kernel_init=self.kernel_init,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            name=name,
        )
        if self_attention:
            query, keys, values = self._fused_projections(inputs_q, (d_k, d_k, d_v))
        else:
            query = dense(d_k, "query")(inputs_q)
            keys = dense(d_k, "key")(inputs_kv)
            values = dense(d_v, "value")(inputs_kv)
        causal = self.causal

        if decode:
            if not self_attention:
                raise ValueError("decode=True caches self-attention only; inputs_kv must be None")
            initialized = self.has_variable("cache", "cached_keys")
            cached_keys = self.variable("cache", "cached_keys", jnp.zeros, keys.shape, keys.dtype)
            cached_values = self.variable(
                "cache", "cached_values", jnp.zeros, values.shape, values.dtype
            )
            index = self.variable("cache", "index", lambda: jnp.zeros((), jnp.int32))
            if initialized:
                length = query.shape[1]
                start = index.value
                zero = jnp.zeros((), jnp.int32)
                at = (zero, start, zero, zero)
                keys = jax.lax.dynamic_update_slice(cached_keys.value, keys, at)
                values = jax.lax.dynamic_update_slice(cached_values.value, values, at)
                cached_keys.value, cached_values.value = keys, values
                index.value = start + length
                step_mask = causal_mask(length, keys.shape[1], offset=start)
                mask = step_mask if mask is None else jnp.logical_and(mask, step_mask)
                causal = False

        dtype = self.dtype or jnp.result_type(inputs_q.dtype, self.param_dtype)
        query, keys, values = (a.astype(dtype) for a in (query, keys, values))
        needs_weights = return_weights or (train and self.attention_dropout_rate > 0)
        if needs_weights:
            b, t = query.shape[:2]
            full = _full_mask(mask, causal, (b, t, self.num_heads, keys.shape[1]))
            weights = attention_weights(query, keys, full)
            kept = nn.Dropout(self.attention_dropout_rate)(weights, deterministic=not train)
            out = jnp.einsum("BNTS,BSNH->BTNH", kept.astype(values.dtype), values)
        else:
            out = scaled_dot_product_attention(
                query, keys, values, mask, is_causal=causal, implementation=self.implementation
            )
        if self.is_mutable_collection("intermediates"):
            # attention maps for plots: apply(..., mutable=["intermediates"])
            if not needs_weights:
                b, t = query.shape[:2]
                full = _full_mask(mask, causal, (b, t, self.num_heads, keys.shape[1]))
                weights = attention_weights(query, keys, full)
            self.sow("intermediates", "attention_weights", weights)
        out = nn.DenseGeneral(
            features=self.out_features or d_model,
            axis=(-2, -1),
            use_bias=self.use_bias,
            kernel_init=self.kernel_init,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            name="out",
        )(out)
        return (out, weights) if return_weights else out


register_model(
    ModelSpec(
        name="MultiHeadAttention",
        make=lambda: MultiHeadAttention(num_heads=2, key_features=3, value_features=5, causal=True),
        input_shape=(4, 6),
    )
)

__all__ = [
    "IMPLEMENTATIONS",
    "MultiHeadAttention",
    "attention_weights",
    "causal_mask",
    "padding_mask",
    "scaled_dot_product_attention",
    "set_attention",
]
