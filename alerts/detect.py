"""One detection pass: every detector over every grid step since the last pass, stored in one transaction.

The steps end at the engine clock (simulated while a demo replay drives it). Findings become alerts (a repeat of
a situation updates its alert), alerts go into incidents (`alerts.incidents`), opened and escalated incidents get
outbox rows for the channels whose rules select them, and the cursor moves to the last step evaluated: all or
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from alerts import incident_notify, incidents, registry
from alerts.context import Context
from alerts.model import Finding, Recorded
from alerts.windows import steps_between
from settings import Settings
from storage import alert_stores
from storage.alert_stores import AlertWriter
from storage.db import Database, utcnow

log = logging.getLogger(__name__)


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
             detectors: Sequence[registry.DetectFn] | None = None) -> PassResult:
    """Evaluate the steps in (last pass, now] with every registered detector (or `detectors`) and store what they
    found."""
    run = [d.detect for d in registry.detectors()] if detectors is None else detectors
    with alert_stores.reading(db) as reader:
        steps, skipped = steps_between(reader.detect_cursor(), now, s.alerts.step_minutes,
                                       s.alerts.max_steps_per_pass)
        if skipped:
            log.warning("detection: %d steps older than %s skipped after a pause", skipped, steps[0])
        if not steps:
            return PassResult(0, 0)
        ctx = Context(reader, tuple(steps), s.alerts, s.zone, reader.first_post_at())
        findings = sorted((f for detect in run for f in detect(ctx)), key=lambda f: f.seen_at)
    return alert_stores.write(db, lambda w: _store(w, s, findings, steps[-1], wall(), len(steps), skipped))


def _store(w: AlertWriter, s: Settings, findings: list[Finding], last: datetime, now: datetime, steps: int,
           skipped: int) -> PassResult:
    result = store_findings(w, s, findings, now)
    w.set_detect_cursor(last, now)
    return replace(result, steps=steps, skipped=skipped)


def store_findings(w: AlertWriter, s: Settings, findings: list[Finding], now: datetime) -> PassResult:
    """Findings into alerts, alerts into incidents, 311 requests linked, the incidents' messages queued."""
    cooldown = timedelta(minutes=s.alerts.cooldown_minutes)
    recorded = [w.record(f, cooldown, now) for f in findings]
    notices = incidents.place(w, recorded, s, now)
    w.link_requests(s, now)  # 311 requests that agree with an open incident
    deliveries = incident_notify.enqueue(w, notices, s, now)
    return PassResult(1, 0, recorded, deliveries, notices)
