"""Zero-shot topics: cosine similarity of the post embedding to each topic's description and examples, plus keywords.

The similarity becomes a score with a logistic curve (``CENTER``, ``SCALE``; training/fit_topics.py, from
TweetEval stance *train* with its five targets as topics). A topic is assigned when its score is >= ``THRESHOLD``
and its similarity is within ``MARGIN`` of the post's best topic (posts rarely belong to several topics; the
runner-up of a clear winner is noise), or when one of its keywords occurs. A post with no topic gets
``{"other": 1 - best score}``.
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

CENTER = 0.13  # cosine at which a topic scores 0.5 (training/fit_topics.py)
SCALE = 0.09
MARGIN = 0.03
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

    def scores(self, texts: Sequence[str], embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score per (post, topic), and whether the topic is close enough to the post's best to be assigned."""
        sims = self.similarity(embeddings)
        probs = 1.0 / (1.0 + np.exp(-(sims - CENTER) / SCALE))
        close = sims >= sims.max(axis=1, keepdims=True) - MARGIN
        for k, pattern in enumerate(self.keywords):
            if pattern is not None:
                hits = np.array([pattern.search(t) is not None for t in texts], dtype=bool)
                probs[hits, k] = np.maximum(probs[hits, k], KEYWORD_FLOOR)
                close[hits, k] = True
        return probs, close

    def assign(self, texts: Sequence[str], embeddings: np.ndarray) -> list[dict[str, float]]:
        if not self.topics:
            return [{} for _ in texts]
        probs, close = self.scores(texts, embeddings)
        return [as_labels(p, c, self.topics) for p, c in zip(probs, close, strict=True)]


def as_labels(row: np.ndarray, close: np.ndarray, topics: Sequence[Topic]) -> dict[str, float]:
    chosen = {t.name: round(float(s), 4) for t, s, c in zip(topics, row, close, strict=True) if s >= THRESHOLD and c}
    return chosen or {OTHER: round(float(1.0 - row.max()), 4)}


def keyword_pattern(keywords: Sequence[str]) -> re.Pattern[str] | None:
    words = [re.escape(k.strip()) for k in keywords if k.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)
