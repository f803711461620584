"""Token and positional embeddings: sinusoidal encodings, learned positions, tied tokens.

The input of a Transformer is the sum of a token embedding and a position embedding,
``h_0 = U W_e + W_p`` (GPT's notation: ``U`` the one-hot tokens, ``W_e`` the token
matrix, ``W_p`` the position matrix). Positions are either fixed sinusoids or learned.
"""

from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from jaxdl._checks import check_integer, check_positive, check_positive_int, is_concrete
from jaxdl.nn.registry import ModelSpec, register_model
from jaxdl.typing import Array


def sinusoidal_positional_encoding(
    num_positions: int, features: int, base: float = 10000.0, dtype=jnp.float32
) -> Array:
    """The fixed sinusoidal position table of the Transformer.

    ``PE(k, 2i) = sin(k / n^(2i/d))`` and ``PE(k, 2i+1) = cos(k / n^(2i/d))`` for
    position ``k``, pair index ``i`` and model width ``d``; ``n`` (``base``) is 10,000 in
    the paper. Each pair of columns is a rotation at its own frequency, so ``PE(k + j)``
    is a linear function of ``PE(k)``. An odd ``features`` drops the last cosine column.

    Args:
        num_positions: number of rows (positions ``0 .. num_positions - 1``).
        features: the model width ``d``.
        base: the base ``n``.
        dtype: dtype of the table (computed in float64 with NumPy, then cast).

    Returns:
        ``(num_positions, features)`` table.

    Example:
        >>> pe = sinusoidal_positional_encoding(4, 4, base=100.0)
        >>> [round(float(v), 2) for v in pe[1]]
        [0.84, 0.54, 0.1, 1.0]

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017, section 3.5.
    """
    check_positive_int("num_positions", num_positions)
    check_positive_int("features", features)
    check_positive("base", base)
    k = np.arange(num_positions, dtype=np.float64)[:, None]
    two_i = np.arange(0, features, 2, dtype=np.float64)[None, :]
    angle = k / np.power(float(base), two_i / features)
    table = np.zeros((num_positions, features + features % 2))
    table[:, 0::2] = np.sin(angle)
    table[:, 1::2] = np.cos(angle)
    return jnp.asarray(table[:, :features], dtype=dtype)


def _check_length(length: int, max_length: int) -> None:
    if length > max_length:
        raise ValueError(
            f"inputs has a sequence of length {length}, longer than the positional table "
            f"(max_length={max_length})"
        )


class SinusoidalPositionalEncoding(nn.Module):
    """Adds the fixed sinusoidal table to ``(..., T, d)`` inputs: ``x + PE[offset : offset+T]``.

    Attributes:
        max_length: rows of the table; longer sequences are refused.
        base: the base ``n`` of :func:`sinusoidal_positional_encoding`.

    Example:
        >>> import jax
        >>> layer = SinusoidalPositionalEncoding(max_length=8)
        >>> layer.apply({}, jnp.zeros((2, 5, 4))).shape
        (2, 5, 4)

    Reference: Vaswani et al., "Attention is all you need", NeurIPS 2017.
    """

    max_length: int = 512
    base: float = 10000.0

    @nn.compact
    def __call__(self, inputs: Array, offset: Array | int = 0) -> Array:
        """``inputs``: ``(..., T, d)``; ``offset``: index of the first position (decoding)."""
        length, features = inputs.shape[-2], inputs.shape[-1]
        _check_length(length, self.max_length)
        table = sinusoidal_positional_encoding(self.max_length, features, self.base, inputs.dtype)
        rows = jnp.take(table, jnp.asarray(offset) + jnp.arange(length), axis=0)
        return inputs + rows.reshape((1,) * (inputs.ndim - 2) + rows.shape)


class LearnedPositionalEmbedding(nn.Module):
    """Adds a learned position matrix ``W_p`` (``max_length x d``) to ``(..., T, d)`` inputs.

    Attributes:
        max_length: rows of ``W_p`` (GPT-1: 512, GPT-2: 1,024); longer sequences raise.
        std: standard deviation of the normal initialization (GPT: 0.02).
        param_dtype: dtype of ``W_p``.

    Example:
        >>> import jax
        >>> layer = LearnedPositionalEmbedding(max_length=8)
        >>> params = layer.init(jax.random.key(0), jnp.zeros((1, 5, 4)))
        >>> params["params"]["embedding"].shape
        (8, 4)

    Reference: Radford et al., "Improving language understanding by generative
    pre-training", 2018.
    """

    max_length: int = 512
    std: float = 0.02
    param_dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, inputs: Array, offset: Array | int = 0) -> Array:
        """``inputs``: ``(..., T, d)``; ``offset``: index of the first position (decoding)."""
        length, features = inputs.shape[-2], inputs.shape[-1]
        _check_length(length, self.max_length)
        table = self.param(
            "embedding",
            nn.initializers.normal(self.std),
            (self.max_length, features),
            self.param_dtype,
        )
        rows = jnp.take(table, jnp.asarray(offset) + jnp.arange(length), axis=0)
        rows = rows.reshape((1,) * (inputs.ndim - 2) + rows.shape)
        return inputs + rows.astype(inputs.dtype)


