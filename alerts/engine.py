"""The alerts area's scheduled jobs (detect, incidents past their targets, notify, digest) and the
`civicradar digest` preview.

Each job is a `core.runs.Job` the engine runs through the one runner (runner.py): a run is recorded (shown with the
sources on the dashboard) only when the job has work to do (its `due` check), and a failure is recorded and logged
rather than stopping the schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts import digest, incident_escalate, notify, registry
from alerts.detect import run_pass
from alerts.windows import steps_between
from core.runs import Job, Progress
from settings import Settings
from storage import alert_stores
from storage.db import Database, utcnow
from storage.local import LocalClient


def jobs(db: Database, s: Settings, clock: Callable[[], datetime]) -> list[Job]:
    """The alerts' jobs for the engine's scheduler; the detectors' settings tables are checked
    here (engine start), since settings.load keeps them as written."""
    registry.check(s)
    found: list[Job] = []
    if s.alerts.enabled:
        found += [detect_job(db, s, clock), incidents_job(db, s)]
    if s.alerts.webhooks or s.alerts.emails or s.digest.enabled:
        found.append(notify_job(db, s))
    if s.digest.enabled:
        found.append(digest_job(db, s, clock))
    return found


def detect_job(db: Database, s: Settings, clock: Callable[[], datetime]) -> Job:
    """A detection pass, due once a new grid step has settled (late-arriving posts of a window land first)."""
    def settled() -> datetime:
        return clock() - timedelta(minutes=s.alerts.settle_minutes)

    def due() -> bool:
        cursor = alert_stores.read(db, lambda r: r.detect_cursor())
        return bool(steps_between(cursor, settled(), s.alerts.step_minutes, 1)[0])

    def work(progress: Progress) -> None:
        progress.report(run_pass(db, s, settled()).counts(), "raised")

    return Job("alerts:detect", "alerts", "detect", s.alerts.every_seconds, work, due)


def incidents_job(db: Database, s: Settings) -> Job:
    """Reminders and escalations for incidents past their targets (wall clock: targets measure people)."""
    return Job("alerts:incidents", "alerts", "incidents", s.incidents.every_seconds,
               lambda progress: progress.report(incident_escalate.check(db, s), "queued"),
               lambda: bool(incident_escalate.pending(db, s)))


def notify_job(db: Database, s: Settings) -> Job:
    return Job("alerts:notify", "alerts", "notify", s.alerts.notify_every_seconds,
               lambda progress: progress.report(asdict(notify.send_due(db, s)), "sent"),
               lambda: bool(alert_stores.read(db, lambda r: r.due_deliveries(utcnow(), 1))))


def digest_job(db: Database, s: Settings, clock: Callable[[], datetime]) -> Job:
    """At the digest time (engine clock, local), the day's digest goes to the outbox once."""
    def due() -> bool:
        day = digest.latest_day(s, clock())
        return bool(s.digest.recipients) and not alert_stores.read(db, lambda r: r.has_delivery(f"digest:{day}"))

    def work(progress: Progress) -> None:
        progress.report(enqueue_digest(db, s, digest.latest_day(s, clock())), "queued")

    return Job("alerts:digest", "alerts", "digest", 60.0, work, due)


def enqueue_digest(db: Database, s: Settings, day: date) -> dict[str, Any]:
    built = digest.build(database_queries(db), s, day)
    message = built.message(s.smtp.sender, s.digest.recipients).as_string()
    added = alert_stores.write(db, lambda w: w.enqueue(f"digest:{day}:email", None, "email", "digest", message,
                                                       utcnow()))
    return {"day": str(day), "queued": int(added)}


def database_queries(db: Database) -> digest.QueryFn:
    """Named queries run on this process's own database (the engine), as the CLI's client path runs them."""
    client = LocalClient(db)
    return lambda name, params: client.query(name, **params)


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
