"""Staff actions on alerts: the lifecycle new → acknowledged → assigned → resolved (or dismissed as noise), and
feedback on alerts and their evidence posts.

Each action runs in the engine's one writer with its audit record (`Database.run_action`) and adds a row to
`alert_events` with who and when. Times are wall-clock: response times measure people. The first change by a
person (acknowledge, assign, resolve or dismiss) sets `acknowledged_at`, so time to acknowledge is time to the
first human response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from storage.db import one, utcnow

OPEN = ("new", "acknowledged", "assigned")
ALLOWED = {  # action -> statuses it may start from
    "acknowledged": ("new",),
    "assigned": OPEN,
    "resolved": OPEN,
    "dismissed": OPEN,
    "reopened": ("resolved", "dismissed"),
}
VERDICTS = ("useful", "not_relevant", "noise", "wrong_sentiment", "not_misinformation")


def _status(con: duckdb.DuckDBPyConnection, alert_id: int) -> tuple[str, str]:
    row = one(con, "SELECT status, severity FROM alerts WHERE alert_id = ?", [alert_id])
    if row is None:
        raise ValueError(f"no alert #{alert_id}")
    return str(row[0]), str(row[1])


def transition(con: duckdb.DuckDBPyConnection, actor: str, alert_id: int, event: str, at: datetime,
               note: str | None = None, assignee: str | None = None, response_url: str | None = None) -> dict[str, Any]:
    """Move an alert along its lifecycle and record the change; refuses moves that make no sense."""
    status, severity = _status(con, alert_id)
    if status not in ALLOWED[event]:
        raise ValueError(f"alert #{alert_id} is {status}; it cannot be {event} (allowed from: "
                         f"{', '.join(ALLOWED[event])})")
    new = "acknowledged" if event == "reopened" else event
    con.execute(
        "UPDATE alerts SET status = ?, updated_at = ?, acknowledged_at = coalesce(acknowledged_at, ?), "
        "assignee = CASE WHEN ? = 'assigned' THEN ? ELSE assignee END, "
        "assigned_at = CASE WHEN ? = 'assigned' THEN ? ELSE assigned_at END, "
        "resolved_at = CASE ? WHEN 'resolved' THEN ? WHEN 'reopened' THEN NULL ELSE resolved_at END, "
        "dismissed_at = CASE ? WHEN 'dismissed' THEN ? WHEN 'reopened' THEN NULL ELSE dismissed_at END, "
        "resolution_note = CASE WHEN ? IN ('resolved', 'dismissed') THEN ? ELSE resolution_note END, "
        "response_url = CASE WHEN ? = 'resolved' THEN ? ELSE response_url END WHERE alert_id = ?",
        [new, at, at, event, assignee, event, at, event, at, event, at, event, note, event, response_url, alert_id])
    con.execute("INSERT INTO alert_events VALUES (?, ?, NULL, ?, ?, ?, ?, ?, NULL)",
                [alert_id, at, actor, event, new, severity, note if event != "assigned" else f"to {assignee}"
                 + (f": {note}" if note else "")])
    return {"alert_id": alert_id, "status": new, "previous": status}


def _act(event: str) -> Any:
    def fn(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
        if event == "resolved" and not (p.get("note") or "").strip():
            raise ValueError("resolving an alert needs a resolution note (what was done)")
        if event == "assigned" and not (p.get("assignee") or "").strip():
            raise ValueError("assigning an alert needs the assignee")
        return transition(con, actor, p["alert_id"], event, utcnow(), p.get("note"), p.get("assignee"),
                          p.get("response_url"))

    return fn


acknowledge, assign, resolve, dismiss, reopen = (_act(e) for e in ("acknowledged", "assigned", "resolved",
                                                                   "dismissed", "reopened"))


def feedback(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """A judgement of an alert, or of one of its evidence posts (wrong sentiment, not misinformation, ...)."""
    if p["verdict"] not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}")
    status, severity = _status(con, p["alert_id"])
    if (p.get("platform") is None) != (p.get("post_id") is None):
        raise ValueError("feedback on a post needs both its platform and its post_id")
    now = utcnow()
    con.execute("INSERT INTO alert_feedback VALUES (?, ?, ?, ?, ?, ?, ?)",
                [p["alert_id"], p["verdict"], p.get("platform"), p.get("post_id"), p.get("note"), actor, now])
    con.execute("INSERT INTO alert_events VALUES (?, ?, NULL, ?, 'feedback', ?, ?, ?, NULL)",
                [p["alert_id"], now, actor, status, severity, p["verdict"] + (f": {p['note']}" if p.get("note")
                                                                              else "")])
    return {"alert_id": p["alert_id"], "verdict": p["verdict"]}
