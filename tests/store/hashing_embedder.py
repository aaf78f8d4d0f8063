"""A fast, deterministic text embedder for tests that are about storage, not about meaning.

Feature hashing of lower-cased words into 64 signed buckets, L2-normalised: similar word bags
get similar vectors, it needs no weights, and 10,000 texts embed in well under a second, so
the crash and multi-process tests measure Chroma's durability rather than MiniLM on 2 cores.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence

_WORD_RE = re.compile(r"\w+")


class HashingTextEmbedder:
    name = "test-hashing-bag-of-words"

    def __init__(self, dimension: int = 64):
        self.dimension = dimension

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._embed_one(text) for text in texts]

    def _embed_one(self, text: str) -> list[float]:
        vector = [0.0] * self.dimension
        for word in _WORD_RE.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dimension
            vector[bucket] += 1.0 if digest[4] & 1 else -1.0
        norm = math.sqrt(sum(value * value for value in vector))
        if norm == 0.0:
            vector[0], norm = 1.0, 1.0
        return [value / norm for value in vector]
