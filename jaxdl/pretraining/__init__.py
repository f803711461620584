"""Pre-training: GPT / BERT / T5 objectives and losses, tokenizers, word2vec, fine-tuning heads.

Objectives are pure, jittable transforms of ``(key, tokens)``; losses are
``jaxdl.losses.Objective``s for ``jaxdl.training.fit``; models live in ``jaxdl.nn``.
"""

from jaxdl.pretraining.heads import POOLINGS, FineTuningClassifier
from jaxdl.pretraining.losses import (
    chunked_cross_entropy,
    make_causal_lm_loss,
    make_masked_lm_loss,
    make_seq2seq_loss,
)
from jaxdl.pretraining.objectives import (
    MaskedTokens,
    SpanCorruptionSizes,
    causal_lm_batch,
    mask_tokens,
    span_corruption,
    span_corruption_sizes,
)
from jaxdl.pretraining.tokenizers import (
    BPETokenizer,
    ByteTokenizer,
    load_python_docs,
    token_blocks,
    words,
)
from jaxdl.pretraining.word2vec import (
    Vocabulary,
    Windows,
    analogy,
    build_vocabulary,
    context_windows,
    keep_probabilities,
    make_word2vec_loss,
    nearest_neighbours,
    noise_distribution,
)
from jaxdl.pretraining.word2vec import init_params as init_word2vec_params

__all__ = [
    "BPETokenizer",
    "ByteTokenizer",
    "MaskedTokens",
    "POOLINGS",
    "FineTuningClassifier",
    "SpanCorruptionSizes",
    "Vocabulary",
    "Windows",
    "analogy",
    "build_vocabulary",
    "causal_lm_batch",
    "chunked_cross_entropy",
    "context_windows",
    "init_word2vec_params",
    "keep_probabilities",
    "load_python_docs",
    "make_causal_lm_loss",
    "make_masked_lm_loss",
    "make_seq2seq_loss",
    "make_word2vec_loss",
    "mask_tokens",
    "nearest_neighbours",
    "noise_distribution",
    "span_corruption",
    "span_corruption_sizes",
    "token_blocks",
    "words",
]
