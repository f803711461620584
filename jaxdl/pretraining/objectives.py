"""Pre-training objectives as pure, jittable transforms of (key, tokens).

- causal language modelling (GPT): predict ``u_{t+1}`` from ``u_1 .. u_t``;
- masked language modelling (BERT): select 15 % of the positions, replace 80 % of them
  by ``[MASK]``, 10 % by a random token, keep 10 %, and predict the originals there;
- span corruption (T5): replace random spans by sentinel tokens in the input and ask
  for ``<sentinel_0> span_0 <sentinel_1> span_1 ...`` as the target.

Every output has a static shape, so the transforms run inside ``jit`` and ``vmap``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from jaxdl._checks import check_in_range, check_integer, check_positive, check_rank
from jaxdl.sampling import dropout_mask
from jaxdl.typing import Array, Key


def causal_lm_batch(tokens: Array) -> tuple[Array, Array]:
    """Shift a ``(B, T)`` block into GPT inputs ``u_1 .. u_{T-1}`` and targets ``u_2 .. u_T``.

    The loss is ``-sum_t log P(u_{t+1} | u_1 .. u_t)``; with a causal mask one forward
    pass gives every term.

    Example:
        >>> causal_lm_batch(jnp.array([[5, 6, 7, 8]]))
        (Array([[5, 6, 7]], dtype=int32), Array([[6, 7, 8]], dtype=int32))

    Reference: Radford et al., "Improving language understanding by generative
    pre-training", 2018, eq. (1).
    """
    check_rank("tokens", tokens, 2)
    check_integer("tokens", tokens)
    if tokens.shape[1] < 2:
        raise ValueError(f"tokens must have at least 2 positions, got shape {tokens.shape}")
    return tokens[:, :-1], tokens[:, 1:]


class MaskedTokens(NamedTuple):
    """Output of :func:`mask_tokens`.

    Attributes:
        inputs: ``(B, T)`` corrupted ids fed to the encoder.
        targets: ``(B, T)`` the original ids.
        selected: ``(B, T)`` booleans, the positions whose prediction is scored.
    """

    inputs: Array
    targets: Array
    selected: Array


def mask_tokens(
    key: Key,
    tokens: Array,
    *,
    mask_id: int,
    vocab_size: int,
    rate: float = 0.15,
    maskable: Array | None = None,
) -> MaskedTokens:
    """BERT's masked-LM corruption: select ``rate`` of the positions, 80 / 10 / 10.

    Each maskable position is selected with probability ``rate``; a selected position
    becomes ``[MASK]`` with probability 0.8, a uniformly random token with 0.1, and
    keeps its token with 0.1. The loss is scored on selected positions only.

    Args:
        key: PRNG key.
        tokens: ``(B, T)`` ids.
        mask_id: the ``[MASK]`` id.
        vocab_size: random replacements are drawn from ``[0, vocab_size)``.
        rate: selection probability (BERT: 0.15).
        maskable: ``(B, T)`` booleans, ``False`` for positions never selected (padding,
            ``[CLS]``, ``[SEP]``); default all ``True``.

    Returns:
        A :class:`MaskedTokens`.

    Example:
        >>> import jax
        >>> out = mask_tokens(jax.random.key(0), jnp.ones((2, 8), jnp.int32), mask_id=0,
        ...                   vocab_size=5, rate=0.5)
        >>> bool(jnp.all(jnp.where(out.selected, True, out.inputs == 1)))
        True

    Reference: Devlin et al., "BERT", NAACL 2019, section 3.1, task 1.
    """
    check_rank("tokens", tokens, 2)
    check_integer("tokens", tokens)
    check_in_range("rate", rate, 0.0, 1.0)
    k_select, k_kind, k_random = jax.random.split(key, 3)
    # a position is selected when its "dropout" keep bit with keep_probability = rate is on
    selected = dropout_mask(k_select, tokens.shape, rate)
    if maskable is not None:
        selected = selected & jnp.asarray(maskable, bool)
    kind = jax.random.uniform(k_kind, tokens.shape)
    random_tokens = jax.random.randint(k_random, tokens.shape, 0, vocab_size, tokens.dtype)
    replaced = jnp.where(
        kind < 0.8,
        jnp.asarray(mask_id, tokens.dtype),
        jnp.where(kind < 0.9, random_tokens, tokens),
    )
    return MaskedTokens(jnp.where(selected, replaced, tokens), tokens, selected)


class SpanCorruptionSizes(NamedTuple):
    """Static sizes of :func:`span_corruption` for a sequence length.

    Attributes:
        num_noise: corrupted tokens, ``round(T * noise_density)``.
        num_spans: spans, ``round(num_noise / mean_span_length)`` (at least 1).
        input_length: ``T - num_noise + num_spans``.
        target_length: ``num_noise + num_spans``.
    """

    num_noise: int
    num_spans: int
    input_length: int
    target_length: int


def span_corruption_sizes(
    length: int, noise_density: float = 0.15, mean_span_length: float = 3.0
) -> SpanCorruptionSizes:
    """The static sizes of :func:`span_corruption` for sequences of ``length`` tokens.

    Example:
        >>> span_corruption_sizes(20)
        SpanCorruptionSizes(num_noise=3, num_spans=1, input_length=18, target_length=4)
    """
    check_in_range(
        "noise_density", noise_density, 0.0, 1.0, low_inclusive=False, high_inclusive=False
    )
    check_positive("mean_span_length", mean_span_length)
    num_noise = min(max(int(round(length * noise_density)), 1), length - 1)
    num_spans = max(1, min(int(round(num_noise / mean_span_length)), num_noise, length - num_noise))
    return SpanCorruptionSizes(
        num_noise, num_spans, length - num_noise + num_spans, num_noise + num_spans
    )


def _random_segmentation(key: Key, num_items: int, num_segments: int) -> Array:
    """Lengths of a uniformly random split of ``num_items`` into ``num_segments`` (>= 1 each)."""
    cuts = jnp.arange(num_items - 1) < num_segments - 1
    cuts = jax.random.permutation(key, cuts)
    first = jnp.concatenate([jnp.zeros((1,), jnp.int32), cuts.astype(jnp.int32)])
    segment = jnp.cumsum(first)
    return jax.ops.segment_sum(jnp.ones(num_items, jnp.int32), segment, num_segments)


def _compact(values: Array, keep: Array, size: int, fill: int) -> Array:
    """The kept ``values`` in order, in a static ``size`` array."""
    where = jnp.where(keep, jnp.cumsum(keep) - 1, size)
    return jnp.full((size,), fill, values.dtype).at[where].set(values, mode="drop")


def span_corruption(
    key: Key,
    tokens: Array,
    *,
    first_sentinel: int,
    noise_density: float = 0.15,
    mean_span_length: float = 3.0,
) -> tuple[Array, Array]:
    """T5's span corruption with sentinels, with static output shapes.

    ``round(T * noise_density)`` tokens in ``num_spans`` random spans (mean length
    ``mean_span_length``) are removed from the input; each span is replaced by one
    sentinel ``first_sentinel + j``. The target lists every sentinel followed by the
    tokens it replaced. E.g. ``a b c d e f`` with spans ``{b c}`` and ``{e}``:
    input ``a <0> d <1> f``, target ``<0> b c <1> e``.

    Args:
        key: PRNG key.
        tokens: ``(B, T)`` ids.
        first_sentinel: id of sentinel 0; ids ``first_sentinel .. + num_spans - 1`` must
            be reserved.
        noise_density: fraction of corrupted tokens.
        mean_span_length: mean span length.

    Returns:
        ``(inputs, targets)`` of shapes ``(B, input_length)`` and ``(B, target_length)``
        (see :func:`span_corruption_sizes`).

    Example:
        >>> import jax
        >>> tokens = jnp.arange(1, 21)[None]
        >>> inputs, targets = span_corruption(jax.random.key(0), tokens, first_sentinel=100)
        >>> inputs.shape, targets.shape, int(targets[0, 0])
        ((1, 18), (1, 4), 100)

    Reference: Raffel et al., "Exploring the limits of transfer learning with a unified
    text-to-text transformer", JMLR 2020, section 3.1.4.
    """
    check_rank("tokens", tokens, 2)
    check_integer("tokens", tokens)
    length = tokens.shape[1]
    if length < 2:
        raise ValueError(f"tokens must have at least 2 positions, got shape {tokens.shape}")
    sizes = span_corruption_sizes(length, noise_density, mean_span_length)
    num_noise, num_spans = sizes.num_noise, sizes.num_spans

    def one(key, row):
        k_noise, k_clean = jax.random.split(key)
        noise_lengths = _random_segmentation(k_noise, num_noise, num_spans)
        clean_lengths = _random_segmentation(k_clean, length - num_noise, num_spans)
        # clean_0, noise_0, clean_1, noise_1, ...: a span starts after each clean segment
        interleaved = jnp.stack([clean_lengths, noise_lengths], axis=1).reshape(-1)
        boundaries = jnp.cumsum(interleaved)[:-1]
        marks = jnp.zeros(length, jnp.int32).at[boundaries].add(1, mode="drop")
        segment = jnp.cumsum(marks)
        noise = segment % 2 == 1
        start = noise & (marks > 0)
        span = jnp.cumsum(start) - 1
        sentinel = (first_sentinel + span).astype(row.dtype)
        # two slots per position: (sentinel if a span starts here, the token)
        slots = jnp.stack([sentinel, row], axis=1).reshape(-1)
        keep_input = jnp.stack([start, ~noise], axis=1).reshape(-1)
        keep_target = jnp.stack([start, noise], axis=1).reshape(-1)
        return (
            _compact(slots, keep_input, sizes.input_length, 0),
            _compact(slots, keep_target, sizes.target_length, 0),
        )

    keys = jax.random.split(key, tokens.shape[0])
    return jax.vmap(one)(keys, tokens)


__all__ = [
    "MaskedTokens",
    "SpanCorruptionSizes",
    "causal_lm_batch",
    "mask_tokens",
    "span_corruption",
    "span_corruption_sizes",
]
