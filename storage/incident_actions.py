"""Staff actions on incidents: the lifecycle new → acknowledged → assigned → resolved (or dismissed), merging and
splitting, recording the agency's response, and each user's visit to the Incidents page.

Each runs in the engine's one writer with its audit record (`Database.run_action`) and adds a row to
`incident_events` with who and when. Times are wall-clock: response times measure people. The first action by a
person (acknowledge, assign, resolve, dismiss, a recorded response) sets `acknowledged_at`. Lifecycle changes are
passed on to the incident's alerts that can take them, so the alert queue and detector precision agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from storage import alert_actions, incident_store
from storage.db import one, utcnow

OPEN = incident_store.OPEN
ALLOWED = {  # action -> statuses it may start from
    "acknowledged": ("new",),
    "assigned": OPEN,
    "resolved": OPEN,
    "dismissed": OPEN,
    "reopened": ("resolved", "dismissed"),
}


def status_of(con: duckdb.DuckDBPyConnection, incident_id: int) -> str:
    row = one(con, "SELECT status, merged_into FROM incidents WHERE incident_id = ?", [incident_id])
    if row is None:
        raise ValueError(f"no incident #{incident_id}")
    if row[0] == "merged":
        raise ValueError(f"incident #{incident_id} was merged into incident #{row[1]}; work on that one")
    return str(row[0])


def transition(con: duckdb.DuckDBPyConnection, actor: str, incident_id: int, event: str, at: datetime,
               note: str | None = None, assignee: str | None = None, email: str | None = None) -> dict[str, Any]:
    """Move an incident along its lifecycle, record it, and pass it on to its alerts."""
    status = status_of(con, incident_id)
    if status not in ALLOWED[event]:
        raise ValueError(f"incident #{incident_id} is {status}; it cannot be {event} (allowed from: "
                         f"{', '.join(ALLOWED[event])})")
    new = "acknowledged" if event == "reopened" else event
    con.execute(
        "UPDATE incidents SET status = ?, updated_at = ?, acknowledged_at = coalesce(acknowledged_at, ?), "
        "assignee = CASE WHEN ? = 'assigned' THEN ? ELSE assignee END, "
        "assignee_email = CASE WHEN ? = 'assigned' THEN ? ELSE assignee_email END, "
        "assigned_at = CASE WHEN ? = 'assigned' THEN ? ELSE assigned_at END, "
        "resolved_at = CASE ? WHEN 'resolved' THEN ? WHEN 'reopened' THEN NULL ELSE resolved_at END, "
        "dismissed_at = CASE ? WHEN 'dismissed' THEN ? WHEN 'reopened' THEN NULL ELSE dismissed_at END, "
        "resolution_note = CASE WHEN ? IN ('resolved', 'dismissed') THEN ? ELSE resolution_note END "
        "WHERE incident_id = ?",
        [new, at, at, event, assignee, event, email, event, at, event, at, event, at, event, note, incident_id])
    said = f"to {assignee}" + (f": {note}" if note else "") if event == "assigned" else note
    incident_store.event(con, incident_id, at, actor, event, note=said)
    _cascade(con, actor, incident_id, event, at, note, assignee)
    return {"incident_id": incident_id, "status": new, "previous": status}


def _cascade(con: duckdb.DuckDBPyConnection, actor: str, incident_id: int, event: str, at: datetime,
             note: str | None, assignee: str | None) -> None:
    members = con.execute("SELECT m.alert_id, a.status FROM incident_alerts m JOIN alerts a USING (alert_id) "
                          "WHERE m.incident_id = ? ORDER BY m.alert_id", [incident_id]).fetchall()
    said = f"with incident #{incident_id}" + (f": {note}" if note else "")
    for alert_id, status in members:
        if status in alert_actions.ALLOWED[event]:
            alert_actions.transition(con, actor, int(alert_id), event, at, said, assignee)


def _act(event: str) -> Any:
    def fn(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
        if event == "resolved" and not (p.get("note") or "").strip():
            raise ValueError("resolving an incident needs a resolution note (what was done)")
        if event == "assigned" and not (p.get("assignee") or "").strip():
            raise ValueError("assigning an incident needs the assignee")
        return transition(con, actor, p["incident_id"], event, utcnow(), p.get("note"), p.get("assignee"),
                          p.get("assignee_email"))

    return fn


acknowledge, assign, resolve, dismiss, reopen = (_act(e) for e in ("acknowledged", "assigned", "resolved",
                                                                   "dismissed", "reopened"))


def record_response(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """The agency responded (a library answer posted, or any other reply): kept with the incident; the earliest
    one is its first response. Recording it also acknowledges a new incident."""
    incident_id, now = p["incident_id"], utcnow()
    status_of(con, incident_id)
    channel = (p.get("channel") or "").strip()
    if not channel:
        raise ValueError("recording a response needs its channel (e.g. x, bluesky, mastodon, sms, email, web)")
    posted = p.get("posted_at") or now
    if posted > now + timedelta(minutes=5):
        raise ValueError(f"posted_at {posted:%Y-%m-%d %H:%M} UTC is in the future; give the time it was posted")
    con.execute("INSERT INTO incident_responses VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [incident_id, p.get("response_id"), channel, p.get("url"), posted, actor, p.get("note"), now])
    con.execute("UPDATE incidents SET first_response_at = least(coalesce(first_response_at, ?), ?), updated_at = ?, "
                "acknowledged_at = coalesce(acknowledged_at, ?), "
                "status = CASE status WHEN 'new' THEN 'acknowledged' ELSE status END WHERE incident_id = ?",
                [posted, posted, now, now, incident_id])
    said = f"posted on {channel}" + (f": {p['url']}" if p.get("url") else "") + (f" ({p['note']})" if p.get("note")
                                                                                 else "")
    incident_store.event(con, incident_id, now, actor, "response", note=said,
                         details={"response_id": p.get("response_id"), "channel": channel, "url": p.get("url"),
                                  "posted_at": posted})
    first = one(con, "SELECT first_response_at FROM incidents WHERE incident_id = ?", [incident_id])
    return {"incident_id": incident_id, "recorded": True, "first_response_at": first[0] if first else posted}


def visit(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """The user opened the Incidents page: returns their visit before this one (None the first time)."""
    now = utcnow()
    row = one(con, "SELECT visited_at FROM incident_visits WHERE username = ?", [actor])
    previous = None if row is None else row[0]
    con.execute("DELETE FROM incident_visits WHERE username = ?", [actor])  # both kinds (the lake has no upsert)
    con.execute("INSERT INTO incident_visits VALUES (?, ?, ?)", [actor, previous, now])
    return {"previous": previous, "visited_at": now}
