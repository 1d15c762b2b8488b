"""The alerts area's scheduled jobs (detect, incidents past their targets, notify, digest) and the
`civicradar digest` preview.

Each job records a run (shown with the sources on the dashboard) when it had work to do, and a failure is
recorded and logged rather than stopping the schedule.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts import digest, incident_escalate, notify, registry
from alerts.detect import run_pass
from alerts.windows import steps_between
from settings import Settings
from storage import alert_stores
from storage.db import Database, utcnow

log = logging.getLogger(__name__)
Job = tuple[str, Callable[[], Any], float]


def jobs(db: Database, s: Settings, clock: Callable[[], datetime]) -> list[Job]:
    """(job id, function, interval seconds) for the engine's scheduler; the detectors' settings tables are checked
    here (engine start), since settings.load keeps them as written."""
    registry.check(s)
    found: list[Job] = []
    if s.alerts.enabled:
        found.append(("alerts:detect", lambda: detect_job(db, s, clock), s.alerts.every_seconds))
        found.append(("alerts:incidents", lambda: incidents_job(db, s), s.incidents.every_seconds))
    if s.alerts.webhooks or s.alerts.emails or s.digest.enabled:
        found.append(("alerts:notify", lambda: notify_job(db, s), s.alerts.notify_every_seconds))
    if s.digest.enabled:
        found.append(("alerts:digest", lambda: digest_job(db, s, clock), 60.0))
    return found


def _recorded(db: Database, job: str, fn: Callable[[], dict[str, Any]], items: str) -> dict[str, Any]:
    """Run one job as a recorded run: `items` names the count shown as the run's items."""
    run_id = db.start_run("alerts", job)
    try:
        details = fn()
    except Exception as e:  # a bug or an outage must not kill the schedule: record it loudly
        log.exception("alerts %s failed", job)
        db.finish_run(run_id, "error", error=f"{type(e).__name__}: {e}")
        return {"error": str(e)}
    db.finish_run(run_id, "ok", items=int(details.get(items, 0)), warnings=int(details.get("failed", 0)),
                  details=details)
    return details


def detect_job(db: Database, s: Settings, clock: Callable[[], datetime]) -> dict[str, Any] | None:
    now = clock() - timedelta(minutes=s.alerts.settle_minutes)  # let late-arriving posts of a window land first
    steps, _ = steps_between(alert_stores.read(db, lambda r: r.detect_cursor()), now, s.alerts.step_minutes, 1)
    if not steps:
        return None  # no new step since the last pass: nothing to record
    return _recorded(db, "detect", lambda: run_pass(db, s, now).counts(), "raised")


def incidents_job(db: Database, s: Settings) -> dict[str, Any] | None:
    """Reminders and escalations for incidents past their targets (wall clock: targets measure people)."""
    if not incident_escalate.pending(db, s):
        return None
    return _recorded(db, "incidents", lambda: incident_escalate.check(db, s), "queued")


def notify_job(db: Database, s: Settings) -> dict[str, Any] | None:
    if not alert_stores.read(db, lambda r: r.due_deliveries(utcnow(), 1)):
        return None
    return _recorded(db, "notify", lambda: asdict(notify.send_due(db, s)), "sent")


def digest_job(db: Database, s: Settings, clock: Callable[[], datetime]) -> dict[str, Any] | None:
    """At the digest time (engine clock, local), the day's digest goes to the outbox once."""
    day = digest.latest_day(s, clock())
    if not s.digest.recipients or alert_stores.read(db, lambda r: r.has_delivery(f"digest:{day}")):
        return None
    return _recorded(db, "digest", lambda: enqueue_digest(db, s, day), "queued")


def enqueue_digest(db: Database, s: Settings, day: date) -> dict[str, Any]:
    built = digest.build(database_queries(db), s, day)
    message = built.message(s.smtp.sender, s.digest.recipients).as_string()
    added = alert_stores.write(db, lambda w: w.enqueue(f"digest:{day}:email", None, "email", "digest", message,
                                                       utcnow()))
    return {"day": str(day), "queued": int(added)}


def database_queries(db: Database) -> digest.QueryFn:
    """Named queries run on this process's own database (the engine, or a CLI holding the file)."""
    def run(name: str, params: dict[str, Any]) -> Any:
        return alert_stores.read(db, lambda r: r.named(name, params))

    return run


def last_engine_clock(db: Database, wall: datetime) -> datetime:
    """'Now' for a stopped engine's file: its clock at the last detection pass when that is later than the wall
    clock (a demo's simulated clock runs ahead), else the wall clock."""
    last = alert_stores.read(db, lambda r: r.detect_cursor())
    return max(wall, last) if last is not None else wall


def preview_digest(run: digest.QueryFn, s: Settings, day: date | None, to: Path | None, now: datetime,
                   where: str) -> int:
    """`civicradar digest`: print the plain-text digest (by default the next one, so far); with `to`, write the
    HTML (chart inline) and the CSV there."""
    built = digest.build(run, s, day or digest.covering_day(s, now))
    so_far = "; the next digest, so far" if built.until > now else ""
    print(f"({where}{so_far})\nSubject: {built.subject}\n\n{built.text}")
    if to is not None:
        to.write_text(built.preview_html(), encoding="utf-8")
        to.with_suffix(".csv").write_text(built.csv, encoding="utf-8")
        print(f"HTML written to {to}; the day's alerts as CSV to {to.with_suffix('.csv')}")
    return 0
