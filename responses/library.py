"""The library file: approved responses written in YAML, imported into the database at start.

`[responses] library` names the file (the demo ships demo/responses.yaml). The engine checks it at start and every
`every_seconds`; when it has changed, entries the database does not hold yet are added as version 1, with the
file's status (draft or approved) and approver, an `imported` event and an audit record (actor `library-file`).
Entries already in the database are never overwritten: what staff edited on the dashboard wins.

Format (one list under `entries`; `review_days` counts from the import, `review_by` is a date):

    entries:
      - id: HCPH-R-001
        title: Salt-water gargles do not kill the virus
        status: approved            # draft | approved
        approved_by: J. Rivera (communications lead)
        review_days: 180            # or review_by: 2027-01-31
        claims: [HCPH-RR-014]       # rumour-register / fact-check ids it answers
        topics: [prevention and cures]
        watches: [covid-19]
        links: [https://harborcounty.example/rumours]
        messages:
          en: {x: "...", bluesky: "...", mastodon: "...", sms: "...", email: "...", web: "..."}
          es: {x: "..."}
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.errors import CivicRadarError
from core.runs import Job, Progress
from settings import Settings
from storage import response_store
from storage.db import Database, utcnow

log = logging.getLogger(__name__)
ACTOR = "library-file"
KEYS = {"id", "title", "status", "approved_by", "review_days", "review_by", "claims", "topics", "watches", "links",
        "messages"}


class LibraryError(CivicRadarError, ValueError):
    """The library file cannot be read; the message names the file, the entry and what to fix."""


def _entry(raw: Any, where: str, today: date) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise LibraryError(f"{where}: each entry is a mapping with id, title, status, messages, ...")
    unknown = set(raw) - KEYS
    if unknown:
        raise LibraryError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(KEYS)}")
    review = raw.get("review_by")
    if review is None and raw.get("review_days") is not None:
        review = today + timedelta(days=int(raw["review_days"]))
    return {"response_id": str(raw.get("id") or ""), "title": raw.get("title"), "status": raw.get("status"),
            "approved_by": raw.get("approved_by"), "review_by": str(review) if review else None,
            "claim_ids": [str(c) for c in raw.get("claims") or []], "topics": list(raw.get("topics") or []),
            "watches": list(raw.get("watches") or []), "links": list(raw.get("links") or []),
            "messages": raw.get("messages") or {}}


def read(path: Path, today: date) -> list[dict[str, Any]]:
    """The file's entries as `response_store.import_entries` takes them; LibraryError says what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise LibraryError(f"{path}: cannot be read as YAML: {e}") from e
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise LibraryError(f"{path}: expected a list under 'entries:'")
    found = [_entry(raw, f"{path}: entry {i + 1}", today) for i, raw in enumerate(entries)]
    ids = [e["response_id"] for e in found]
    if len(set(ids)) != len(ids):
        raise LibraryError(f"{path}: an id is used twice: {sorted({i for i in ids if ids.count(i) > 1})}")
    return found


def load(db: Database, path: Path, today: date | None = None) -> dict[str, Any]:
    """Import the file's new entries in one audited transaction; returns {"added": [...], "kept": [...]}."""
    entries = read(path, today or utcnow().date())
    params = {"entries": entries, "source": str(path)}
    try:
        return db.run_action("response_import", response_store.import_entries, ACTOR, params,
                             {"source": str(path), "entries": [e["response_id"] for e in entries]})
    except ValueError as e:
        raise LibraryError(f"{path}: {e}") from e


class LibraryJob:
    """Imports the library file at start and again whenever its modification time changes (a recorded run of the
    one runner, runner.py: source "responses_library", job "import")."""

    def __init__(self, db: Database, path: Path) -> None:
        self.db, self.path = db, path
        self._seen: float | None = None

    def due(self) -> bool:
        try:
            return self.path.stat().st_mtime != self._seen
        except OSError as e:
            log.error("responses: the library file %s cannot be read (%s); check [responses] library", self.path, e)
            return False

    def work(self, progress: Progress) -> None:
        mtime = self.path.stat().st_mtime
        result = load(self.db, self.path)
        self._seen = mtime
        progress.add(len(result["added"]))
        progress.note({"kept": len(result["kept"])})


def library_jobs(db: Database, s: Settings) -> list[Job]:
    """The engine's job for the library file, if one is configured."""
    if not s.responses.library:
        return []
    job = LibraryJob(db, s.path(Path(s.responses.library)))
    return [Job("responses:library", "responses_library", "import", s.responses.every_seconds, job.work, job.due)]
