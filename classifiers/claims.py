"""Claim matching: hybrid BM25 + embedding retrieval, then a cross-encoder re-ranks the top candidates.

First stage: per post, cosine similarity to every claim and BM25 over the claim texts, each standardised over the
claims table and summed (``BM25_WEIGHT``). Second stage: the cross-encoder scores (post, claim) pairs for the top
``rerank_k``; its logit, combined with the first-stage score, gives a match probability (weights fitted on train
queries held out from the cross-encoder's own training; see training/train_reranker.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from .runtime import BATCH_SIZE, THREADS, OnnxModel
from .text import retrieval_text

if TYPE_CHECKING:
    from . import Claim

BM25_WEIGHT = 0.5
PAIR_MAX_LEN = 192
# The labelling path re-ranks the first-stage top ``label_k`` of posts with some claim at cosine >= ``label_gate``
# (the re-ranker's config.json; chosen by cross-validation inside CheckThat! train against the cross-encoder's
# cost per ordinary post in training/fit_claims_live.py). These defaults serve a config without them.
LABEL_K = 2
LABEL_GATE = 0.5


@dataclass(frozen=True)
class Match:
    claim_index: int
    score: float  # match probability from the re-ranker, or the first-stage score when there is none


class ClaimIndex:
    def __init__(self, claims: Sequence[Claim], encoder: OnnxModel, batch_size: int = BATCH_SIZE,
                 previous: ClaimIndex | None = None) -> None:
        """`previous`: the index this one replaces; claims whose text it already embedded are not encoded again
        (a fact-check source adding ten claims to 14k re-encodes ten, not 14k)."""
        import bm25s

        self.claims = list(claims)
        self.texts = [retrieval_text(c.text) for c in self.claims]
        self.embeddings: np.ndarray
        dim = int(encoder.config["dim"])
        known = dict(zip(previous.texts, previous.embeddings, strict=True)) if previous is not None else {}
        new = list(dict.fromkeys(t for t in self.texts if t not in known))
        if new:
            known.update(zip(new, encoder(new, batch_size, workers=THREADS)["embedding"], strict=True))
        self.embeddings = np.stack([known[t] for t in self.texts]) if self.claims else np.zeros((0, dim))
        # cosine mean / variance over the table for any query, without the (queries x claims) pass
        self.centre = self.embeddings.mean(axis=0) if self.claims else np.zeros(dim)
        self.covariance = np.cov(self.embeddings, rowvar=False, bias=True) if len(self.claims) > 1 else None
        self.vocab: dict[str, int] = {}
        self.weights = sparse.csr_matrix((0, len(self.claims)), dtype=np.float32)  # BM25 weight per (term, claim)
        if self.claims:
            corpus = bm25s.tokenize(self.texts, stopwords="en", show_progress=False)
            bm25 = bm25s.BM25(k1=1.2, b=0.75)
            bm25.index(corpus, show_progress=False)
            self.vocab = dict(corpus.vocab)
            s = bm25.scores
            self.weights = sparse.csr_matrix((s["data"], s["indices"], s["indptr"]),
                                             shape=(len(s["indptr"]) - 1, s["num_docs"]))

    def __len__(self) -> int:
        return len(self.claims)

    def lexical(self, queries: Sequence[str]) -> sparse.csr_matrix:
        """BM25 score of every claim for every query, as one sparse product."""
        import bm25s

        rows, cols = [], []
        for row, toks in enumerate(bm25s.tokenize(list(queries), stopwords="en", return_ids=False,
                                                  show_progress=False)):
            known = [self.vocab[t] for t in toks if t in self.vocab]
            rows += [row] * len(known)
            cols += known
        query = sparse.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                  shape=(len(queries), self.weights.shape[0]))
        return (query @ self.weights).tocoo()

    def candidates(self, queries: Sequence[str], embeddings: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k claim indices per query and their first-stage scores, best first (see ``first_stage``)."""
        top, scores, _ = self.first_stage(queries, embeddings, k)
        return top, scores

    def first_stage(self, queries: Sequence[str], embeddings: np.ndarray, k: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Top-k claim indices per query and their first-stage scores, best first, and each query's best cosine.

        The first-stage score is z(cosine) + BM25_WEIGHT * z(BM25), z-scored per query over the claims table.
        The per-query means only shift a row, so ranking needs just the two scales; the means are added back
        for the k candidates alone (with 14k claims, three full passes fewer per post).
        """
        n, total = len(queries), len(self.claims)
        cos_mean, cos_std = embeddings @ self.centre, self._cosine_std(embeddings)
        bm = self.lexical(queries)
        bm_mean = np.bincount(bm.row, bm.data, n) / total
        bm_std = np.sqrt(np.maximum(np.bincount(bm.row, bm.data**2, n) / total - bm_mean**2, 0)) + 1e-6
        rank = embeddings @ self.embeddings.T
        best = rank.max(axis=1)
        rank *= (1.0 / cos_std)[:, None]
        rank[bm.row, bm.col] += BM25_WEIGHT * bm.data / bm_std[bm.row]  # a product's entries are unique
        k = min(k, total)
        top = np.argpartition(-rank, k - 1, axis=1)[:, :k]
        scores = np.take_along_axis(rank, top, 1) - (cos_mean / cos_std + BM25_WEIGHT * bm_mean / bm_std)[:, None]
        order = np.argsort(-scores, axis=1)
        return (np.take_along_axis(top, order, 1), np.take_along_axis(scores, order, 1).astype(np.float32),
                best.astype(np.float32))

    def _cosine_std(self, embeddings: np.ndarray) -> np.ndarray:
        if self.covariance is None:
            return np.ones(len(embeddings))
        var = np.einsum("nd,de,ne->n", embeddings, self.covariance, embeddings)
        return np.sqrt(np.maximum(var, 0)) + 1e-6


def standardise(scores: np.ndarray) -> np.ndarray:
    """Per-query z-score over the claims table: puts cosine and BM25 on one scale."""
    if scores.shape[1] < 2:
        return scores - scores.mean(1, keepdims=True)
    return (scores - scores.mean(1, keepdims=True)) / (scores.std(1, keepdims=True) + 1e-6)


def pair_ids(reranker: OnnxModel, query: str, claim: str) -> list[int]:
    """[CLS] post [SEP] claim [SEP], the post cut first when the pair is too long."""
    q = reranker.tokenizer.encode(query, add_special_tokens=False).ids
    c = reranker.tokenizer.encode(claim, add_special_tokens=False).ids[: PAIR_MAX_LEN // 2]
    q = q[: PAIR_MAX_LEN - 3 - len(c)]
    return [101, *q, 102, *c, 102]


def rerank(reranker: OnnxModel, queries: Sequence[str], claim_texts: Sequence[Sequence[str]]) -> np.ndarray:
    """Cross-encoder logits, one row per query and one column per candidate claim."""
    pairs = [pair_ids(reranker, q, c) for q, cands in zip(queries, claim_texts, strict=True) for c in cands]
    if not pairs:
        return np.zeros((len(queries), 0), dtype=np.float32)
    logits = reranker.run(pairs)["score"]
    return logits.reshape(len(queries), -1)


@dataclass(frozen=True)
class LearnedGate:
    """Which posts the labelling path re-ranks: a logistic regression fitted in training/fit_claims_gate.py
    (CheckThat! train queries against ordinary tweets). Log-odds = weights . [first-stage top-1 score, its margin
    to the 2nd, best cosine, then the post's embedding when ``embedding``] + intercept; passes at >= threshold."""

    weights: np.ndarray
    intercept: float
    threshold: float
    embedding: bool

    @classmethod
    def from_config(cls, config: dict | None) -> LearnedGate | None:
        if not config:
            return None
        return cls(np.asarray(config["weights"], np.float32), float(config["intercept"]), float(config["threshold"]),
                   config["features"] == "scores+embedding")

    def passes(self, first: np.ndarray, best: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        margin = first[:, 0] - first[:, 1] if first.shape[1] > 1 else np.zeros(len(first), np.float32)
        x = np.stack([first[:, 0], margin, best], axis=1)
        if self.embedding:
            x = np.hstack([x, embeddings])
        return x @ self.weights + self.intercept >= self.threshold


@dataclass(frozen=True)
class Reranking:
    """The re-ranker's settings from its config.json (fitted in training/train_reranker.py)."""

    fusion: tuple[float, float]  # ranking score = ce + fusion[1] / fusion[0] * first-stage score
    platt: tuple[float, float]  # match probability = sigmoid(platt[0] * ce + platt[1])
    k: int  # candidates re-ranked by match-claims (every query)
    gate: float  # the fitted floor: 2nd percentile of the gold claim's cosine on train queries
    label_k: int = LABEL_K  # candidates re-ranked per post by the labelling path
    label_gate: float = LABEL_GATE  # the labelling path re-ranks only posts with some claim at cosine >= this
    learned: LearnedGate | None = None  # and, when the config has one, that this gate passes

    @classmethod
    def from_config(cls, config: dict) -> Reranking:
        f, p = config["fusion"], config["platt"]
        gate = config["gate_cosine"]
        return cls((f["ce"], f["first"]), (p["slope"], p["intercept"]), config["rerank_k"], gate,
                   int(config.get("label_k", LABEL_K)), max(gate, float(config.get("label_gate", LABEL_GATE))),
                   LearnedGate.from_config(config.get("label_gate_model")))


def match(
    index: ClaimIndex, reranker: OnnxModel, settings: Reranking, queries: Sequence[str], embeddings: np.ndarray,
    *, k: int | None = None, gated: bool = True,
) -> list[list[Match]]:
    """Re-ranked candidates per query, best first, with match probabilities.

    Gated (the labelling path, ``k`` defaults to ``settings.label_k``): only posts with some claim at cosine >=
    ``settings.label_gate`` (and passing ``settings.learned`` when there is one) are re-ranked; the others get []
    (nothing plausible). Ungated (match-claims): every query.
    """
    k = settings.label_k if k is None else k
    out: list[list[Match]] = [[] for _ in queries]
    if not len(index) or not len(queries):
        return out
    rows = np.arange(len(queries))
    if gated:  # the cosine floor on every post (one product); the first stage (BM25 too) only for those it passes
        rows = np.flatnonzero((embeddings @ index.embeddings.T).max(axis=1) >= settings.label_gate)
    if not len(rows):
        return out
    cands, first, best = index.first_stage([queries[int(r)] for r in rows], embeddings[rows], max(k, 2))
    if gated and settings.learned is not None:
        keep = np.flatnonzero(settings.learned.passes(first, best, embeddings[rows]))
        rows, cands, first = rows[keep], cands[keep], first[keep]
    if not len(rows):
        return out
    picked = [queries[int(r)] for r in rows]
    cands, first = cands[:, :k], first[:, :k]
    ce = rerank(reranker, picked, [[index.texts[c] for c in row] for row in cands])
    for j, r in enumerate(rows):
        out[r] = fuse(settings, cands[j], first[j], ce[j])
    return out


def fuse(settings: Reranking, cands: np.ndarray, first: np.ndarray, ce: np.ndarray) -> list[Match]:
    """One query's candidates ranked by cross-encoder logit + weighted first-stage score, with probabilities."""
    ranking = ce + settings.fusion[1] / settings.fusion[0] * first
    prob = 1.0 / (1.0 + np.exp(-(settings.platt[0] * ce + settings.platt[1])))
    return [Match(int(cands[o]), round(float(prob[o]), 4)) for o in np.argsort(-ranking)]


def join_fields(values: Sequence[str | None]) -> str:
    """Claim-side context from several columns (e.g. title, claim, subtitle) as one text."""
    parts = [v.strip() for v in values if v and v.strip()]
    return " ".join([*(p if p[-1] in ".!?" else p + "." for p in parts[:-1]), *parts[-1:]])
