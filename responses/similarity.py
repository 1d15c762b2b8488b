"""How much an incident's posts resemble each library entry: the shared sentence encoder (default) or BM25.

Measured on the demo (bench/responses_rank.py): both put the right entry first for every event window, but only
the encoder keeps unrelated chatter apart (BM25 over a handful of entries gives generic COVID words too much
weight, so background windows "match" the longest entry). The encoder needs the bundled ONNX model; where it
cannot be loaded, ranking falls back to BM25 and says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from responses.model import Entry
from responses.rank import Similarity, bm25_scores, strip

log = logging.getLogger(__name__)
MIN_COSINE = 0.35  # a post counts towards an entry only from this cosine with the entry's closest text


class EncoderSimilarity:
    """Cosine of each post with each entry's closest text (title, each message, each linked claim), zero below
    MIN_COSINE. Entry embeddings are kept per (entry, version); posts are embedded on each call."""

    def __init__(self, models_dir: Path | None = None) -> None:
        from classifiers.models import ModelSet

        self.encoder = ModelSet(models_dir).encoder
        self._entries: dict[tuple[str, int], np.ndarray] = {}

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.encoder([strip(t) for t in texts])["embedding"]
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)

    def _entry(self, entry: Entry) -> np.ndarray:
        key = (entry.response_id, entry.version)
        if key not in self._entries:
            texts = [entry.title, *entry.claim_texts, *(t for ch in entry.messages.values() for t in ch.values())]
            self._entries[key] = self.embed(texts)
        return self._entries[key]

    def __call__(self, entries: Sequence[Entry], posts: Sequence[str]) -> np.ndarray:
        if not entries or not posts:
            return np.zeros((len(posts), len(entries)), dtype=np.float32)
        found = self.embed(posts)
        cosine = np.stack([(found @ self._entry(e).T).max(axis=1) for e in entries], axis=1)
        return np.where(cosine >= MIN_COSINE, cosine, 0.0).astype(np.float32)


def best_available(models_dir: Path | None = None) -> tuple[Similarity, str]:
    """The encoder if its model loads, else BM25; with the method's name for the page to show."""
    try:
        return EncoderSimilarity(models_dir), "sentence encoder"
    except Exception as e:  # a missing or broken model must not cost staff their suggestions
        log.warning("responses: the sentence encoder is not available (%s); ranking with BM25", e)
        return bm25_scores, "BM25 (the sentence encoder could not be loaded)"
