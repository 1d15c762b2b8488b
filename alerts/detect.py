"""One detection pass: every detector over every grid step since the last pass, stored in one transaction.

The steps end at the engine clock (simulated while a demo replay drives it). Findings become alerts (a repeat of
a situation updates its alert), alerts go into incidents (`alerts.incidents`), opened and escalated incidents get
outbox rows for the channels whose rules select them, and the cursor moves to the last step evaluated: all or
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from alerts import claims, coordination, incident_notify, incidents, narratives, volume
from alerts.context import Context
from alerts.model import Finding, Recorded
from alerts.windows import steps_between
from settings import Settings
from storage import alert_scan, alert_store, service_links
from storage.db import Database, utcnow

log = logging.getLogger(__name__)
Detector = Callable[[Context], list[Finding]]
DETECTORS: tuple[Detector, ...] = (volume.detect, claims.detect, coordination.detect, narratives.detect)


@dataclass(frozen=True)
class PassResult:
    steps: int
    skipped: int
    recorded: list[Recorded] = field(default_factory=list)
    deliveries: int = 0
    notices: list[incidents.Notice] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        events, notices = [r.event for r in self.recorded], [n.event for n in self.notices]
        return {"steps": self.steps, "skipped": self.skipped, "findings": len(events),
                "raised": events.count("raised"), "escalated": events.count("escalated"),
                "incidents_opened": notices.count("opened"), "incidents_escalated": notices.count("escalated"),
                "deliveries": self.deliveries}


def run_pass(db: Database, s: Settings, now: datetime, wall: Callable[[], datetime] = utcnow,
             detectors: Sequence[Detector] = DETECTORS) -> PassResult:
    """Evaluate the steps in (last pass, now] and store what they found."""
    con = db.reader()
    steps, skipped = steps_between(alert_store.detect_cursor(con), now, s.alerts.step_minutes,
                                   s.alerts.max_steps_per_pass)
    if skipped:
        log.warning("detection: %d steps older than %s skipped after a pause", skipped, steps[0])
    if not steps:
        return PassResult(0, 0)
    ctx = Context(con, tuple(steps), s.alerts, s.zone, alert_scan.first_post_at(con))
    findings = sorted((f for detect in detectors for f in detect(ctx)), key=lambda f: f.seen_at)
    return db.write(lambda w: _store(w, s, findings, steps[-1], wall(), len(steps), skipped))


def _store(con: duckdb.DuckDBPyConnection, s: Settings, findings: list[Finding], last: datetime, now: datetime,
           steps: int, skipped: int) -> PassResult:
    cooldown = timedelta(minutes=s.alerts.cooldown_minutes)
    recorded = [alert_store.record(con, f, cooldown, now) for f in findings]
    notices = incidents.place(con, recorded, s, now)
    service_links.after_pass(con, s, now)  # 311 requests that agree with an open incident
    deliveries = incident_notify.enqueue(con, notices, s, now)
    alert_store.set_detect_cursor(con, last, now)
    return PassResult(steps, skipped, recorded, deliveries, notices)
