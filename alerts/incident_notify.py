"""Incident notifications through the alerts outbox: one when an incident opens, one per escalation, reminders and
escalations for incidents past their targets. Extra alerts of an incident notify nobody.

A rule (`[[alerts.webhooks]]`, `[[alerts.emails]]`) selects an incident when the incident's severity is at least the
rule's, one of its alerts is of a kind the rule names, and one of its alerts' watches or topics is one the rule
names (an empty list selects all). Messages use the alerts' payload formats (Slack, Teams, JSON, email), speak of
the incident, and link to it on the Incidents page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from alerts import explain as ex
from alerts.incidents import Notice
from alerts.model import Finding, severity_rank
from alerts.payloads import WEBHOOK_FORMATS, AlertMessage
from alerts.payloads import email as alert_email
from settings import EmailRuleSettings, Settings, WebhookSettings
from storage.alert_stores import AlertWriter

WORDS = {"opened": "New incident", "escalated": "Incident escalated", "reminded": "Reminder",
         "overdue": "Overdue incident"}


@dataclass(frozen=True)
class IncidentMessage(AlertMessage):
    """An alert message about an incident: its headline, severity, signals and link instead of one alert's."""

    incident: dict[str, Any] | None = None
    number: int = 1  # which notification of the incident this is

    @property
    def incident_id(self) -> int:
        return int(self.info["incident_id"])

    @property
    def info(self) -> dict[str, Any]:
        assert self.incident is not None
        return self.incident

    @property
    def headline(self) -> str:
        return f"[{self.info['severity'].upper()}] {WORDS.get(self.event, self.event)}: {self.info['headline']}"

    @property
    def link(self) -> str | None:
        return (f"{self.dashboard_url.rstrip('/')}/incidents?incident={self.incident_id}" if self.dashboard_url
                else None)

    @property
    def message_key(self) -> str:
        return f"incident-{self.incident_id}-{self.number}-{self.event}"

    def facts(self) -> list[tuple[str, str]]:
        i = self.info
        subjects = [*i["watches"], *i["topics"], *i["claim_ids"]]
        first = ex.day_and_clock(i["first_post_at"], self.zone) if i["first_post_at"] else "unknown"
        return [("Incident", f"#{self.incident_id}"), ("Severity", i["severity"]), ("Status", i["status"]),
                ("Signals", f"{i['alerts']} alert{'s' if i['alerts'] != 1 else ''}: "
                            + ", ".join(k.replace("_", " ") for k in i["kinds"])),
                ("Subject", ", ".join(subjects) or "all posts"), ("First post", first),
                ("Latest signal", ex.day_and_clock(self.finding.seen_at, self.zone))]

    def extra(self) -> dict[str, Any]:
        i = self.info
        return {"incident_id": self.incident_id, "headline": i["headline"], "alerts": int(i["alerts"]),
                "kinds": list(i["kinds"]), "watches": list(i["watches"]), "topics": list(i["topics"]),
                "claim_ids": list(i["claim_ids"]), "incident_severity": i["severity"]}


def selects(rule: WebhookSettings | EmailRuleSettings, info: dict[str, Any]) -> bool:
    subjects = set(info["watches"]) | set(info["topics"])
    wanted = not rule.watches or bool(subjects & set(rule.watches))
    kinds = not rule.kinds or bool(set(info["kinds"]) & set(rule.kinds))
    return severity_rank(info["severity"]) >= severity_rank(rule.min_severity) and kinds and wanted


def enqueue(w: AlertWriter, notices: Sequence[Notice], s: Settings, now: datetime) -> int:
    """Outbox rows for every notice and every rule that selects its incident; returns how many were added."""
    added = 0
    for n in notices:
        info = w.incidents.summary(n.incident_id)
        number = w.incidents.count_notice(n.incident_id)
        added += to_rules(w, message(n.event, info, n.alert_id, n.finding, n.reasons, s, number), s, now)
    return added


def message(event: str, info: dict[str, Any], alert_id: int, f: Finding, reasons: Sequence[str], s: Settings,
            number: int) -> IncidentMessage:
    """The incident's message; `f` is the signal that prompted it, `reasons` say why (escalations, targets)."""
    why = " ".join(r[0].upper() + r[1:] + "." for r in reasons)
    said = replace(f, severity=info["severity"], explanation=f"{why} {f.explanation}".strip())
    return IncidentMessage(alert_id, event, said, s.zone, s.alerts.dashboard_url, incident=info, number=number)


def to_rules(w: AlertWriter, m: IncidentMessage, s: Settings, now: datetime) -> int:
    """The message to every rule's usual channel that selects the incident."""
    added, base = 0, f"incident:{m.incident_id}:{m.number}:{m.event}"
    for hook in (h for h in s.alerts.webhooks if selects(h, m.info)):
        body = json.dumps(WEBHOOK_FORMATS[hook.format](m), ensure_ascii=False)
        added += w.incidents.enqueue(f"{base}:webhook:{hook.name}", m.incident_id, m.alert_id, "webhook",
                                        hook.name, body, now)
    for rule in (e for e in s.alerts.emails if selects(e, m.info)):
        added += to_addresses(w, m, rule.to, rule.name, s, now)
    return added


def to_addresses(w: AlertWriter, m: IncidentMessage, to: Sequence[str], name: str, s: Settings,
                 now: datetime) -> int:
    text = alert_email(m, s.smtp.sender, tuple(to)).as_string()
    key = f"incident:{m.incident_id}:{m.number}:{m.event}:email:{name}"
    return int(w.incidents.enqueue(key, m.incident_id, m.alert_id, "email", name, text, now))
