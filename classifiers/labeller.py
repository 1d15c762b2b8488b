"""The Labeller: loads each model once, encodes each post once per model, and returns typed Labels."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np

from . import Claim, Labels, Topic
from .claims import ClaimIndex, Match, Reranking, match
from .misinfo import Evidence, claim_evidence, combine, reason
from .models import ModelSet
from .posts import PreparedBatch, prepare
from .runtime import BATCH_SIZE
from .sentiment import sentiment_labels
from .topics import TopicScorer


class Labeller:
    """Create once per process; ``label`` may be called any number of times. Models load on first use."""

    def __init__(
        self, topics: Sequence[Topic] = (), claims: Sequence[Claim] = (), models_dir: Path | None = None
    ) -> None:
        self.model_set = ModelSet(models_dir)
        self.model_set.check()  # fail at start-up with the rebuild command, not on the first post
        self._topics = tuple(topics)
        self._claims = tuple(claims)
        self._replaced_index: ClaimIndex | None = None  # its claim embeddings are reused by the next index

    @property
    def models(self) -> dict[str, str]:
        """task -> "name@version" of the models that task's labels depend on; relabel when it changes."""
        return self.model_set.tags()

    @cached_property
    def _side(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(1, thread_name_prefix="textcls")

    @cached_property
    def topic_scorer(self) -> TopicScorer:
        return TopicScorer(self._topics, self.model_set.encoder)

    @cached_property
    def claim_index(self) -> ClaimIndex:
        index = ClaimIndex(self._claims, self.model_set.encoder, previous=self._replaced_index)
        self._replaced_index = None
        return index

    @cached_property
    def reranking(self) -> Reranking:
        return Reranking.from_config(self.model_set.reranker.config)

    def set_claims(self, claims: Sequence[Claim]) -> None:
        """Replace the claims table (re-indexed on the next ``label`` call)."""
        self._claims = tuple(claims)
        self._replaced_index = self.__dict__.pop("claim_index", None) or self._replaced_index

    def embed(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """The shared sentence embedding alone (zero rows for texts without words)."""
        return self._embed(prepare(texts), batch_size)

    def label(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[Labels]:
        batch = prepare(texts)
        classified = self._side.submit(self._classify, batch, batch_size)  # the two passes run side by side
        emb = self._embed(batch, batch_size)
        sent_logits, mis_logits = classified.result()
        scored = batch.scored
        topics = dict(zip(scored, self.topic_scorer.assign([batch.raw[i] for i in scored], emb[scored]),
                          strict=True))
        mis = self.model_set.misinfo.evidence(mis_logits[scored], [batch.cls_text[i] for i in scored], emb[scored])
        misinfo = {r: (mis, j) for j, r in enumerate(scored)}
        matches = self._match(batch, emb)
        sentiments = dict(zip(batch.sentiment_rows,
                              sentiment_labels(sent_logits[batch.sentiment_rows], self._sentiment_config,
                                               emb[batch.sentiment_rows]),
                              strict=True))
        embedded = set(batch.embed_rows.tolist())
        return [self._assemble(batch, i, sentiments, topics, misinfo, matches, emb if i in embedded else None)
                for i in range(len(batch.raw))]

    @property
    def _sentiment_config(self) -> dict:
        return self.model_set.textcls.config["sentiment"]

    def _classify(self, batch: PreparedBatch, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        n, rows = len(batch.raw), batch.sentiment_rows
        sent, mis = np.zeros((n, 3), np.float32), np.zeros((n, 2), np.float32)
        if len(rows):
            model = self.model_set.textcls
            out = model.run(model.tokenize([batch.cls_text[i] for i in rows]), batch_size)
            sent[rows], mis[rows] = out["sentiment_logits"], out["misinfo_logits"]
        return sent, mis

    def _embed(self, batch: PreparedBatch, batch_size: int) -> np.ndarray:
        emb = np.zeros((len(batch.raw), int(self.model_set.encoder.config["dim"])), np.float32)
        if len(batch.embed_rows):
            emb[batch.embed_rows] = self.model_set.encoder([batch.ret_text[i] for i in batch.embed_rows],
                                                           batch_size)["embedding"]
        return emb

    def claim_matches(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> list[list[Match]]:
        """The labelling path's re-ranked matches per text, best first (``label`` stores the first); [] for a text
        that is unscored or below the cosine gate, or when there is no claims table."""
        batch = prepare(texts)
        return self._ranked(batch, self._embed(batch, batch_size))

    def _ranked(self, batch: PreparedBatch, emb: np.ndarray) -> list[list[Match]]:
        out: list[list[Match]] = [[] for _ in batch.raw]
        if self._claims:
            rows = batch.scored
            found = match(self.claim_index, self.model_set.reranker, self.reranking,
                          [batch.ret_text[i] for i in rows], emb[rows])
            for r, m in zip(rows, found, strict=True):
                out[r] = m
        return out

    def _match(self, batch: PreparedBatch, emb: np.ndarray) -> dict[int, Match | None]:
        if not self._claims:
            return {}
        ranked = self._ranked(batch, emb)
        return {r: (ranked[r][0] if ranked[r] else None) for r in batch.scored}

    def _assemble(self, batch, i, sentiments, topics, misinfo, matches, emb) -> Labels:  # type: ignore[no-untyped-def]
        sentiment, sentiment_score = sentiments.get(i, (None, None))
        found = matches.get(i)
        claim = self.claim_index.claims[found.claim_index] if found else None
        claim_score = found.score if found else (0.0 if i in matches else None)
        score, why = misinfo_of(misinfo.get(i), claim, claim_score)
        return Labels(
            lang=batch.lang[i],
            sentiment=sentiment,
            sentiment_score=sentiment_score,
            topics=topics.get(i, {}),
            misinfo_score=score,
            matched_claim_id=claim.claim_id if claim else None,
            matched_claim_score=claim_score,
            misinfo_reason=why,
            embedding=None if emb is None else emb[i],
        )


def misinfo_of(evidence: tuple[Evidence, int] | None, claim: Claim | None, claim_score: float | None
               ) -> tuple[float | None, str | None]:
    """The post's final score (text evidence combined with a false-claim match) and its reason."""
    if evidence is None:
        return None, None
    ev, j = evidence
    match = claim_evidence(claim_score if claim else None, claim.rating if claim else None)
    score = round(combine(float(ev.score[j]), match), 4)
    parts = {"covid": float(ev.covid[j]), "claims": float(ev.claims[j])}
    return score, reason(score, parts, ev.gate[j], describe(claim), match)


def describe(claim: Claim | None) -> str | None:
    if claim is None:
        return None
    extra = ", ".join(x for x in (f"rated {claim.rating}" if claim.rating else "", claim.url or "") if x)
    return f"{claim.claim_id} \"{claim.text[:80]}\"" + (f" [{extra}]" if extra else "")
