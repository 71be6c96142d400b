"""A language-agnostic lexical view of the ask: hashed character n-grams. Numpy only, sans-IO.

The embedding model may read a language poorly (the bundled test model is English-only); the
characters of an ask still say a lot ("migra", "計画", "warum"), in any script. The vector is
deterministic across processes (a polynomial hash over code points, never Python's salted
`hash`), so a head trained in one process reads the same columns in another."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]

NGRAM_SIZES = (2, 3, 4)
NGRAM_BUCKETS = 2048
NGRAM_CHARS = 600
"""Only this many characters of the ask are read (its head: where the request is stated)."""

_MULT = np.uint64(0x100000001B3)
_MIX = np.uint64(0x9E3779B97F4A7C15)


def char_ngrams(text: str, buckets: int = NGRAM_BUCKETS,
                sizes: tuple[int, ...] = NGRAM_SIZES, limit: int = NGRAM_CHARS) -> Vector:
    """Hashed character n-gram counts of `text` (lowercased, whitespace collapsed, padded with
    a space), log-scaled and L2-normalised; zeros for an empty text."""
    vec = np.zeros(buckets, dtype=np.float32)
    clean = " ".join(text[:limit].lower().split())
    if not clean:
        return vec
    codes = np.frombuffer(f" {clean} ".encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    with np.errstate(over="ignore"):
        for n in sizes:
            if len(codes) < n:
                continue
            h = np.full(len(codes) - n + 1, np.uint64(n), dtype=np.uint64)
            for j in range(n):
                h = (h * _MULT) ^ codes[j:len(codes) - n + 1 + j]
            h = (h * _MIX) >> np.uint64(32)
            vec += np.bincount((h % np.uint64(buckets)).astype(np.int64),
                               minlength=buckets).astype(np.float32)
    vec = np.log1p(vec)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec
