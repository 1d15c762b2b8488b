"""Grouping similar posts: exact copies, near-duplicates (MinHash over word pairs) and embedding neighbours.

Near-duplicates: posts whose sets of adjacent content-word pairs overlap by at least a Jaccard threshold, found
with MinHash locality-sensitive hashing (16 bands of 2 rows over the first 32 of 64 hashes), screened with the
Jaccard estimate of all 64 (vectorised), then checked exactly for the few pairs the estimate lets through.
Embeddings: cosine at least a threshold, computed exactly in blocks among up to `MAX_EMBEDDED` posts. Groups are
the connected components.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from alerts.text import normalised, pairs, tokens

BANDS, ROWS, HASHES = 16, 2, 64
MAX_EMBEDDED = 4000
_rng = np.random.default_rng(20260501)
# multiply-shift hashing on 64-bit words (wrapping multiplication, high bits kept): one random odd multiplier and
# offset per hash function; a linear hash modulo a prime would order small keys the same way for every function
_A = _rng.integers(0, 1 << 63, HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _rng.integers(0, 1 << 63, HASHES, dtype=np.uint64)


class UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = np.arange(size)

    def find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[i] != root:
            self.parent[i], i = root, self.parent[i]
        return int(root)

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    def labels(self) -> np.ndarray:
        return np.array([self.find(i) for i in range(len(self.parent))])


def shingles(texts: Sequence[str]) -> list[frozenset[int]]:
    """Each text's word pairs as 31-bit hashes (stable across runs)."""
    return [frozenset(zlib.crc32(p.encode()) & 0x7FFFFFFF for p in pairs(tokens(t))) for t in texts]


def minhash(sets: Sequence[frozenset[int]]) -> np.ndarray:
    """(len(sets), HASHES) signatures; an empty set gets a unique signature of its own."""
    empty = np.iinfo(np.uint64).max - np.arange(len(sets), dtype=np.uint64)
    signature = np.repeat(empty[:, None], HASHES, axis=1)
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    filled = np.flatnonzero(sizes)
    if len(filled):
        flat = np.fromiter((h for s in sets for h in s), dtype=np.uint64, count=int(sizes.sum()))
        with np.errstate(over="ignore"):
            hashed = (_A[:, None] * flat[None, :] + _B[:, None]) >> np.uint64(16)  # (HASHES, all pairs)
        starts = np.concatenate([[0], np.cumsum(sizes[filled])[:-1]])
        signature[filled] = np.minimum.reduceat(hashed, starts, axis=1).T
    return signature


def near_duplicate_edges(sets: Sequence[frozenset[int]], threshold: float) -> list[tuple[int, int]]:
    """Pairs of texts whose word-pair Jaccard is at least `threshold`: each text against the first text of every
    LSH bucket it falls in, kept when the signatures' estimate of their Jaccard reaches the threshold."""
    signature = minhash(sets)
    firsts, members = [], []
    for band in range(BANDS):
        a, b = signature[:, band * ROWS], signature[:, band * ROWS + 1]
        with np.errstate(over="ignore"):
            key = a * np.uint64(1_000_003) + b
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        representative = first[inverse.ravel()]
        linked = representative != np.arange(len(sets))
        firsts.append(representative[linked])
        members.append(np.flatnonzero(linked))
    left, right = np.concatenate(firsts or [np.array([], int)]), np.concatenate(members or [np.array([], int)])
    estimate = (signature[left] == signature[right]).mean(axis=1) if len(left) else np.array([])
    likely = estimate >= threshold * 0.75  # generous, then checked exactly: the estimate errs by about 0.06
    pairs = zip(left[likely].tolist(), right[likely].tolist(), strict=True)
    return [(a, b) for a, b in pairs if _jaccard(sets[a], sets[b]) >= threshold]


def _jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def embedding_edges(vectors: np.ndarray, rows: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """Pairs (of `rows` indices) whose unit-normalised vectors have cosine at least `threshold`."""
    if len(rows) > MAX_EMBEDDED:
        rows, vectors = rows[-MAX_EMBEDDED:], vectors[-MAX_EMBEDDED:]
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    edges: list[tuple[int, int]] = []
    for start in range(0, len(unit), 1024):
        block = unit[start:start + 1024] @ unit.T
        a, b = np.nonzero(block >= threshold)
        keep = a + start < b
        edges += list(zip(rows[a[keep] + start].tolist(), rows[b[keep]].tolist(), strict=True))
    return edges


def group(texts: Sequence[str], vectors: Sequence[np.ndarray | None], text_threshold: float,
          embedding_threshold: float) -> np.ndarray:
    """A group label per post: copies, near-duplicates and embedding neighbours end in one group."""
    keys = [normalised(t) for t in texts]
    distinct = {k: i for i, k in reversed(list(enumerate(keys)))}  # each distinct text's first post
    first = np.array([distinct[k] for k in keys])
    found = UnionFind(len(texts))
    for i, j in enumerate(first):
        found.union(i, int(j))
    reps = sorted(distinct.values())
    for a, b in near_duplicate_edges(shingles([texts[i] for i in reps]), text_threshold):
        found.union(reps[a], reps[b])
    embedded = np.array([i for i, v in enumerate(vectors) if v is not None], dtype=int)
    if len(embedded) > 1:
        matrix = np.stack([np.asarray(vectors[i], dtype=np.float32) for i in embedded])
        for a, b in embedding_edges(matrix, embedded, embedding_threshold):
            found.union(a, b)
    return found.labels()
