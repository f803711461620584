"""Tokenizers (bytes, byte-level BPE trained here) and a local text corpus.

Nothing is downloaded: the corpus is the Python documentation that ships with CPython
(``pydoc_data.topics``, about 465,000 characters of English technical prose).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict

import numpy as np

from jaxdl._checks import check_positive_int

_WORD = re.compile(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+")


def load_python_docs(max_chars: int | None = None) -> str:
    """The Python documentation topics shipped with CPython, as one string.

    Args:
        max_chars: keep only the first this many characters.

    Returns:
        The topics in sorted order of their names, separated by blank lines.

    Example:
        >>> len(load_python_docs(1000))
        1000
    """
    from pydoc_data.topics import topics

    text = "\n\n".join(topics[name] for name in sorted(topics))
    return text if max_chars is None else text[:max_chars]


def words(text: str) -> list[str]:
    """Lower-case alphabetic words of ``text`` (the word2vec vocabulary's units).

    Example:
        >>> words("The for-loop, and THE while loop.")
        ['the', 'for', 'loop', 'and', 'the', 'while', 'loop']
    """
    return re.findall(r"[a-z]+", text.lower())


def token_blocks(tokens: np.ndarray, block_length: int) -> np.ndarray:
    """Cut a token stream into non-overlapping ``(N, block_length)`` rows (the tail dropped).

    Example:
        >>> token_blocks(np.arange(7), 3).tolist()
        [[0, 1, 2], [3, 4, 5]]
    """
    check_positive_int("block_length", block_length)
    tokens = np.asarray(tokens)
    n = len(tokens) // block_length
    if n == 0:
        raise ValueError(
            f"tokens must hold at least block_length={block_length}, got {len(tokens)}"
        )
    return tokens[: n * block_length].reshape(n, block_length)


class ByteTokenizer:
    """UTF-8 bytes as ids 0..255, then the special tokens.

    Example:
        >>> tokenizer = ByteTokenizer(specials=("<mask>",))
        >>> tokenizer.encode("hé").tolist(), tokenizer.vocab_size, tokenizer.special_id("<mask>")
        ([104, 195, 169], 257, 256)
        >>> tokenizer.decode([104, 195, 169, 256])
        'hé<mask>'
    """

    def __init__(self, specials: tuple[str, ...] = ()):
        self.specials = tuple(specials)
        self.vocab_size = 256 + len(self.specials)

    def special_id(self, name: str) -> int:
        """The id of a special token."""
        if name not in self.specials:
            raise ValueError(f"name must be one of the specials {self.specials}, got {name!r}")
        return 256 + self.specials.index(name)

    def encode(self, text: str) -> np.ndarray:
        """``text`` -> int32 ids."""
        return np.frombuffer(text.encode("utf-8"), np.uint8).astype(np.int32)

    def decode(self, ids) -> str:
        """ids -> text (specials by name; invalid UTF-8 replaced)."""
        out, pending = [], bytearray()
        for i in np.asarray(ids).tolist():
            if i < 256:
                pending.append(i)
                continue
            out.append(pending.decode("utf-8", errors="replace"))
            pending = bytearray()
            out.append(self.specials[i - 256])
        out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)


class BPETokenizer(ByteTokenizer):
    """Byte-level byte-pair encoding, trained here on a text.

    Training starts from the 256 bytes and repeatedly merges the most frequent adjacent
    pair of symbols inside words (a word keeps its leading space), adding one symbol per
    merge until ``vocab_size`` symbols (plus the specials) exist. Encoding applies the
    merges in the order they were learned.

    Example:
        >>> tokenizer = BPETokenizer.train("low lower lowest " * 20, vocab_size=260)
        >>> len(tokenizer.encode(" lowest")) < len(" lowest")
        True
        >>> tokenizer.decode(tokenizer.encode("low lowest"))
        'low lowest'

    Reference: Sennrich, Haddow & Birch, "Neural machine translation of rare words with
    subword units", ACL 2016; Radford et al., 2019 (byte level).
    """

    def __init__(self, merges: list[tuple[int, int]], specials: tuple[str, ...] = ()):
        self.merges = [tuple(m) for m in merges]
        self.ranks = {pair: rank for rank, pair in enumerate(self.merges)}
        self.pieces = [bytes([b]) for b in range(256)]
        for a, b in self.merges:
            self.pieces.append(self.pieces[a] + self.pieces[b])
        self.specials = tuple(specials)
        self.num_symbols = len(self.pieces)
        self.vocab_size = self.num_symbols + len(self.specials)
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(cls, text: str, vocab_size: int, specials: tuple[str, ...] = ()) -> BPETokenizer:
        """Learn ``vocab_size - 256`` merges from ``text``."""
        check_positive_int("vocab_size", vocab_size)
        if vocab_size < 256:
            raise ValueError(f"vocab_size must be >= 256 (the bytes), got {vocab_size}")
        counts = Counter(_WORD.findall(text))
        symbols = [list(word.encode("utf-8")) for word in counts]
        frequency = list(counts.values())
        pairs: Counter = Counter()
        where: dict[tuple[int, int], set[int]] = defaultdict(set)
        for index, (word, count) in enumerate(zip(symbols, frequency, strict=True)):
            for pair in zip(word, word[1:], strict=False):
                pairs[pair] += count
                where[pair].add(index)
        merges = []
        for new in range(256, vocab_size):
            if not pairs:
                break
            best = max(pairs, key=pairs.__getitem__)
            if pairs[best] < 2:
                break
            merges.append(best)
            for index in list(where.pop(best, ())):
                word, count = symbols[index], frequency[index]
                for pair in zip(word, word[1:], strict=False):
                    pairs[pair] -= count
                    if pairs[pair] <= 0:
                        del pairs[pair]
                merged, i = [], 0
                while i < len(word):
                    if i + 1 < len(word) and (word[i], word[i + 1]) == best:
                        merged.append(new)
                        i += 2
                    else:
                        merged.append(word[i])
                        i += 1
                symbols[index] = merged
                for pair in zip(merged, merged[1:], strict=False):
                    pairs[pair] += count
                    where[pair].add(index)
        return cls(merges, specials)

    def special_id(self, name: str) -> int:
        """The id of a special token."""
        if name not in self.specials:
            raise ValueError(f"name must be one of the specials {self.specials}, got {name!r}")
        return self.num_symbols + self.specials.index(name)

    def _encode_word(self, word: str) -> list[int]:
        if word in self._cache:
            return self._cache[word]
        symbols = list(word.encode("utf-8"))
        while len(symbols) > 1:
            ranked = [
                (self.ranks.get(pair, len(self.ranks)), i)
                for i, pair in enumerate(zip(symbols, symbols[1:], strict=False))
            ]
            rank, i = min(ranked)
            if rank == len(self.ranks):
                break
            symbols[i : i + 2] = [256 + rank]
        self._cache[word] = symbols
        return symbols

    def encode(self, text: str) -> np.ndarray:
        """``text`` -> int32 ids."""
        ids = [i for word in _WORD.findall(text) for i in self._encode_word(word)]
        return np.asarray(ids, np.int32)

    def decode(self, ids) -> str:
        """ids -> text."""
        out, pending = [], b""
        for i in np.asarray(ids).tolist():
            if i < self.num_symbols:
                pending += self.pieces[i]
                continue
            out.append(pending.decode("utf-8", errors="replace"))
            pending = b""
            out.append(self.specials[i - self.num_symbols])
        out.append(pending.decode("utf-8", errors="replace"))
        return "".join(out)


__all__ = [
    "BPETokenizer",
    "ByteTokenizer",
    "load_python_docs",
    "token_blocks",
    "words",
]