def check_token_ids(name: str, tokens: Array, vocab_size: int) -> None:
    """Raise unless ``tokens`` are integers in ``[0, vocab_size)`` (value check when concrete).

    Under ``jit`` the values cannot be read; an out-of-range id then gathers NaN rows
    (``jnp.take``'s ``fill`` mode), which the training engine's finiteness guard reports.

    Example:
        >>> check_token_ids("tokens", jnp.array([0, 5]), vocab_size=5)
        Traceback (most recent call last):
        ...
        ValueError: tokens must be token ids in [0, 5), got values in [0, 5]
    """
    check_integer(name, tokens)
    if is_concrete(tokens) and np.size(tokens):
        values = np.asarray(tokens)
        low, high = int(values.min()), int(values.max())
        if low < 0 or high >= vocab_size:
            raise ValueError(
                f"{name} must be token ids in [0, {vocab_size}), got values in [{low}, {high}]"
            )


class TokenEmbedding(nn.Module):
    """Token embedding ``W_e`` (``vocab x d``) with the tied output layer ``h W_e^T``.

    ``__call__`` looks up rows (``U W_e`` for one-hot ``U``); :meth:`attend` gives the
    logits of the next token with the same matrix (weight tying, as in GPT:
    ``P(u) = softmax(h_n W_e^T)``).

    Attributes:
        vocab_size: number of token ids.
        features: width ``d``.
        std: standard deviation of the normal initialization.
        dtype: computation dtype of the looked-up rows and logits.
        param_dtype: dtype of ``W_e``.

    Example:
        >>> import jax
        >>> layer = TokenEmbedding(vocab_size=10, features=4)
        >>> params = layer.init(jax.random.key(0), jnp.array([[1, 2]]))
        >>> h = layer.apply(params, jnp.array([[1, 2]]))
        >>> layer.apply(params, h, method=TokenEmbedding.attend).shape
        (1, 2, 10)

    Reference: Press & Wolf, "Using the output embedding to improve language models",
    EACL 2017.
    """

    vocab_size: int
    features: int
    std: float = 0.02
    dtype: jnp.dtype | None = None
    param_dtype: jnp.dtype = jnp.float32

    def setup(self) -> None:
        self.embedding = self.param(
            "embedding",
            nn.initializers.normal(self.std),
            (self.vocab_size, self.features),
            self.param_dtype,
        )

    def __call__(self, tokens: Array) -> Array:
        """``tokens``: integer ``(...)`` -> ``(..., d)``."""
        check_token_ids("tokens", tokens, self.vocab_size)
        dtype = self.dtype or self.param_dtype
        return jnp.take(self.embedding.astype(dtype), tokens, axis=0)

    def attend(self, hidden: Array) -> Array:
        """``hidden``: ``(..., d)`` -> logits ``(..., vocab)`` = ``hidden @ W_e^T``."""
        dtype = self.dtype or self.param_dtype
        return hidden.astype(dtype) @ self.embedding.astype(dtype).T


register_model(
    ModelSpec(
        name="SinusoidalPositionalEncoding",
        make=lambda: SinusoidalPositionalEncoding(max_length=8, base=100.0),
        input_shape=(5, 4),
    )
)
register_model(
    ModelSpec(
        name="LearnedPositionalEmbedding",
        make=lambda: LearnedPositionalEmbedding(max_length=8),
        input_shape=(5, 4),
    )
)
register_model(
    ModelSpec(
        name="TokenEmbedding",
        make=lambda: TokenEmbedding(vocab_size=7, features=4),
        input_shape=(5,),
        input_dtype="int32",
    )
)

__all__ = [
    "LearnedPositionalEmbedding",
    "SinusoidalPositionalEncoding",
    "TokenEmbedding",
    "check_token_ids",
    "sinusoidal_positional_encoding",
]
