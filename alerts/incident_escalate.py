"""Incidents past their targets: a reminder first, then the escalation contacts (the `alerts:incidents` job).

An open incident that passes a target unmet (`alerts.incident_targets`) gets a reminder: to its assignee's email
when the dashboard gave one on assigning, else to the usual channels of the rules that select it. Still unmet
`incidents.escalate_after_minutes` later, the escalation contacts (`escalate_to`) of the email rules that select
it are told, and the incident is marked escalated. Each step is recorded in the incident's history (event
'reminded' or 'overdue', actor 'engine') in the same transaction as its messages, so it happens once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from alerts import incident_notify
from alerts.incident_targets import Due, missing, overdue
from alerts.model import Finding
from settings import Settings
from storage import alert_stores
from storage.alert_stores import AlertWriter
from storage.db import Database, utcnow


@dataclass(frozen=True)
class Step:
    incident_id: int
    level: str  # reminded | overdue
    due: Due


def steps(rows: Sequence[dict[str, Any]], s: Settings, now: datetime) -> list[Step]:
    """What each open incident past a target needs now: its reminder, or (after the wait) its escalation."""
    wait = timedelta(minutes=s.incidents.escalate_after_minutes)
    found = []
    for row in rows:
        for due in overdue(row, s.incidents.targets, now):
            reminded, escalated = row[f"reminded_{due.target}"], row[f"escalated_{due.target}"]
            if missing(reminded):
                found.append(Step(int(row["incident_id"]), "reminded", due))
            elif missing(escalated) and now - reminded >= wait:
                found.append(Step(int(row["incident_id"]), "overdue", due))
    return found


def pending(db: Database, s: Settings, wall: Callable[[], datetime] = utcnow) -> list[Step]:
    return steps(alert_stores.read(db, lambda r: r.open_incidents_for_targets()), s, wall())


def check(db: Database, s: Settings, wall: Callable[[], datetime] = utcnow) -> dict[str, int]:
    """Take every step due now, in one transaction; returns counts for the run record."""
    now = wall()
    todo = steps(alert_stores.read(db, lambda r: r.open_incidents_for_targets()), s, now)
    if not todo:
        return {"reminded": 0, "escalated": 0, "queued": 0}
    queued = alert_stores.write(db, lambda w: sum(take(w, step, s, now) for step in todo))
    levels = [step.level for step in todo]
    return {"reminded": levels.count("reminded"), "escalated": levels.count("overdue"), "queued": queued}


def take(w: AlertWriter, step: Step, s: Settings, now: datetime) -> int:
    info = w.incidents.summary(step.incident_id)
    words = step.due.words(info["severity"])
    finding = Finding("incident", f"incident:{step.incident_id}", info["severity"], info["last_seen_at"],
                      info["headline"], f"Incident #{step.incident_id}, opened {_ago(info['opened_at'], now)} ago, "
                                        f"was {words}.")
    m = incident_notify.message(step.level, info, int(info["headline_alert_id"] or 0), finding, [], s,
                                w.incidents.count_notice(step.incident_id))
    queued, told = _send(w, m, step, info, s, now)
    if step.level == "overdue":
        w.incidents.escalated(step.incident_id, now)
    w.incidents.event(step.incident_id, now, "engine", step.level,
                         note=f"{words}: {'reminder' if step.level == 'reminded' else 'escalation'} to {told}",
                         details={"target": step.due.target, "minutes": step.due.minutes, "to": told})
    return queued


def _send(w: AlertWriter, m: incident_notify.IncidentMessage, step: Step, info: dict[str, Any],
          s: Settings, now: datetime) -> tuple[int, str]:
    """Queue the step's messages; returns how many and who in words."""
    if step.level == "reminded" and info["assignee_email"]:
        sent = incident_notify.to_addresses(w, m, [info["assignee_email"]], f"assignee {info['assignee']}", s, now)
        return sent, f"the assignee {info['assignee']}"
    if step.level == "reminded":
        return incident_notify.to_rules(w, m, s, now), "the usual channels" + (
            f" (the assignee {info['assignee']} has no email)" if info["assignee"] else "")
    rules = [r for r in s.alerts.emails if r.escalate_to and incident_notify.selects(r, info)]
    sent = sum(incident_notify.to_addresses(w, m, r.escalate_to, f"{r.name} escalation", s, now) for r in rules)
    contacts = sorted({a for r in rules for a in r.escalate_to})
    return sent, ", ".join(contacts) if contacts else "nobody (no email rule selecting it has escalate_to)"


def _ago(then: datetime, now: datetime) -> str:
    minutes = max((now - then).total_seconds() / 60, 0)
    return f"{minutes:.0f} min" if minutes < 90 else f"{minutes / 60:.1f} h"
