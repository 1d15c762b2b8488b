"""The incidents part of an alerts transaction (`AlertWriter.incidents`): grouping alerts into incidents, their
history and their outbox rows, bound to the transaction's connection. The SQL is in `storage.incident_store`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from core.findings import Finding
from storage import incident_store

OPEN = incident_store.OPEN
KEY_SEPARATOR = incident_store.KEY_SEPARATOR


class IncidentWriter:
    """Reads and writes of the incidents grouping, inside the transaction that stores a pass's alerts."""

    __slots__ = ("_con",)

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def membership(self, alert_id: int) -> tuple[int, int] | None:
        """(incident_id, its post count at its last notification), or None for an alert in no incident yet."""
        return incident_store.membership(self._con, alert_id)

    def evidence_watches(self, f: Finding) -> list[list[str]]:
        return incident_store.evidence_watches(self._con, f)

    def topic_watches(self, topic: str, lo: datetime, hi: datetime, min_score: float) -> list[list[str]]:
        return incident_store.topic_watches(self._con, topic, lo, hi, min_score)

    def open_members(self, since: datetime) -> list[dict[str, Any]]:
        return incident_store.open_members(self._con, since)

    def open_for_targets(self) -> list[dict[str, Any]]:
        return incident_store.open_for_targets(self._con)

    def open_incident(self, alert_id: int, f: Finding, first_post_at: datetime | None, now: datetime) -> int:
        return incident_store.open_incident(self._con, alert_id, f, first_post_at, now)

    def add_member(self, incident_id: int, alert_id: int, reason: str, detail: str, actor: str, now: datetime,
                   keys: dict[str, Any]) -> None:
        incident_store.add_member(self._con, incident_id, alert_id, reason, detail, actor, now, keys)

    def refresh_keys(self, alert_id: int, shingles: list[list[int]]) -> None:
        incident_store.refresh_keys(self._con, alert_id, shingles)

    def set_baseline(self, incident_id: int, posts: int, at_least: bool = False) -> None:
        incident_store.set_baseline(self._con, incident_id, posts, at_least)

    def take_signal(self, incident_id: int, alert_id: int, f: Finding, first_post_at: datetime | None,
                    now: datetime) -> tuple[str, str, str]:
        """(status, severity before, severity now) of the incident a signal reached."""
        return incident_store.take_signal(self._con, incident_id, alert_id, f, first_post_at, now)

    def event(self, incident_id: int, now: datetime, actor: str, name: str, alert_id: int | None = None,
              note: str | None = None, details: dict[str, Any] | None = None,
              seen_at: datetime | None = None) -> None:
        incident_store.event(self._con, incident_id, now, actor, name, alert_id, note, details, seen_at)

    def escalated(self, incident_id: int, now: datetime) -> None:
        incident_store.escalated(self._con, incident_id, now)

    def count_notice(self, incident_id: int) -> int:
        return incident_store.count_notice(self._con, incident_id)

    def summary(self, incident_id: int) -> dict[str, Any]:
        return incident_store.summary(self._con, incident_id)

    def enqueue(self, key: str, incident_id: int, alert_id: int | None, channel: str, target: str, payload: str,
                now: datetime) -> bool:
        """An incident's outbox row once per key; False when it was there already."""
        return incident_store.enqueue(self._con, key, incident_id, alert_id, channel, target, payload, now)
