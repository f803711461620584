"""Byte and BPE tokenizers round-trip text; the local corpus and block cutting."""

from __future__ import annotations

import numpy as np
import pytest

from jaxdl.pretraining.tokenizers import (
    BPETokenizer,
    ByteTokenizer,
    load_python_docs,
    token_blocks,
    words,
)


def test_corpus_is_the_shipped_python_documentation():
    text = load_python_docs()
    assert len(text) > 100_000 and "for" in words(text[:20_000])
    assert load_python_docs(50) == text[:50]


def test_byte_tokenizer_round_trip_and_specials():
    tokenizer = ByteTokenizer(specials=("<bos>", "<mask>"))
    ids = tokenizer.encode("naïve λ")
    assert ids.dtype == np.int32 and ids.max() < 256
    assert tokenizer.decode(np.concatenate([ids, [tokenizer.special_id("<mask>")]])) == (
        "naïve λ<mask>"
    )
    with pytest.raises(ValueError, match="name must be one of the specials"):
        tokenizer.special_id("<pad>")


def test_bpe_learns_frequent_pieces_and_round_trips():
    text = load_python_docs(20_000)
    tokenizer = BPETokenizer.train(text, vocab_size=320, specials=("<eos>",))
    assert tokenizer.vocab_size == 321 and tokenizer.special_id("<eos>") == 320
    ids = tokenizer.encode(text)
    assert len(ids) < 0.75 * len(text.encode())  # merges compress the training text
    unseen = "The yield statement: ünïcode and 12345 spaces\n\tdone."
    assert tokenizer.decode(tokenizer.encode(unseen)) == unseen
    # the first merge is the most frequent adjacent byte pair inside words
    first = tokenizer.pieces[256]
    assert len(first) == 2 and text.count(first.decode()) > 100
    assert BPETokenizer.train(text, vocab_size=320).merges == tokenizer.merges  # deterministic
    with pytest.raises(ValueError, match="vocab_size must be >= 256"):
        BPETokenizer.train(text, vocab_size=100)


def test_token_blocks():
    np.testing.assert_array_equal(token_blocks(np.arange(10), 4), [[0, 1, 2, 3], [4, 5, 6, 7]])
    with pytest.raises(ValueError, match="at least block_length=4"):
        token_blocks(np.arange(3), 4)
