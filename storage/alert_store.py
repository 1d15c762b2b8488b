"""The alerts area's writes: findings into alerts (one per situation), the detection cursor, and the outbox.

All run inside a `Database.write` transaction (the `con` given). A pass stores its findings, their deliveries and
its cursor in one transaction, so a crash never leaves an alert without its notifications, or a step half-done.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import duckdb

from core.findings import Finding, Recorded, severity_rank
from storage.db import one
from storage.lake_schema import new_id

CLOSED = ("resolved", "dismissed")
DETECT_CURSOR = "alerts:detect"
RECURRED_AFTER = timedelta(minutes=30)  # an open alert quiet this long and then seen again records "recurred"


def to_json(value: Any) -> str:
    def default(v: Any) -> Any:
        if isinstance(v, datetime | date):
            return v.isoformat()
        if hasattr(v, "item"):  # numpy / pandas scalars
            return v.item()
        return str(v)

    return json.dumps(value, default=default, ensure_ascii=False)


def detect_cursor(con: duckdb.DuckDBPyConnection) -> datetime | None:
    row = one(con, "SELECT cursor FROM cursors WHERE source = ?", [DETECT_CURSOR])
    return None if row is None else datetime.fromisoformat(row[0])


def set_detect_cursor(con: duckdb.DuckDBPyConnection, step: datetime, now: datetime) -> None:
    con.execute("DELETE FROM cursors WHERE source = ?", [DETECT_CURSOR])  # both kinds: the lake has no upsert
    con.execute("INSERT INTO cursors VALUES (?, ?, ?)", [DETECT_CURSOR, step.isoformat(), now])


def record(con: duckdb.DuckDBPyConnection, f: Finding, cooldown: timedelta, now: datetime) -> Recorded:
    """Store one finding: a new alert, or an update of its situation's alert.

    A situation seen again within `cooldown` of its last sighting updates its alert (a closed one stays closed);
    after a longer quiet spell it is a new situation and a new alert. The title, explanation, numbers and evidence
    are those of the latest step at the alert's highest severity: the fading tail of an event never overwrites
    its peak.
    """
    row = one(con, "SELECT alert_id, status, severity, last_seen_at FROM alerts WHERE fingerprint = ? "
                   "ORDER BY alert_id DESC LIMIT 1", [f.fingerprint])
    if row is None or f.seen_at - row[3] > cooldown:
        return Recorded(_insert(con, f, now), "raised", f)
    alert_id, status, severity, last_seen = row
    if f.seen_at <= last_seen or status in CLOSED:  # a step seen already, or a closed alert cooling down
        con.execute("UPDATE alerts SET last_seen_at = greatest(last_seen_at, ?) WHERE alert_id = ?",
                    [f.seen_at, alert_id])
        return Recorded(alert_id, "suppressed", f)
    rank = severity_rank(f.severity) - severity_rank(severity)
    event = "escalated" if rank > 0 else "recurred" if f.seen_at - last_seen > RECURRED_AFTER else "updated"
    _update(con, alert_id, f, now, full=rank >= 0)
    if event != "updated":
        _event(con, alert_id, now, f, event, status, max(f.severity, severity, key=severity_rank))
    return Recorded(alert_id, event, f)


def _update(con: duckdb.DuckDBPyConnection, alert_id: int, f: Finding, now: datetime, full: bool) -> None:
    """Another sighting; with `full`, the finding's words, numbers and evidence replace the stored ones."""
    con.execute("UPDATE alerts SET last_seen_at = ?, occurrences = occurrences + 1, updated_at = ? "
                "WHERE alert_id = ?", [f.seen_at, now, alert_id])
    if full:
        con.execute("UPDATE alerts SET severity = ?, title = ?, explanation = ?, metrics = ?, links = ? "
                    "WHERE alert_id = ?", [f.severity, f.title, f.explanation, _metrics(f), _links(f), alert_id])
        _evidence(con, alert_id, f)


def _metrics(f: Finding) -> str:
    return to_json({**f.metrics, "severity_now": f.severity})


def _links(f: Finding) -> str:
    return to_json([{"title": link.title, "url": link.url} for link in f.links])


def _insert(con: duckdb.DuckDBPyConnection, f: Finding, now: datetime) -> int:
    alert_id = new_id(con, "alerts")  # the sequence's on the DuckDB file, max + 1 on the lake (no RETURNING there)
    con.execute("INSERT INTO alerts (alert_id, fingerprint, kind, severity, watch, topic, claim_id, title, "
                "explanation, metrics, links, status, first_seen_at, last_seen_at, occurrences, raised_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?, ?, 1, ?, ?)",
                [alert_id, f.fingerprint, f.kind, f.severity, f.watch, f.topic, f.claim_id, f.title, f.explanation,
                 _metrics(f), _links(f), f.seen_at, f.seen_at, now, now])
    _evidence(con, alert_id, f)
    _event(con, alert_id, now, f, "raised", "new", f.severity)
    return alert_id


