"""The incidents area's writes from the engine: grouping alerts into incidents, their history, and their outbox rows.

All run inside a `Database.write` transaction (the `con` given): the detection pass stores its alerts, places them
in incidents and queues the incidents' notifications in one transaction. Staff actions are in
`storage.incident_actions`; named queries in `storage.incident_queries`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import duckdb

from core.findings import Finding, severity_rank
from storage.alert_store import add_delivery, to_json
from storage.db import one
from storage.lake_schema import new_id

OPEN = ("new", "acknowledged", "assigned")
KEY_SEPARATOR = "\x00"


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def membership(con: duckdb.DuckDBPyConnection, alert_id: int) -> tuple[int, int] | None:
    """(incident_id, the incident's post count at its last notification), or None for an alert in none yet."""
    row = one(con, "SELECT incident_id, baseline_posts FROM incident_alerts WHERE alert_id = ?", [alert_id])
    return None if row is None else (int(row[0]), int(row[1]))


def evidence_watches(con: duckdb.DuckDBPyConnection, f: Finding) -> list[list[str]]:
    """The watches of each of a finding's evidence posts that is stored (their times, give or take a day, bound the
    scan to a few row groups)."""
    times = [e.created_at for e in f.evidence if e.created_at is not None]
    if not times:
        return []
    keys = [e.platform + KEY_SEPARATOR + e.post_id for e in f.evidence]
    found = con.execute("SELECT watches FROM posts WHERE created_at BETWEEN ? AND ? "
                        "AND list_contains(?, platform || chr(0) || post_id)",
                        [min(times) - timedelta(days=1), max(times) + timedelta(days=1), keys])
    return [list(r[0]) for r in found.fetchall()]


TOPIC_WATCHES = """
SELECT p.watches FROM posts p JOIN (SELECT platform, post_id, topics FROM labels
                                    WHERE created_at >= $lo AND created_at < $hi) l USING (platform, post_id)
WHERE p.created_at >= $lo AND p.created_at < $hi AND p.repost_of_id IS NULL
  AND len(list_filter(l.topics, lambda t: t.name = $topic AND t.score >= $min_score)) > 0
"""


def topic_watches(con: duckdb.DuckDBPyConnection, topic: str, lo: datetime, hi: datetime,
                  min_score: float) -> list[list[str]]:
    """The watches of every original post on a topic in a window: which watches a topic's alert is about."""
    found = con.execute(TOPIC_WATCHES, {"topic": topic, "lo": lo, "hi": hi, "min_score": min_score})
    return [list(r[0]) for r in found.fetchall()]


MEMBERS = """
SELECT m.incident_id, m.alert_id, a.claim_id, a.topic, m.watches, m.shingles, a.first_seen_at, a.last_seen_at,
       (SELECT list(e.platform || chr(0) || e.post_id) FROM alert_evidence e WHERE e.alert_id = m.alert_id) AS evidence
FROM incident_alerts m JOIN incidents i USING (incident_id) JOIN alerts a USING (alert_id)
WHERE i.status IN ('new', 'acknowledged', 'assigned') AND i.last_seen_at >= ?
ORDER BY i.last_seen_at DESC, m.incident_id DESC, m.alert_id
"""


def open_members(con: duckdb.DuckDBPyConnection, since: datetime) -> list[dict[str, Any]]:
    """Every alert of the open incidents with a signal since `since`: what a new alert is compared with."""
    return rows(con, MEMBERS, [since])


def open_incident(con: duckdb.DuckDBPyConnection, alert_id: int, f: Finding, first_post_at: datetime | None,
                  now: datetime) -> int:
    incident_id = new_id(con, "incidents")  # the sequence's on the DuckDB file, max + 1 on the lake
    con.execute("INSERT INTO incidents (incident_id, headline, headline_alert_id, severity, status, first_post_at, "
                "first_seen_at, last_seen_at, opened_at, updated_at) VALUES (?, ?, ?, ?, 'new', ?, ?, ?, ?, ?)",
                [incident_id, f.title, alert_id, f.severity, first_post_at, f.seen_at, f.seen_at, now, now])
    return incident_id


def add_member(con: duckdb.DuckDBPyConnection, incident_id: int, alert_id: int, reason: str, detail: str,
               actor: str, now: datetime, keys: dict[str, Any]) -> None:
    """`keys`: the grouping keys kept with the membership (watches, shingles, baseline_posts)."""
    con.execute("INSERT INTO incident_alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [alert_id, incident_id, reason, detail, actor, now, keys["watches"], keys["shingles"],
                 keys["baseline_posts"]])


def refresh_keys(con: duckdb.DuckDBPyConnection, alert_id: int, shingles: list[list[int]]) -> None:
    """A later sighting's evidence texts, for the near-duplicate rule."""
    con.execute("UPDATE incident_alerts SET shingles = ? WHERE alert_id = ?", [shingles, alert_id])


def set_baseline(con: duckdb.DuckDBPyConnection, incident_id: int, posts: int, at_least: bool = False) -> None:
    """The incident's post count at its last notification (kept in each of its membership rows); with `at_least`,
    only raised to `posts` (a bigger signal joined: it is the new size to double, but no notification)."""
    con.execute("UPDATE incident_alerts SET baseline_posts = CASE WHEN ? THEN greatest(baseline_posts, ?) ELSE ? END "
                "WHERE incident_id = ?", [at_least, posts, posts, incident_id])


