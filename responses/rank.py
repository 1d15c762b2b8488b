"""Which approved responses fit an incident, best first.

1. Entries linked to one of the incident's claims (rumour-register ids) come first.
2. Then by similarity to the incident's evidence: each evidence post is scored against every entry (by default
   the cosine of sentence-encoder embeddings, `responses.similarity`; or BM25 over the entry's title, messages and
   linked claims' text) and votes for its best match; an entry's similarity is the share of posts that voted for
   it, which reads plainly ("62 % of the posts match it best"). bench/responses_rank.py compares the two.
3. A topic or watch in common adds a little (TOPIC_BONUS each, at most two) and breaks ties.

An entry fits when it is linked to one of the incident's claims, or when its similarity reaches `min_similarity`
(or half of it, with a topic or watch in common). Retired entries and drafts never reach this module: it is
given approved versions only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from responses.model import Entry, IncidentContext, Suggestion

TOPIC_BONUS = 0.05
MIN_SIMILARITY = 0.5  # default; settings: [responses] min_similarity
URL = re.compile(r"https?://\S+")  # as alerts.text strips links
Similarity = Callable[[Sequence[Entry], Sequence[str]], np.ndarray]  # (entries, posts) -> (posts x entries) scores


def strip(text: str) -> str:
    """Text to compare: links and placeholder braces out (`{agency}` is not a word residents use)."""
    return URL.sub(" ", text.replace("{", " ").replace("}", " "))


def bm25_scores(entries: Sequence[Entry], posts: Sequence[str]) -> np.ndarray:
    """BM25 score of every entry for every post (posts x entries); stop words out, no stemming."""
    import bm25s

    scores = np.zeros((len(posts), len(entries)), dtype=np.float32)
    if not entries or not posts:
        return scores
    corpus = bm25s.tokenize([strip(e.text()) for e in entries], stopwords="en", show_progress=False)
    index = bm25s.BM25(k1=1.2, b=0.75)
    index.index(corpus, show_progress=False)
    vocab = corpus.vocab
    queries = bm25s.tokenize([strip(p) for p in posts], stopwords="en", return_ids=False, show_progress=False)
    for row, words in enumerate(queries):
        known = [w for w in words if w in vocab]
        if known:
            scores[row] = index.get_scores(known)
    return scores


def votes(scores: np.ndarray) -> np.ndarray:
    """Share of posts whose best-scoring entry is each entry (posts that match nothing vote for none)."""
    if scores.size == 0:
        return np.zeros(scores.shape[1] if scores.ndim == 2 else 0)
    best = scores.argmax(axis=1)
    matched = scores.max(axis=1) > 0
    return np.bincount(best[matched], minlength=scores.shape[1]) / len(scores)


def rank(entries: Sequence[Entry], context: IncidentContext, min_similarity: float = MIN_SIMILARITY,
         limit: int = 5, similarity: Similarity = bm25_scores) -> list[Suggestion]:
    """The entries that fit the incident, best first (at most `limit`)."""
    shares = votes(similarity(entries, list(context.evidence_texts))) if context.evidence_texts else \
        np.zeros(len(entries))
    claims, labels = set(context.claim_ids), set(context.topics) | set(context.watches)
    found = []
    for entry, share in zip(entries, shares, strict=True):
        linked = tuple(c for c in entry.claim_ids if c in claims)
        shared = tuple(sorted((set(entry.topics) | set(entry.watches)) & labels))
        if linked or share >= min_similarity or (shared and share >= min_similarity / 2):
            found.append(Suggestion(entry, linked, round(float(share), 3), shared))
    found.sort(key=_order)
    return found[:limit]


def _order(s: Suggestion) -> tuple[int, float, str]:
    return (0 if s.linked_claims else 1, -(s.similarity + TOPIC_BONUS * min(len(s.shared), 2)), s.entry.title)
