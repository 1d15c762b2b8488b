"""The alerts area's records: what a detector found at one step, and the posts that show it (storage keeps them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SEVERITIES = ("low", "medium", "high")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class Evidence:
    """A post shown with an alert. No author handle: evidence is about content and timing, not people."""

    platform: str
    post_id: str
    created_at: datetime | None = None
    text: str = ""
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Finding:
    """One detector's result at one detection step (a window ending at `seen_at`, engine clock)."""

    kind: str
    fingerprint: str  # kind + subject: repeats of one situation share it and update one alert
    severity: str
    seen_at: datetime
    title: str
    explanation: str
    watch: str | None = None
    topic: str | None = None
    claim_id: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)
    evidence: tuple[Evidence, ...] = ()
    links: tuple[Link, ...] = ()

    def at_least(self, severity: str) -> bool:
        return severity_rank(self.severity) >= severity_rank(severity)


@dataclass(frozen=True)
class Recorded:
    """What storing a finding did: a new alert, an escalation, a silent update, or nothing (cooling down)."""

    alert_id: int
    event: str  # raised | escalated | recurred | updated | suppressed
    finding: Finding

    @property
    def notify(self) -> bool:
        return self.event in ("raised", "escalated")
