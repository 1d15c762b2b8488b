"""Data protection: retention limits, and forgetting a person on request.

Posts older than the retention age are deleted, or pseudonymised (author id replaced by a keyed hash, handle,
URL and raw payload removed; for posts without an author, such as 311 requests, URL, raw payload and the address,
in the text and in `service_requests`) so aggregate trends survive without identifying anyone. `forget_author` removes
every post of one author, with their labels and embeddings; the audit log records that a request was honoured
under a hash of the id, never the id itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from core.pseudonyms import pseudonym
from core.roles import ADMINS
from storage.db import PSEUDONYM_PREFIX, Database, delete_posts, one
from storage.named import Action, Param

QUERIES: dict[str, Any] = {}


@dataclass(frozen=True)
class RetentionResult:
    posts: int
    embeddings: int


def delete_older_than(db: Database, cutoff: datetime) -> int:
    def run(con: duckdb.DuckDBPyConnection) -> int:
        return delete_posts(con, "created_at < $cutoff", {"cutoff": cutoff})

    return db.write(run)


def pseudonymise_older_than(db: Database, cutoff: datetime, key: bytes) -> int:
    """Replace identifying columns of old posts; idempotent (already pseudonymised rows are skipped)."""

    def run(con: duckdb.DuckDBPyConnection) -> int:
        ids = con.execute("SELECT DISTINCT author_id FROM posts WHERE created_at < ? AND author_id IS NOT NULL "
                          "AND NOT starts_with(author_id, ?)", [cutoff, PSEUDONYM_PREFIX]).fetchall()
        mapping = pa.table({"old": [r[0] for r in ids], "new": [pseudonym(key, r[0]) for r in ids]})
        con.register("pseudonyms", mapping)
        try:
            row = one(con, "UPDATE posts SET author_id = m.new, author_handle = NULL, url = NULL, raw = NULL "
                           "FROM pseudonyms m WHERE posts.author_id = m.old AND posts.created_at < ?", [cutoff])
            con.execute("UPDATE inbox_items SET author_id = m.new, author_handle = NULL, url = NULL FROM pseudonyms m "
                        "WHERE inbox_items.author_id = m.old AND inbox_items.received_at < ?", [cutoff])
        finally:
            con.unregister("pseudonyms")
        return (int(row[0]) if row else 0) + clear_authorless(con, cutoff)

    return db.write(run)


# Posts with no author (Open311 requests, feeds) have no id to replace: their payload and link go, and a 311
# request's address leaves its text (the collector appends " (address)"), its inbox item and its service_requests
# row (address, lat, lon; status, service and times stay for the time-to-close figures).
_ADDRESSES = ("FROM service_requests s WHERE s.address IS NOT NULL AND s.requested_at < $cutoff AND "
              "{t}.platform = s.platform AND {t}.post_id = s.post_id AND ends_with({t}.text, ' (' || s.address || ')')")
CLEAR_AUTHORLESS = (
    "UPDATE posts SET text = left(posts.text, length(posts.text) - length(s.address) - 3) "
    + _ADDRESSES.format(t="posts") + " AND posts.author_id IS NULL",
    "UPDATE inbox_items SET text = left(inbox_items.text, length(inbox_items.text) - length(s.address) - 3) "
    + _ADDRESSES.format(t="inbox_items") + " AND inbox_items.author_id IS NULL",
    "UPDATE inbox_items SET url = NULL WHERE author_id IS NULL AND received_at < $cutoff AND url IS NOT NULL",
    "UPDATE service_requests SET address = NULL, lat = NULL, lon = NULL WHERE requested_at < $cutoff "
    "AND (address IS NOT NULL OR lat IS NOT NULL OR lon IS NOT NULL)",
)


def clear_authorless(con: duckdb.DuckDBPyConnection, cutoff: datetime) -> int:
    """Clear what identifies a place or a person in old posts without an author; returns the posts changed."""
    for statement in CLEAR_AUTHORLESS:
        con.execute(statement, {"cutoff": cutoff})
    row = one(con, "UPDATE posts SET url = NULL, raw = NULL WHERE author_id IS NULL AND created_at < ? "
                   "AND (url IS NOT NULL OR raw IS NOT NULL)", [cutoff])
    return int(row[0]) if row else 0


def prune_embeddings(db: Database, cutoff: datetime) -> int:
    row = db.write(lambda con: one(con, "DELETE FROM embeddings WHERE created_at < ?", [cutoff]))
    return int(row[0]) if row else 0


def forget_author(con: duckdb.DuckDBPyConnection, actor: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every post by this author (on one platform, or all), with labels and embeddings. Runs as an action."""
    removed = delete_posts(con, "author_id = $author AND ($platform IS NULL OR platform = $platform)",
                           {"author": params["author_id"], "platform": params["platform"]})
    return {"posts_removed": removed}


def audit_details(params: dict[str, Any]) -> dict[str, Any]:
    """What the audit log keeps of a forget request: a hash of the id, so the log itself forgets them too."""
    digest = hashlib.sha256(str(params["author_id"]).encode()).hexdigest()[:16]
    return {"platform": params.get("platform"), "author_sha256_16": digest}


def actions() -> dict[str, Action]:
    return {
        "forget_author": Action(
            forget_author,
            {"author_id": Param("str", required=True), "platform": Param("str")},
            roles=ADMINS,
            doc="Remove every post of one author (a person's request to be forgotten).",
            audit=audit_details,
        )
    }


def run(db: Database, now: datetime, days: float, action: str, embedding_days: float, key: bytes) -> RetentionResult:
    """One retention pass (the scheduled job): old posts deleted or pseudonymised, old embeddings pruned."""
    cutoff = now - timedelta(days=days)
    posts = delete_older_than(db, cutoff) if action == "delete" else pseudonymise_older_than(db, cutoff, key)
    return RetentionResult(posts, prune_embeddings(db, now - timedelta(days=embedding_days)))
