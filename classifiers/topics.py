"""Zero-shot topics: cosine similarity of the post embedding to each topic's description and examples, plus keywords.

The similarity becomes a score with a logistic curve (``CENTER``, ``SCALE``) fitted on TweetEval stance *train*
(its five targets as topics, see training/fit_topics.py); a topic is assigned at score >= ``THRESHOLD``, and a post
with no topic gets ``{"other": 1 - best score}``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .runtime import OnnxModel
from .text import retrieval_text

if TYPE_CHECKING:
    from . import Topic

CENTER = 0.30  # cosine at which a topic scores 0.5 (training/fit_topics.py)
SCALE = 0.05
THRESHOLD = 0.5
KEYWORD_FLOOR = 0.75  # a keyword hit alone assigns the topic, with this score
OTHER = "other"


class TopicScorer:
    def __init__(self, topics: Sequence[Topic], encoder: OnnxModel) -> None:
        self.topics = list(topics)
        texts, owners = [], []
        for k, topic in enumerate(self.topics):
            for text in (f"{topic.name}. {topic.description}", *topic.examples):
                texts.append(retrieval_text(text))
                owners.append(k)
        self.owners = np.array(owners, dtype=np.int64)
        dim = int(encoder.config["dim"])
        self.vectors = encoder(texts)["embedding"] if texts else np.zeros((0, dim), dtype=np.float32)
        self.keywords = [keyword_pattern(t.keywords) for t in self.topics]

    def similarity(self, embeddings: np.ndarray) -> np.ndarray:
        """Best cosine per (post, topic) over the topic's description and examples."""
        sims = embeddings @ self.vectors.T
        out = np.full((len(embeddings), len(self.topics)), -1.0, dtype=np.float32)
        for k in range(len(self.topics)):
            out[:, k] = sims[:, self.owners == k].max(axis=1)
        return out

    def scores(self, texts: Sequence[str], embeddings: np.ndarray) -> np.ndarray:
        probs = 1.0 / (1.0 + np.exp(-(self.similarity(embeddings) - CENTER) / SCALE))
        for k, pattern in enumerate(self.keywords):
            if pattern is not None:
                hits = np.array([pattern.search(t) is not None for t in texts], dtype=bool)
                probs[hits, k] = np.maximum(probs[hits, k], KEYWORD_FLOOR)
        return probs

    def assign(self, texts: Sequence[str], embeddings: np.ndarray) -> list[dict[str, float]]:
        if not self.topics:
            return [{} for _ in texts]
        return [as_labels(row, self.topics) for row in self.scores(texts, embeddings)]


def as_labels(row: np.ndarray, topics: Sequence[Topic]) -> dict[str, float]:
    chosen = {t.name: round(float(s), 4) for t, s in zip(topics, row, strict=True) if s >= THRESHOLD}
    return chosen or {OTHER: round(float(1.0 - row.max()), 4)}


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    words = [re.escape(k.strip()) for k in keywords if k.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)
