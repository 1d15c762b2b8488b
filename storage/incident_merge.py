"""Staff correcting the grouping: merge two incidents into one, or split alerts off into a new incident.

Both are audited actions (`Database.run_action`), recorded in both incidents' histories and in the moved alerts'
membership (reason 'merged' or 'split', with who and why). The incidents' severity, headline and span are then
recomputed from the alerts they hold.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from core.findings import severity_rank
from storage import incident_store
from storage.db import one, utcnow
from storage.incident_actions import status_of
from storage.lake_schema import new_id

FIRST_POST = """
SELECT min(p.created_at) FROM incident_alerts m JOIN alert_evidence e USING (alert_id)
JOIN posts p ON p.platform = e.platform AND p.post_id = e.post_id WHERE m.incident_id = ?
"""


def recompute(con: duckdb.DuckDBPyConnection, incident_id: int, now: datetime) -> None:
    """Severity (the highest of its alerts), headline (the first alert at that severity), span and first post."""
    members = con.execute("SELECT a.alert_id, a.severity, a.title, a.first_seen_at, a.last_seen_at FROM "
                          "incident_alerts m JOIN alerts a USING (alert_id) WHERE m.incident_id = ? "
                          "ORDER BY a.alert_id", [incident_id]).fetchall()
    top = max(members, key=lambda m: (severity_rank(m[1]), -m[0]))
    first_post = one(con, FIRST_POST, [incident_id])
    con.execute("UPDATE incidents SET severity = ?, headline = ?, headline_alert_id = ?, first_seen_at = ?, "
                "last_seen_at = ?, first_post_at = coalesce(?, first_post_at), updated_at = ? WHERE incident_id = ?",
                [top[1], top[2], top[0], min(m[3] for m in members), max(m[4] for m in members),
                 first_post[0] if first_post else None, now, incident_id])


def merge(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Incident `other_id` joins incident `incident_id` with its alerts and responses; it stays as 'merged'."""
    kept, other, now, note = p["incident_id"], p["other_id"], utcnow(), p.get("note")
    if kept == other:
        raise ValueError("merging needs two different incidents")
    status_of(con, kept)
    status_of(con, other)
    moved = [int(r[0]) for r in con.execute("SELECT alert_id FROM incident_alerts WHERE incident_id = ? "
                                            "ORDER BY alert_id", [other]).fetchall()]
    why = f"merged from incident #{other} by {actor}" + (f": {note}" if note else "")
    con.execute("UPDATE incident_alerts SET incident_id = ?, reason = 'merged', detail = ?, actor = ?, joined_at = ? "
                "WHERE incident_id = ?", [kept, why, actor, now, other])
    con.execute("UPDATE incident_responses SET incident_id = ? WHERE incident_id = ?", [kept, other])
    con.execute("UPDATE incident_alerts SET baseline_posts = (SELECT max(baseline_posts) FROM incident_alerts "
                "WHERE incident_id = ?) WHERE incident_id = ?", [kept, kept])
    con.execute("UPDATE incidents k SET first_response_at = least(k.first_response_at, o.first_response_at), "
                "acknowledged_at = least(k.acknowledged_at, o.acknowledged_at), "
                "first_post_at = least(k.first_post_at, o.first_post_at) "
                "FROM incidents o WHERE k.incident_id = ? AND o.incident_id = ?", [kept, other])
    con.execute("UPDATE incidents SET status = 'merged', merged_into = ?, updated_at = ? WHERE incident_id = ?",
                [kept, now, other])
    recompute(con, kept, now)
    alerts = ", ".join(f"#{a}" for a in moved)
    incident_store.event(con, kept, now, actor, "merged", note=f"incident #{other} merged in (alerts {alerts})"
                         + (f": {note}" if note else ""), details={"from": other, "alerts": moved})
    incident_store.event(con, other, now, actor, "merged", note=f"merged into incident #{kept}"
                         + (f": {note}" if note else ""), details={"into": kept, "alerts": moved})
    return {"incident_id": kept, "merged": other, "alerts": moved}


def _alert_ids(values: list[str]) -> list[int]:
    try:
        return sorted({int(v) for v in values})
    except ValueError as e:
        raise ValueError(f"alert_ids must be alert numbers, got {values!r}") from e


def split(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """The alerts `alert_ids` of incident `incident_id` leave it for a new incident; at least one stays."""
    source, now, note = p["incident_id"], utcnow(), p.get("note")
    status = status_of(con, source)
    wanted = _alert_ids(p["alert_ids"])
    held = {int(r[0]) for r in con.execute("SELECT alert_id FROM incident_alerts WHERE incident_id = ?",
                                           [source]).fetchall()}
    if not wanted or not set(wanted) <= held:
        raise ValueError(f"incident #{source} holds alerts {sorted(held)}; split off some of those")
    if set(wanted) == held:
        raise ValueError("splitting off every alert leaves an empty incident; split off some, or dismiss it")
    new = _new_incident(con, source, status, now)
    why = f"split from incident #{source} by {actor}" + (f": {note}" if note else "")
    con.execute("UPDATE incident_alerts SET incident_id = ?, reason = 'split', detail = ?, actor = ?, joined_at = ? "
                "WHERE incident_id = ? AND list_contains(?, alert_id)", [new, why, actor, now, source, wanted])
    recompute(con, new, now)
    recompute(con, source, now)
    alerts = ", ".join(f"#{a}" for a in wanted)
    incident_store.event(con, source, now, actor, "split", note=f"alerts {alerts} split off into incident #{new}"
                         + (f": {note}" if note else ""), details={"into": new, "alerts": wanted})
    incident_store.event(con, new, now, actor, "split", note=f"split from incident #{source} (alerts {alerts})"
                         + (f": {note}" if note else ""), details={"from": source, "alerts": wanted})
    return {"incident_id": source, "new_incident_id": new, "alerts": wanted}


def _new_incident(con: duckdb.DuckDBPyConnection, source: int, status: str, now: datetime) -> int:
    """The split-off incident keeps the original's opening and acknowledgement times (the situation was raised
    then), not its assignee or responses; it is 'acknowledged' unless the original was still new."""
    new = new_id(con, "incidents")  # the sequence's on the DuckDB file, max + 1 on the lake (no RETURNING there)
    con.execute("INSERT INTO incidents (incident_id, headline, severity, status, first_post_at, first_seen_at, "
                "last_seen_at, opened_at, updated_at, acknowledged_at) SELECT ?, headline, severity, ?, first_post_at, "
                "first_seen_at, last_seen_at, opened_at, ?, acknowledged_at FROM incidents WHERE incident_id = ?",
                [new, "new" if status == "new" else "acknowledged", now, source])
    return new
