"""The approved-response library's staff actions (save a version, approve, retire).

Every edit adds a version (`response_versions`, `response_messages`) and an event (`response_events`); nothing is
overwritten, so the history shows who wrote and who approved each text. `responses.approved_version` is the text
staff may use: editing an approved entry makes a new draft version while the approved one stays in use until a
lead approves the new one; retiring withdraws it. Each action runs in the engine's one writer with its audit record
(`Database.run_action`). Times are wall-clock (they measure people).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, datetime
from typing import Any

import duckdb

from core.response_kinds import CHANNELS, STATUSES
from storage.bulk import insert_rows
from storage.db import one, utcnow

ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
LINK = re.compile(r"^https?://\S+$")


def _messages(raw: Any) -> dict[str, dict[str, str]]:
    """{lang: {channel: text}} from JSON text or a dict; empty texts are dropped; at least one must remain."""
    data = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(data, dict):
        raise ValueError('messages must be a JSON object {"en": {"x": "...", "sms": "..."}}')
    found: dict[str, dict[str, str]] = {}
    for lang, channels in data.items():
        if not LANG.match(str(lang)) or not isinstance(channels, dict):
            raise ValueError(f"{lang!r} is not a language code (e.g. en, es, zh-Hant) with its channels")
        for channel, text in channels.items():
            if channel not in CHANNELS:
                raise ValueError(f"unknown channel {channel!r}; channels are {', '.join(CHANNELS)}")
            if isinstance(text, str) and text.strip():
                found.setdefault(str(lang), {})[channel] = text.strip()
    if not found:
        raise ValueError("a response needs at least one message (a language and a channel with text)")
    return found


def _day(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value if not isinstance(value, datetime) else value.date()
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as e:
        raise ValueError(f"review_by must be a date (YYYY-MM-DD), not {value!r}") from e


def _content(p: dict[str, Any]) -> dict[str, Any]:
    """The checked content of one version."""
    title = (p.get("title") or "").strip()
    if not 0 < len(title) <= 200:
        raise ValueError("a response needs a title of 1-200 characters")
    links = [link.strip() for link in p.get("links") or [] if link and link.strip()]
    bad = [link for link in links if not LINK.match(link)]
    if bad:
        raise ValueError(f"links must start with http:// or https://: {', '.join(bad)}")
    return {"title": title, "messages": _messages(p.get("messages") or "{}"), "links": links,
            "claim_ids": sorted({c.strip() for c in p.get("claim_ids") or [] if c.strip()}),
            "topics": sorted(set(p.get("topics") or [])), "watches": sorted(set(p.get("watches") or [])),
            "review_by": _day(p.get("review_by")), "note": (p.get("note") or "").strip() or None}


def _write_version(con: duckdb.DuckDBPyConnection, rid: str, version: int, c: dict[str, Any], actor: str,
                   now: datetime) -> None:
    con.execute("INSERT INTO response_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [rid, version, c["title"], c["claim_ids"], c["topics"], c["watches"], c["links"], c["review_by"],
                 c["note"], actor, now])
    rows = [(lang, channel, text) for lang, channels in c["messages"].items() for channel, text in channels.items()]
    insert_rows(con, "INSERT INTO response_messages SELECT rid, version, lang, channel, text FROM {rows}",
                {"rid": [rid] * len(rows), "version": [version] * len(rows), "lang": [r[0] for r in rows],
                 "channel": [r[1] for r in rows], "text": [r[2] for r in rows]})


def _event(con: duckdb.DuckDBPyConnection, rid: str, now: datetime, actor: str, event: str, version: int,
           note: str | None) -> None:
    con.execute("INSERT INTO response_events VALUES (?, ?, ?, ?, ?, ?)", [rid, now, actor, event, version, note])


def _current(con: duckdb.DuckDBPyConnection, rid: str) -> tuple[str, int, int | None]:
    row = one(con, "SELECT status, version, approved_version FROM responses WHERE response_id = ?", [rid])
    if row is None:
        raise ValueError(f"no response {rid!r} in the library")
    return str(row[0]), int(row[1]), row[2]


def save(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """A new entry (no `response_id`), or a new version of one: `base_version` must be its latest version, so two
    people editing at once cannot overwrite each other. The new version is a draft until it is approved."""
    content, now = _content(p), utcnow()
    rid = p.get("response_id")
    if not rid:
        rid = f"RSP-{uuid.uuid4().hex[:8].upper()}"
        con.execute("INSERT INTO responses VALUES (?, 'draft', 1, NULL, NULL, NULL, ?, ?, ?, ?)",
                    [rid, actor, now, actor, now])
        _write_version(con, rid, 1, content, actor, now)
        _event(con, rid, now, actor, "created", 1, content["note"])
        return {"response_id": rid, "version": 1, "status": "draft"}
    status, latest, _ = _current(con, rid)
    if p.get("base_version") != latest:
        raise ValueError(f"{rid} has changed since you opened it (now version {latest}); reload it and edit again")
    version = latest + 1
    con.execute("UPDATE responses SET status = 'draft', version = ?, updated_by = ?, updated_at = ? "
                "WHERE response_id = ?", [version, actor, now, rid])
    _write_version(con, rid, version, content, actor, now)
    _event(con, rid, now, actor, "edited", version, content["note"])
    return {"response_id": rid, "version": version, "status": "draft", "was": status}


def approve(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Approve exactly the version the approver reviewed (`version`), which must be the latest draft."""
    rid, version = p["response_id"], p["version"]
    status, latest, _ = _current(con, rid)
    if status == "retired":
        raise ValueError(f"{rid} is retired; edit it to make a new draft, then approve that")
    if version != latest:
        raise ValueError(f"{rid} has a newer version ({latest}) than the one you reviewed ({version}); review it")
    if status == "approved":
        raise ValueError(f"version {version} of {rid} is already approved")
    review = one(con, "SELECT review_by FROM response_versions WHERE response_id = ? AND version = ?", [rid, version])
    now = utcnow()
    if review and review[0] is not None and review[0] < now.date():
        raise ValueError(f"its review-by date ({review[0]}) has passed; set a new one in an edit, then approve")
    con.execute("UPDATE responses SET status = 'approved', approved_version = ?, approved_by = ?, approved_at = ?, "
                "updated_by = ?, updated_at = ? WHERE response_id = ?", [version, actor, now, actor, now, rid])
    _event(con, rid, now, actor, "approved", version, p.get("note"))
    return {"response_id": rid, "version": version, "status": "approved"}


