"""Transformer blocks and the encoder-decoder: Add & Norm, FFN, stacks, cost model.

Add & Norm as the course writes it (post-LN):

    H' = LN(SA(X) + X),        H = LN(FFN(H') + H'),

and the pre-LN variant ``H' = X + SA(LN(X))``, ``H = H' + FFN(LN(H'))`` (GPT-2). The
position-wise feed-forward network is ``max(0, x W1 + b1) W2 + b2`` (ReLU) or its GELU
version. The layers of a stack are one ``nn.scan`` (one compiled block, parameters
stacked on a leading layer axis), optionally rematerialized (``remat=True``) so that the
backward pass recomputes activations instead of storing them.

The decoder-only and encoder-only language models (GPT, BERT, the published sizes) live in
:mod:`jaxdl.nn.language_models`; greedy / sampled decoding with the KV cache in
:mod:`jaxdl.nn.decoding`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from jaxdl._checks import check_positive_int
from jaxdl.nn.attention import IMPLEMENTATIONS, MultiHeadAttention, padding_mask
from jaxdl.nn.embeddings import SinusoidalPositionalEncoding, TokenEmbedding, check_token_ids
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array

FFN_ACTIVATIONS: dict[str, Callable[[Array], Array]] = {
    "relu": jax.nn.relu,
    "gelu": partial(jax.nn.gelu, approximate=False),
    "gelu_tanh": partial(jax.nn.gelu, approximate=True),
}
NORMS = ("post", "pre")


def _check_choice(name: str, value: str, choices) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")


class FeedForward(nn.Module):
    """Position-wise feed-forward network ``act(x W1 + b1) W2 + b2``.

    Attributes:
        hidden_features: width of the hidden layer (``d_ff``, 4 ``d_model`` usually).
        activation: ``"relu"`` (the paper's ``max(0, .)``), ``"gelu"`` (exact) or
            ``"gelu_tanh"`` (GPT's tanh approximation).
        dropout_rate: dropout after the hidden activation in training.
        kernel_init: initializer of both kernels.
        dtype: computation dtype; parameters stay ``param_dtype``.
        param_dtype: dtype of the parameters.

    Example:
        >>> import jax
        >>> ffn = FeedForward(hidden_features=8)
        >>> x = jnp.ones((2, 3, 4))
        >>> jax.jit(ffn.apply)(jax.jit(ffn.init)(jax.random.key(0), x), x).shape
        (2, 3, 4)

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017, eq. (2).
    """

    hidden_features: int
    activation: str = "relu"
    dropout_rate: float = 0.0
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    dtype: jnp.dtype | None = None
    param_dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, inputs: Array, *, train: bool = False) -> Array:
        """``inputs``: ``(..., d)`` -> ``(..., d)``."""
        _check_choice("activation", self.activation, FFN_ACTIVATIONS)
        dense = partial(
            nn.Dense, kernel_init=self.kernel_init, dtype=self.dtype, param_dtype=self.param_dtype
        )
        h = FFN_ACTIVATIONS[self.activation](dense(self.hidden_features, name="hidden")(inputs))
        h = nn.Dropout(self.dropout_rate)(h, deterministic=not train)
        return dense(inputs.shape[-1], name="output")(h)


def _add_and_norm(module, name, x, sublayer, *, train):
    """Post-LN ``LN(x + drop(f(x)))`` or pre-LN ``x + drop(f(LN(x)))``."""
    norm = nn.LayerNorm(
        epsilon=module.layer_norm_epsilon,
        dtype=module.dtype,
        param_dtype=module.param_dtype,
        name=f"{name}_norm",
    )
    drop = nn.Dropout(module.dropout_rate)
    if module.norm == "post":
        return norm(x + drop(sublayer(x), deterministic=not train))
    return x + drop(sublayer(norm(x)), deterministic=not train)


def _block(module, x, memory, mask, memory_mask, *, train: bool, decode: bool, cross: bool):
    """Masked (or not) self-attention, optional cross-attention, feed-forward."""
    _check_choice("norm", module.norm, NORMS)
    _check_choice("implementation", module.implementation, IMPLEMENTATIONS)
    mha = partial(
        MultiHeadAttention,
        num_heads=module.num_heads,
        attention_dropout_rate=module.attention_dropout_rate,
        kernel_init=module.kernel_init,
        dtype=module.dtype,
        param_dtype=module.param_dtype,
        implementation=module.implementation,
    )
    self_attention = mha(causal=module.causal, name="self_attention")
    x = _add_and_norm(
        module,
        "self_attention",
        x,
        lambda h: self_attention(h, mask=mask, decode=decode, train=train),
        train=train,
    )
    if cross:
        if memory is None:
            raise ValueError("memory (the encoder output) is required by a cross-attention block")
        cross_attention = mha(name="cross_attention")
        x = _add_and_norm(
            module,
            "cross_attention",
            x,
            lambda h: cross_attention(h, memory, mask=memory_mask, train=train),
            train=train,
        )
    ffn = FeedForward(
        module.hidden_features,
        module.activation,
        module.dropout_rate,
        module.kernel_init,
        module.dtype,
        module.param_dtype,
        name="feed_forward",
    )
    return _add_and_norm(module, "feed_forward", x, lambda h: ffn(h, train=train), train=train)


class EncoderBlock(nn.Module):
    """One encoder layer: self-attention and feed-forward, each with Add & Norm.

    Post-LN (the course, the 2017 paper, BERT): ``H' = LN(SA(X) + X)``,
    ``H = LN(FFN(H') + H')``; pre-LN (GPT-2): ``H' = X + SA(LN(X))``,
    ``H = H' + FFN(LN(H'))``. Dropout (``dropout_rate``) acts on each sublayer's output
    before the residual sum.

    Attributes:
        num_heads: attention heads ``h`` (``d_model`` must be divisible by it).
        hidden_features: width of the feed-forward hidden layer.
        norm: ``"post"`` or ``"pre"``.
        activation: feed-forward activation, a key of ``FFN_ACTIVATIONS``.
        dropout_rate: residual and feed-forward dropout.
        attention_dropout_rate: dropout on the attention weights.
        layer_norm_epsilon: the LayerNorm epsilon.
        causal: masked self-attention (a decoder-only block).
        kernel_init: initializer of every kernel.
        dtype: computation dtype (``jnp.bfloat16`` for mixed precision).
        param_dtype: dtype of the parameters (the fp32 master weights).
        implementation: attention implementation (see ``scaled_dot_product_attention``).

    Example:
        >>> import jax
        >>> block = EncoderBlock(num_heads=2, hidden_features=16)
        >>> x = jnp.ones((2, 5, 8))
        >>> jax.jit(block.apply)(jax.jit(block.init)(jax.random.key(0), x), x).shape
        (2, 5, 8)

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017; Xiong et al.,
    "On layer normalization in the Transformer architecture", ICML 2020 (pre-LN).
    """

    num_heads: int
    hidden_features: int
    norm: str = "post"
    activation: str = "relu"
    dropout_rate: float = 0.0
    attention_dropout_rate: float = 0.0
    layer_norm_epsilon: float = 1e-5
    causal: bool = False
    kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()
    dtype: jnp.dtype | None = None
    param_dtype: jnp.dtype = jnp.float32
    implementation: str = "auto"

    @nn.compact
    def __call__(self, inputs: Array, mask: Array | None = None, *, train: bool = False) -> Array:
        """``inputs``: ``(B, T, d)``; ``mask``: boolean ``(B, 1|h, T, T)`` -> ``(B, T, d)``."""
        return _block(self, inputs, None, mask, None, train=train, decode=False, cross=False)


class DecoderBlock(EncoderBlock):
    """One decoder layer: masked self-attention, cross-attention on the encoder, FFN.

    Each sublayer has the same Add & Norm as :class:`EncoderBlock`. With
    ``cross_attention=False`` it is a GPT block (masked self-attention and FFN only).
    ``decode=True`` uses the self-attention KV cache (see ``MultiHeadAttention``).

    Attributes:
        cross_attention: attend to the encoder output ``memory``.
        causal: masked self-attention (default ``True``).
        (others): as :class:`EncoderBlock`.

    Example:
        >>> import jax
        >>> block = DecoderBlock(num_heads=2, hidden_features=16)
        >>> y, memory = jnp.ones((2, 3, 8)), jnp.ones((2, 5, 8))
        >>> variables = jax.jit(block.init)(jax.random.key(0), y, memory)
        >>> jax.jit(block.apply)(variables, y, memory).shape
        (2, 3, 8)

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017, section 3.1.
    """

    causal: bool = True
    cross_attention: bool = True

    @nn.compact
    def __call__(
        self,
        inputs: Array,
        memory: Array | None = None,
        mask: Array | None = None,
        memory_mask: Array | None = None,
        *,
        train: bool = False,
        decode: bool = False,
    ) -> Array:
        """``inputs``: ``(B, T, d)``; ``memory``: ``(B, S, d)``; masks ``(B, 1, T, T|S)``."""
        return _block(
            self,
            inputs,
            memory,
            mask,
            memory_mask,
            train=train,
            decode=decode,
            cross=self.cross_attention,
        )


_BLOCK_FIELDS = tuple(
    f.name for f in dataclasses.fields(DecoderBlock) if f.name not in ("parent", "name")
)


class _ScannedLayer(nn.Module):
    """One layer of a stack, in the ``(carry, _) -> (carry, None)`` form of ``nn.scan``."""

    block: dict[str, Any]
    train: bool = False
    decode: bool = False

    @nn.compact
    def __call__(self, x, memory, mask, memory_mask):
        block = DecoderBlock(**self.block, name="block")
        return block(x, memory, mask, memory_mask, train=self.train, decode=self.decode), None


def _stack(
    module, num_layers, block: dict, x, memory, mask, memory_mask, *, train, decode, name
) -> Array:
    """``num_layers`` blocks as one ``nn.scan`` (remat'ed when ``module.remat``)."""
    check_positive_int("num_layers", num_layers)
    check_positive_int("scan_unroll", module.scan_unroll)
    layer = nn.remat(_ScannedLayer) if module.remat else _ScannedLayer
    scanned = nn.scan(
        layer,
        variable_axes={"params": 0, "cache": 0, "intermediates": 0},
        split_rngs={"params": True, "dropout": True},
        in_axes=(nn.broadcast, nn.broadcast, nn.broadcast),
        length=num_layers,
        unroll=min(module.scan_unroll, num_layers),
    )
    x, _ = scanned(block, train, decode, name=name)(x, memory, mask, memory_mask)
    return x


def _block_config(module, **overrides) -> dict:
    config = {f: getattr(module, f) for f in _BLOCK_FIELDS if hasattr(module, f)}
    config.update(overrides)
    return config


def _decode_offset(module, length: int, decode: bool) -> Array | int:
    """Position of the first token fed in this call (a ``"cache"`` counter when decoding)."""
    if not decode:
        return 0
    initialized = module.has_variable("cache", "position")
    position = module.variable("cache", "position", lambda: jnp.zeros((), jnp.int32))
    offset = position.value
    if initialized:
        position.value = offset + length
    return offset


class Transformer(nn.Module):
    """The encoder-decoder Transformer (N = 6, d = 512, h = 8, d_ff = 2,048 by default).

    Sinusoidal positions (scaled token embeddings ``sqrt(d) U W_e + PE``), ``N`` encoder
    blocks, ``N`` decoder blocks with masked self-attention and cross-attention, and the
    output layer tied to the target embedding.

    ``__call__(source, target)`` returns the logits of the next target token at every
    target position (teacher forcing: ``target`` is the right-shifted output,
    starting with BOS). ``__call__(source)`` returns the encoder output (``memory``),
    which can then be passed back as ``memory=`` to decode without re-encoding.

    Attributes:
        source_vocab_size: source tokens.
        target_vocab_size: target tokens.
        max_length: rows of the positional tables.
        num_layers: ``N``, for the encoder and for the decoder.
        features: ``d_model``.
        num_heads: ``h``.
        hidden_features: ``d_ff``.
        norm: ``"post"`` (the paper) or ``"pre"``.
        activation: feed-forward activation.
        dropout_rate, attention_dropout_rate, layer_norm_epsilon: as :class:`EncoderBlock`.
        base: base ``n`` of the sinusoidal encoding.
        remat, scan_unroll, dtype, param_dtype, implementation, kernel_init: as
            :class:`GPT`.

    Example:
        >>> import jax
        >>> model = Transformer(source_vocab_size=7, target_vocab_size=9, max_length=8,
        ...                     num_layers=1, features=8, num_heads=2, hidden_features=16)
        >>> source, target = jnp.zeros((2, 6), jnp.int32), jnp.zeros((2, 4), jnp.int32)
        >>> variables = jax.jit(model.init)(jax.random.key(0), source, target)
        >>> jax.jit(model.apply)(variables, source, target).shape
        (2, 4, 9)

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017.
    """

    source_vocab_size: int
    target_vocab_size: int
    max_length: int = 512
    num_layers: int = 6
    features: int = 512
    num_heads: int = 8
    hidden_features: int = 2048
    norm: str = "post"
    activation: str = "relu"
    dropout_rate: float = 0.0
    attention_dropout_rate: float = 0.0
    layer_norm_epsilon: float = 1e-5
    base: float = 10000.0
    remat: bool = False
    scan_unroll: int = 1
    dtype: jnp.dtype | None = None
    param_dtype: jnp.dtype = jnp.float32
    implementation: str = "auto"
    kernel_init: nn.initializers.Initializer = nn.initializers.xavier_uniform()

    @nn.compact
    def __call__(
        self,
        source: Array,
        target: Array | None = None,
        *,
        memory: Array | None = None,
        source_valid: Array | None = None,
        train: bool = False,
        decode: bool = False,
    ) -> Array:
        """Encode ``source``; decode ``target`` when given.

        Args:
            source: ``(B, S)`` source ids.
            target: ``(B, T)`` decoder input ids (BOS then the shifted output).
            memory: ``(B, S, d)`` a previous encoder output (skips the encoder).
            source_valid: ``(B, S)`` booleans, ``False`` on source padding.
            train: dropout on.
            decode: use the decoder's KV cache.

        Returns:
            ``(B, T, target_vocab_size)`` float32 logits, or ``(B, S, d)`` memory when
            ``target`` is ``None``.
        """
        check_token_ids("source", source, self.source_vocab_size)
        scale = jnp.sqrt(jnp.asarray(self.features, jnp.float32))
        drop = nn.Dropout(self.dropout_rate)

        def embed_tokens(table, tokens, offset):
            h = table(tokens) * scale.astype(table.dtype or self.param_dtype)
            h = SinusoidalPositionalEncoding(self.max_length, self.base)(h, offset)
            return drop(h, deterministic=not train)

        source_embed = TokenEmbedding(
            self.source_vocab_size,
            self.features,
            std=self.features**-0.5,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            name="source_embedding",
        )
        target_embed = TokenEmbedding(
            self.target_vocab_size,
            self.features,
            std=self.features**-0.5,
            dtype=self.dtype,
            param_dtype=self.param_dtype,
            name="target_embedding",
        )
        memory_mask = None if source_valid is None else padding_mask(source_valid)
        if memory is None:
            encoder = _block_config(self, causal=False, cross_attention=False)
            memory = _stack(
                self,
                self.num_layers,
                encoder,
                embed_tokens(source_embed, source, 0),
                None,
                memory_mask,
                None,
                train=train,
                decode=False,
                name="encoder",
            )
        if target is None:
            return memory
        check_token_ids("target", target, self.target_vocab_size)
        offset = _decode_offset(self, target.shape[1], decode)
        decoder = _block_config(self, causal=True, cross_attention=True)
        h = _stack(
            self,
            self.num_layers,
            decoder,
            embed_tokens(target_embed, target, offset),
            memory,
            None,
            memory_mask,
            train=train,
            decode=decode,
            name="decoder",
        )
        return target_embed.attend(h).astype(jnp.float32)


# --- tiny version -----------------------------------------------------------------------


def tiny_transformer(**overrides) -> Transformer:
    """A two-layer encoder-decoder (d = 16, 2 heads, 32 tokens each side) for tests.

    Example:
        >>> tiny_transformer().num_layers
        2
    """
    config = dict(
        source_vocab_size=32,
        target_vocab_size=32,
        max_length=32,
        num_layers=2,
        features=16,
        num_heads=2,
        hidden_features=32,
    )
    return Transformer(**{**config, **overrides})


# --- cost model -------------------------------------------------------------------------


class TransformerFlops(NamedTuple):
    """Floating-point operations of one forward pass (multiply-adds count 2).

    Attributes:
        attention: ``Q K^T`` and ``A V``: ``4 T^2 d`` per layer (the ``O(T^2 D)`` term).
        projections: ``W^Q, W^K, W^V, W^O``: ``8 T d^2`` per layer.
        feed_forward: ``4 T d d_ff`` per layer (the ``O(T D^2)`` term).
        logits: ``2 T d V`` for the output layer.
        forward: the sum, times the batch size.
        training: ``3 x forward`` (the backward pass costs twice the forward).
    """

    attention: int
    projections: int
    feed_forward: int
    logits: int
    forward: int
    training: int


def transformer_flops(
    num_layers: int,
    features: int,
    seq_length: int,
    *,
    hidden_features: int | None = None,
    vocab_size: int = 0,
    batch_size: int = 1,
    cross_length: int = 0,
) -> TransformerFlops:
    """The course's cost model of a Transformer stack as a FLOP count.

    Self-attention costs ``O(T^2 d)`` (every pair of positions, each a ``d``-long dot
    product) and the position-wise FFN ``O(T d^2)``: attention dominates when
    ``T > d``. Per layer: ``4 T^2 d`` (scores and weighted sum) + ``8 T d^2``
    (projections) + ``4 T d d_ff``; cross-attention adds ``4 T S d + 4 T d^2 + 4 S d^2``.

    Args:
        num_layers: layers ``L``.
        features: ``d``.
        seq_length: ``T``.
        hidden_features: ``d_ff`` (default ``4 d``).
        vocab_size: ``V`` of the output layer (0: none).
        batch_size: sequences.
        cross_length: encoder length ``S`` of cross-attention layers (0: none).

    Returns:
        A :class:`TransformerFlops` (totals over the batch and the layers).

    Example:
        >>> transformer_flops(1, 4, 2, hidden_features=8).forward  # 64 + 256 + 256
        576

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017, table 1;
    Kaplan et al., "Scaling laws for neural language models", 2020 (``6 N`` per token).
    """
    for name, value in (
        ("num_layers", num_layers),
        ("features", features),
        ("seq_length", seq_length),
    ):
        check_positive_int(name, value)
    d, t, s = features, seq_length, cross_length
    d_ff = 4 * d if hidden_features is None else hidden_features
    attention = num_layers * (4 * t * t * d + 4 * t * s * d) * batch_size
    projections = num_layers * (8 * t * d * d + (4 * t * d * d + 4 * s * d * d if s else 0))
    projections *= batch_size
    feed_forward = num_layers * 4 * t * d * d_ff * batch_size
    logits = 2 * t * d * vocab_size * batch_size
    forward = attention + projections + feed_forward + logits
    return TransformerFlops(attention, projections, feed_forward, logits, forward, 3 * forward)


# --- registry ---------------------------------------------------------------------------

register_model(
    ModelSpec(name="FeedForward", make=lambda: FeedForward(8, "gelu"), input_shape=(3, 4))
)
register_model(
    ModelSpec(
        name="EncoderBlock",
        make=lambda: EncoderBlock(num_heads=2, hidden_features=8, norm="pre"),
        input_shape=(3, 4),
    )
)
register_model(
    ModelSpec(
        name="DecoderBlock",
        make=lambda: DecoderBlock(num_heads=2, hidden_features=8, cross_attention=False),
        input_shape=(3, 4),
    )
)
register_model(
    ModelSpec(
        name="Transformer",
        make=lambda: tiny_transformer(num_layers=1, features=8, hidden_features=16),
        input_shape=(5,),
        input_dtype="int32",
    )
)

__all__ = [
    "FFN_ACTIVATIONS",
    "NORMS",
    "DecoderBlock",
    "EncoderBlock",
    "FeedForward",
    "Transformer",
    "TransformerFlops",
    "tiny_transformer",
    "transformer_flops",
]
