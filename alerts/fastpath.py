"""Detection's fast path: as each labelled batch lands, the series its posts are on are evaluated at once.

The settled pass (`alerts.detect`) evaluates windows ending on the `step_minutes` grid, `settle_minutes` after
they end: an alert comes up to step + settle (7 minutes) after the post that crossed its threshold. The fast path
runs the detectors declared `fast` (volume / sentiment and fact-check) over the window ending at the next whole
minute of the engine clock (the current, still filling window: its counts only grow until it ends, so what fires
now would fire when it settles) and keeps the findings on a watch, topic or claim of the batch's posts, or on all
posts. It stores them as the settled pass does, in one transaction: the same fingerprints, so a situation the fast path
raised is updated (not raised again) by later fast passes and by the settled pass, and it joins or opens its
incident then. It never moves the detection cursor; narratives and coordination stay on the settled grid.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts import registry
from alerts.context import Context
from alerts.detect import PassResult, store_findings
from alerts.model import Finding
from alerts.windows import floor_to
from settings import Settings
from storage import alert_stores
from storage.alert_stores import AlertReader
from storage.db import Database, utcnow

log = logging.getLogger(__name__)
LabelRows = Sequence[dict[str, Any]]  # classifiers.job.label_row rows: platform, post_id, created_at, labels


@dataclass(frozen=True)
class Affected:
    """The series a batch of posts is on."""

    watches: frozenset[str]
    topics: frozenset[str]
    claims: frozenset[str]

    def covers(self, f: Finding) -> bool:
        if f.claim_id:
            return f.claim_id in self.claims
        if f.watch or f.topic:
            return f.watch in self.watches or f.topic in self.topics
        return True  # all posts: every post is on it


def window_end(now: datetime) -> datetime:
    """The next whole minute (now itself when it is one): the end of the window still filling."""
    start = floor_to(now, 1)
    return start if start == now.replace(tzinfo=None) else start + timedelta(minutes=1)


def longest_window(s: Settings) -> timedelta:
    """The longest window of the fast detectors: posts older than that change no current window."""
    rules = registry.Rules(s.alerts, s.file)
    return timedelta(minutes=max(w for d in registry.fast() for w in d.windows(rules)))


def affected(reader: AlertReader, rows: LabelRows, since: datetime, topic_min_score: float) -> Affected:
    recent = [r for r in rows if r["created_at"] >= since]
    topics = {t["name"] for r in recent for t in r["topics"] or () if t["score"] >= topic_min_score}
    claim_ids = {str(r["matched_claim_id"]) for r in recent if r.get("matched_claim_id")}
    keys = [(str(r["platform"]), str(r["post_id"])) for r in recent]
    return Affected(frozenset(reader.batch_watches(keys, since)), frozenset(topics),
                    frozenset(claim_ids))


def evaluate(db: Database, s: Settings, now: datetime, rows: LabelRows,
             wall: Callable[[], datetime] = utcnow) -> PassResult | None:
    """Evaluate the series of a just-labelled batch at the window still filling; None when no post is recent."""
    since = now - longest_window(s)
    if not any(r["created_at"] >= since for r in rows):
        return None  # a relabelled old post changes no current window
    rules = s.alerts.model_copy(update={"step_minutes": 1})  # one-minute buckets: the window ends on any minute
    with alert_stores.reading(db) as reader:
        hit = affected(reader, rows, since, s.alerts.topic_min_score)
        ctx = Context(reader, (window_end(now),), rules, s.zone, reader.first_post_at())
        findings = [f for d in registry.fast() for f in d.detect(ctx) if hit.covers(f)]
    if not findings:
        return PassResult(1, 0)
    return alert_stores.write(db, lambda w: store_findings(w, s, findings, wall()))


def label_hook(db: Database, s: Settings, clock: Callable[[], datetime]) -> Callable[[LabelRows], None] | None:
    """What the labelling job calls after each batch it stores (None when alerts or the fast path are off).

    A pass that stored something is a recorded run ("alerts", "fast"); a failure is a recorded error and never
    stops labelling."""
    if not (s.alerts.enabled and s.alerts.fast_path):
        return None

    def run(rows: LabelRows) -> None:
        try:
            result = evaluate(db, s, clock(), rows)
        except Exception as e:  # the settled pass still runs; the error is shown with the other runs
            log.exception("alerts fast path failed")
            db.finish_run(db.start_run("alerts", "fast"), "error", error=f"{type(e).__name__}: {e}")
            return
        if result is not None and result.recorded:
            counts = result.counts()
            db.finish_run(db.start_run("alerts", "fast"), "ok", items=counts["raised"], details=counts)

    return run