def retire(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Withdraw an entry: no version of it is suggested any more (its history stays)."""
    rid, note = p["response_id"], (p.get("note") or "").strip()
    if not note:
        raise ValueError("retiring a response needs a reason (the note), for whoever looks at its history")
    status, latest, _ = _current(con, rid)
    if status == "retired":
        raise ValueError(f"{rid} is already retired")
    now = utcnow()
    con.execute("UPDATE responses SET status = 'retired', approved_version = NULL, updated_by = ?, updated_at = ? "
                "WHERE response_id = ?", [actor, now, rid])
    _event(con, rid, now, actor, "retired", latest, note)
    return {"response_id": rid, "status": "retired", "was": status}


def import_entries(con: duckdb.DuckDBPyConnection, actor: str, p: dict[str, Any]) -> dict[str, Any]:
    """Entries from the library file (`responses.library`) that the database does not hold yet, each as version 1
    with the file's status and approver. Entries already present are left alone: edits made on the dashboard win."""
    added, kept, now = [], [], utcnow()
    for item in p["entries"]:
        rid, status = str(item.get("response_id") or ""), item.get("status") or "draft"
        if not ID.match(rid) or status not in STATUSES[:2]:
            raise ValueError(f"library entry {rid!r}: needs an id (letters, digits, . _ -) and a status of "
                             "draft or approved")
        if one(con, "SELECT 1 FROM responses WHERE response_id = ?", [rid]):
            kept.append(rid)
            continue
        content = _content(item)
        approver = (item.get("approved_by") or actor) if status == "approved" else None
        con.execute("INSERT INTO responses VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
                    [rid, status, 1 if approver else None, approver, now if approver else None, actor, now,
                     actor, now])
        _write_version(con, rid, 1, content, actor, now)
        _event(con, rid, now, actor, "imported", 1, f"from {p.get('source') or 'the library file'}"
               + (f", approved by {approver}" if approver else ""))
        added.append(rid)
    return {"added": added, "kept": kept}