def _evidence(con: duckdb.DuckDBPyConnection, alert_id: int, f: Finding) -> None:
    con.execute("DELETE FROM alert_evidence WHERE alert_id = ?", [alert_id])
    for rank, e in enumerate(f.evidence, 1):
        con.execute("INSERT INTO alert_evidence (alert_id, rank, platform, post_id, note) VALUES (?, ?, ?, ?, ?)",
                    [alert_id, rank, e.platform, e.post_id, e.note])


def _event(con: duckdb.DuckDBPyConnection, alert_id: int, now: datetime, f: Finding, event: str, status: str,
           severity: str) -> None:
    con.execute("INSERT INTO alert_events VALUES (?, ?, ?, 'detector', ?, ?, ?, ?, ?)",
                [alert_id, now, f.seen_at, event, status, severity, f.explanation, _metrics(f)])


def narrative_signatures(con: duckdb.DuckDBPyConnection, since: datetime) -> list[tuple[str, list[str]]]:
    """Fingerprints and word-pair signatures of narratives seen since a time (to keep one alert per narrative)."""
    rows = con.execute("SELECT fingerprint, metrics FROM alerts WHERE kind = 'narrative' AND last_seen_at >= ? "
                       "QUALIFY row_number() OVER (PARTITION BY fingerprint ORDER BY alert_id DESC) = 1",
                       [since]).fetchall()
    return [(fp, list(json.loads(m or "{}").get("signature", []))) for fp, m in rows]


def enqueue(con: duckdb.DuckDBPyConnection, key: str, alert_id: int | None, channel: str, target: str,
            payload: str, now: datetime) -> bool:
    """Add a message to the outbox once per key; False when it was there already."""
    return add_delivery(con, key, {"alert_id": alert_id, "channel": channel, "target": target, "payload": payload},
                        now)


def add_delivery(con: duckdb.DuckDBPyConnection, key: str, fields: dict[str, Any], now: datetime) -> bool:
    """An outbox row (`fields`: alert_id, incident_id, channel, target, payload) once per key; False when it was
    there already. Looked up, then inserted, in the writer's transaction: the same statements on both kinds (the
    lake has no unique key for ON CONFLICT, nor RETURNING); the DuckDB file's unique key still guards it."""
    if one(con, "SELECT 1 FROM deliveries WHERE dedupe_key = ?", [key]) is not None:
        return False
    names = ", ".join(fields)
    con.execute(f"INSERT INTO deliveries (delivery_id, dedupe_key, {names}, status, attempts, created_at, "
                f"next_attempt_at) VALUES (?, ?, {', '.join('?' * len(fields))}, 'pending', 0, ?, ?)",
                [new_id(con, "deliveries"), key, *fields.values(), now, now])
    return True


def due_deliveries(con: duckdb.DuckDBPyConnection, now: datetime, limit: int) -> list[dict[str, Any]]:
    """Pending messages whose next attempt is due, oldest first; sent ones are never returned."""
    cursor = con.execute("SELECT delivery_id, dedupe_key, alert_id, channel, target, payload, attempts "
                         "FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? "
                         "ORDER BY delivery_id LIMIT ?", [now, limit])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def mark_sent(con: duckdb.DuckDBPyConnection, delivery_id: int, now: datetime) -> None:
    con.execute("UPDATE deliveries SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL "
                "WHERE delivery_id = ? AND status = 'pending'", [now, delivery_id])


def mark_failed(con: duckdb.DuckDBPyConnection, delivery_id: int, error: str, retry_at: datetime | None) -> None:
    """One more failed attempt: retried at `retry_at`, or given up (status 'failed') when it is None."""
    con.execute("UPDATE deliveries SET attempts = attempts + 1, last_error = ?, "
                "status = CASE WHEN ? THEN 'failed' ELSE 'pending' END, next_attempt_at = coalesce(?, next_attempt_at) "
                "WHERE delivery_id = ? AND status = 'pending'", [error[:2000], retry_at is None, retry_at, delivery_id])


def has_delivery(con: duckdb.DuckDBPyConnection, prefix: str) -> bool:
    row = one(con, "SELECT count(*) FROM deliveries WHERE starts_with(dedupe_key, ?)", [prefix])
    return bool(row and row[0])
