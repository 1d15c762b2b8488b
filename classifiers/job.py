"""The scheduled labelling job: posts without current labels -> the Labeller -> the labels table.

Each run labels batches, newest posts first, until nothing is pending or its time budget is spent; it runs through
the one runner (runner.py), recorded in the run log (source "classify"). The job reads and writes through a
`LabelStore` (storage.label_store), never a database connection. Topic definitions and the claims table are part
of the label versions, so editing a topic relabels topics and a new fact-check re-matches recent posts.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa

from classifiers import Claim, Labeller, Labels, Topic
from core.runs import Job, Progress
from runner import Runner
from settings import Settings
from storage.db import Database
from storage.label_store import LabelStore, ModelTags


def topics_from(settings: Settings) -> tuple[Topic, ...]:
    return tuple(Topic(t.name, t.description, t.examples, t.keywords) for t in settings.topics)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


class LabelJob:
    def __init__(self, store: LabelStore | Database, settings: Settings, clock: Callable[[], datetime],
                 labeller: Labeller | None = None,
                 on_labelled: Callable[[list[dict[str, Any]]], None] | None = None) -> None:
        """`store`: the label store (a Database is wrapped in its own: the relabel command and tests hold one)."""
        self.store = store if isinstance(store, LabelStore) else LabelStore(store)
        self.settings, self.clock = settings, clock
        self.on_labelled = on_labelled  # called with each batch's label rows once stored (detection's fast path)
        self.topics = topics_from(settings)
        models = settings.classify.models_dir
        self.labeller = labeller or Labeller(topics=self.topics, models_dir=models and settings.path(models))
        self._claims_version: str | None = None

    def tags(self, claims_version: str) -> ModelTags:
        m = self.labeller.models
        return ModelTags(
            sentiment=m["sentiment"],
            topics=f"{m['topics']}#topics:{_digest([t.__dict__ for t in self.topics])}",
            misinfo=f"{m['misinfo']}|{m['claims']}#claims:{_digest(claims_version)}",
        )

    def _refresh_claims(self) -> str:
        version = self.store.claims_version()
        if version != self._claims_version:
            self.labeller.set_claims([Claim(**row) for row in self.store.claims()])
            self._claims_version = version
        return version

    def job(self) -> Job:
        """The engine's scheduled job: one run labels until nothing is pending or the time budget is spent."""
        return Job("classify", "classify", "classify", self.settings.classify.every_seconds, self.work)

    def run(self) -> int:
        """One recorded run, now; returns the number of posts labelled (a failure is recorded, not raised)."""
        run = Runner(self.store.runs).run(self.job())
        return 0 if run is None else run.items

    def work(self, progress: Progress) -> None:
        cfg, started = self.settings.classify, time.monotonic()
        while time.monotonic() - started < cfg.max_seconds_per_run:
            tags = self.tags(self._refresh_claims())
            since = self.clock() - timedelta(days=cfg.rematch_days)
            batch = self.store.pending(tags, since, cfg.batch_size)
            if not batch.num_rows:
                break
            self._label(batch, tags)
            progress.add(items=batch.num_rows)

    def _label(self, batch: pa.Table, tags: ModelTags) -> None:
        posts = batch.to_pylist()
        results = self.labeller.label([p["text"] for p in posts])
        keep_vectors_after = self.clock() - timedelta(days=self.settings.classify.embedding_days)
        rows = [label_row(p, r, tags) for p, r in zip(posts, results, strict=True)]
        vectors = [
            {"platform": p["platform"], "post_id": p["post_id"], "created_at": p["created_at"],
             "model": self.labeller.models["embedding"], "vector": r.embedding.tolist()}
            for p, r in zip(posts, results, strict=True)
            if r.embedding is not None and p["created_at"] >= keep_vectors_after
        ]
        self.store.write(rows, vectors)
        if self.on_labelled is not None:
            self.on_labelled(rows)


def label_row(post: dict[str, Any], labels: Labels, tags: ModelTags) -> dict[str, Any]:
    return {
        "platform": post["platform"],
        "post_id": post["post_id"],
        "created_at": post["created_at"],
        "lang": labels.lang,
        "sentiment": labels.sentiment,
        "sentiment_score": labels.sentiment_score,
        "topics": [{"name": k, "score": float(v)} for k, v in labels.topics.items()],
        "misinfo_score": labels.misinfo_score,
        "matched_claim_id": labels.matched_claim_id,
        "matched_claim_score": labels.matched_claim_score,
        "misinfo_reason": labels.misinfo_reason,
        "sentiment_model": tags.sentiment,
        "topics_model": tags.topics,
        "misinfo_model": tags.misinfo,
    }
