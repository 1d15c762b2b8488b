"""Staff actions on inbox items: new → in progress → answered / closed / no reply needed, assignee, linked incident.

Each runs in the engine's one writer with its audit record (`Database.run_action`) and adds a row to
`inbox_events` with who and when. An item's `received_at` is its post's time (the platform's clock; the simulated
clock in the demo), so the dashboard passes the engine's clock as `at`: time to answer is then a difference on one
clock. Without `at`, the engine's wall clock is used. A reply is recorded here: either sent elsewhere (on the
platform, by e-mail or phone: `answer`) or sent from CivicRadar by the dashboard's server (`sent`, see README, Inbox).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from storage.db import one, utcnow

OPEN = ("new", "in_progress")
CLOSED = ("closed", "no_reply_needed")
STATUSES = (*OPEN, "answered", *CLOSED)


def _status(con: duckdb.DuckDBPyConnection, p: dict[str, Any]) -> str:
    row = one(con, "SELECT status FROM inbox_items WHERE platform = ? AND post_id = ?", [p["platform"], p["post_id"]])
    if row is None:
        raise ValueError(f"no inbox item {p['platform']}:{p['post_id']} (was it deleted or forgotten?)")
    return str(row[0])


def _event(con: duckdb.DuckDBPyConnection, p: dict[str, Any], at: datetime, actor: str, event: str, status: str,
           note: str | None) -> None:
    con.execute("INSERT INTO inbox_events VALUES (?, ?, ?, ?, ?, ?, ?)",
                [p["platform"], p["post_id"], at, actor, event, status, note])


def _when(p: dict[str, Any]) -> datetime:
    return p.get("at") or utcnow()


def _require(status: str, allowed: tuple[str, ...], p: dict[str, Any], doing: str) -> None:
    if status not in allowed:
        raise ValueError(f"inbox item {p['platform']}:{p['post_id']} is {status.replace('_', ' ')}; it cannot be "
                         f"{doing} (only when {' or '.join(s.replace('_', ' ') for s in allowed)})")


def assign(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Give an open item to someone (or take it); a new item becomes in progress."""
    assignee = (p.get("assignee") or "").strip()
    if not assignee:
        raise ValueError("assigning an inbox item needs the assignee")
    status = _status(con, p)
    _require(status, OPEN, p, "assigned")
    at = _when(p)
    con.execute("UPDATE inbox_items SET status = 'in_progress', assignee = ?, updated_at = ? "
                "WHERE platform = ? AND post_id = ?", [assignee, at, p["platform"], p["post_id"]])
    _event(con, p, at, actor, "assigned", "in_progress", f"to {assignee}" + (f": {p['note']}" if p.get("note") else ""))
    return {"status": "in_progress", "previous": status, "assignee": assignee}


def answer(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Record the reply staff sent elsewhere (on the platform, by e-mail or phone): the text, where, when, by whom."""
    reply = (p.get("text") or "").strip()
    if not reply:
        raise ValueError("recording an answer needs the reply that was sent")
    status = _status(con, p)
    _require(status, OPEN, p, "answered")
    at = _when(p)
    sent_id = p.get("sent_id")  # set by `sent` only: the reply went out from CivicRadar
    con.execute("UPDATE inbox_items SET status = 'answered', answered_at = ?, answered_by = ?, answer_text = ?, "
                "answer_via = ?, answer_url = ?, answer_post_id = ?, response_id = ?, updated_at = ?, "
                "assignee = coalesce(assignee, ?) WHERE platform = ? AND post_id = ?",
                [at, actor, reply, "sent" if sent_id else "elsewhere", p.get("url"), sent_id, p.get("response_id"),
                 at, actor, p["platform"], p["post_id"]])
    how = f"sent from CivicRadar as {p.get('account') or 'the agency'} ({sent_id})" if sent_id else \
        "recorded as sent elsewhere"
    _event(con, p, at, actor, "answered", "answered", how + (
        f" (library response {p['response_id']})" if p.get("response_id") else ""))
    return {"status": "answered", "previous": status, "answered_at": at}


def sent(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Record a reply sent from CivicRadar (responses/inbox_send.py): an answer with the post id or message SID (and
    link) the platform or Twilio returned."""
    if not (p.get("sent_id") or "").strip():
        raise ValueError("a reply sent from CivicRadar is recorded with the id the platform or Twilio returned")
    return {**answer(con, actor, p), "sent_id": p["sent_id"], "url": p.get("url")}


def send_failed(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """A reply the platform or Twilio refused, or that was never sent (off, no number): only the audit row."""
    _status(con, p)
    return {"recorded": True}


def close(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Close an open item without an answer: `closed` (handled another way) or `no_reply_needed`."""
    new = p.get("status") or "closed"
    if new not in CLOSED:
        raise ValueError(f"an inbox item is closed as {' or '.join(CLOSED)}, not {new!r}")
    status = _status(con, p)
    _require(status, OPEN, p, "closed")
    at = _when(p)
    con.execute("UPDATE inbox_items SET status = ?, closed_at = ?, updated_at = ? WHERE platform = ? AND post_id = ?",
                [new, at, at, p["platform"], p["post_id"]])
    _event(con, p, at, actor, new, new, p.get("note"))
    return {"status": new, "previous": status}


def reopen(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Back to in progress (an answer that did not settle it, a wrong close); the earlier answer stays in the
    history."""
    status = _status(con, p)
    _require(status, ("answered", *CLOSED), p, "reopened")
    at = _when(p)
    con.execute("UPDATE inbox_items SET status = 'in_progress', answered_at = NULL, answered_by = NULL, "
                "answer_text = NULL, answer_via = NULL, answer_url = NULL, answer_post_id = NULL, response_id = NULL, "
                "closed_at = NULL, updated_at = ? WHERE platform = ? AND post_id = ?",
                [at, p["platform"], p["post_id"]])
    _event(con, p, at, actor, "reopened", "in_progress", p.get("note"))
    return {"status": "in_progress", "previous": status}


def link(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Link the item to an incident by id (or unlink it with no id)."""
    status, incident = _status(con, p), p.get("incident_id")
    if incident is not None and one(con, "SELECT 1 FROM incidents WHERE incident_id = ?", [incident]) is None:
        raise ValueError(f"no incident #{incident}")
    at = _when(p)
    con.execute("UPDATE inbox_items SET incident_id = ?, updated_at = ? WHERE platform = ? AND post_id = ?",
                [incident, at, p["platform"], p["post_id"]])
    _event(con, p, at, actor, "linked" if incident is not None else "unlinked", status,
           f"incident #{incident}" if incident is not None else None)
    return {"status": status, "incident_id": incident}