def take_signal(con: duckdb.DuckDBPyConnection, incident_id: int, alert_id: int, f: Finding,
                first_post_at: datetime | None, now: datetime) -> tuple[str, str, str]:
    """A signal of one of its alerts reaches an open incident: its span, first post and severity follow (a closed
    one keeps its record as it was closed).

    Returns (status, severity before, severity now). A more severe signal gives the incident its headline; the
    headline's own alert keeps it up to date while it stays at the incident's severity."""
    row = one(con, "SELECT status, severity, headline_alert_id FROM incidents WHERE incident_id = ?", [incident_id])
    assert row is not None, f"incident #{incident_id} is missing"
    status, before = str(row[0]), str(row[1])
    if status not in OPEN:
        return status, before, before
    higher = severity_rank(f.severity) > severity_rank(before)
    retitle = higher or (row[2] == alert_id and f.severity == before)
    con.execute("UPDATE incidents SET last_seen_at = greatest(last_seen_at, ?), "
                "first_seen_at = least(first_seen_at, ?), updated_at = ?, "
                "first_post_at = least(coalesce(first_post_at, ?), coalesce(?, first_post_at)), "
                "severity = CASE WHEN ? THEN ? ELSE severity END, headline = CASE WHEN ? THEN ? ELSE headline END, "
                "headline_alert_id = CASE WHEN ? THEN ? ELSE headline_alert_id END WHERE incident_id = ?",
                [f.seen_at, f.seen_at, now, first_post_at, first_post_at, higher, f.severity, retitle, f.title,
                 retitle, alert_id, incident_id])
    return status, before, f.severity if higher else before


def event(con: duckdb.DuckDBPyConnection, incident_id: int, now: datetime, actor: str, name: str,
          alert_id: int | None = None, note: str | None = None, details: dict[str, Any] | None = None,
          seen_at: datetime | None = None) -> None:
    """One line of the incident's history, with its status and severity at that moment."""
    con.execute("INSERT INTO incident_events SELECT incident_id, ?, ?, ?, ?, status, severity, ?, ?, ? "
                "FROM incidents WHERE incident_id = ?",
                [now, seen_at, actor, name, alert_id, note, None if details is None else to_json(details),
                 incident_id])


def escalated(con: duckdb.DuckDBPyConnection, incident_id: int, now: datetime) -> None:
    con.execute("UPDATE incidents SET escalated_at = ?, updated_at = ? WHERE incident_id = ?", [now, now, incident_id])


def count_notice(con: duckdb.DuckDBPyConnection, incident_id: int) -> int:
    """Count one more notification of the incident; returns its number (1 for the opening)."""
    con.execute("UPDATE incidents SET notices = notices + 1 WHERE incident_id = ?", [incident_id])  # no RETURNING
    row = one(con, "SELECT notices FROM incidents WHERE incident_id = ?", [incident_id])  # on the lake
    assert row is not None
    return int(row[0])


SUMMARY = """
SELECT i.incident_id, i.headline, i.headline_alert_id, i.severity, i.status, i.assignee, i.assignee_email,
       i.first_post_at,
       i.first_seen_at, i.last_seen_at, i.opened_at, count(m.alert_id) AS alerts,
       list(DISTINCT a.kind ORDER BY a.kind) AS kinds,
       list(DISTINCT a.watch ORDER BY a.watch) FILTER (WHERE a.watch IS NOT NULL) AS watches,
       list(DISTINCT a.topic ORDER BY a.topic) FILTER (WHERE a.topic IS NOT NULL) AS topics,
       list(DISTINCT a.claim_id ORDER BY a.claim_id) FILTER (WHERE a.claim_id IS NOT NULL) AS claim_ids
FROM incidents i LEFT JOIN incident_alerts m USING (incident_id) LEFT JOIN alerts a USING (alert_id)
WHERE i.incident_id = ? GROUP BY ALL
"""


def summary(con: duckdb.DuckDBPyConnection, incident_id: int) -> dict[str, Any]:
    """What a notification says of an incident and what notification rules select it by."""
    found = rows(con, SUMMARY, [incident_id])
    if not found:
        raise ValueError(f"no incident #{incident_id}")
    return {k: (v or []) if k in ("kinds", "watches", "topics", "claim_ids") else v for k, v in found[0].items()}


def enqueue(con: duckdb.DuckDBPyConnection, key: str, incident_id: int, alert_id: int | None, channel: str,
            target: str, payload: str, now: datetime) -> bool:
    """Add an incident's message to the outbox once per key; False when it was there already."""
    fields = {"alert_id": alert_id, "incident_id": incident_id, "channel": channel, "target": target,
              "payload": payload}
    return add_delivery(con, key, fields, now)


TARGETS = """
SELECT i.incident_id, i.severity, i.status, i.assignee, i.assignee_email, i.opened_at, i.acknowledged_at,
       i.first_response_at,
       max(e.changed_at) FILTER (WHERE e.event = 'reminded' AND e.target = 'acknowledge') AS reminded_acknowledge,
       max(e.changed_at) FILTER (WHERE e.event = 'reminded' AND e.target = 'respond') AS reminded_respond,
       max(e.changed_at) FILTER (WHERE e.event = 'overdue' AND e.target = 'acknowledge') AS escalated_acknowledge,
       max(e.changed_at) FILTER (WHERE e.event = 'overdue' AND e.target = 'respond') AS escalated_respond
FROM incidents i LEFT JOIN (SELECT incident_id, event, changed_at, details ->> '$.target' AS target
                            FROM incident_events WHERE event IN ('reminded', 'overdue')) e USING (incident_id)
WHERE i.status IN ('new', 'acknowledged', 'assigned') GROUP BY ALL ORDER BY i.incident_id
"""


def open_for_targets(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Open incidents with their response times so far and when each target's reminder and escalation went."""
    return rows(con, TARGETS)
