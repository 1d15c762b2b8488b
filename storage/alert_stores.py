"""Typed stores for the alerts area: what detectors and the alerts jobs read, and what a pass writes.

The alerts package gets these, never a DuckDB connection. `reading(db)` hands out an `AlertReader`: read methods
only, on a cursor of its own inside a read-only transaction (one snapshot for the whole pass; a write through it
fails). `write(db, fn)` runs `fn` with an `AlertWriter` bound to one `Database.write` transaction: alerts,
incidents, the outbox, the detection cursor and 311 links commit together or not at all. The SQL stays in
`alert_scan`, `alert_fast`, `alert_store`, `incident_store` and `service_links`; these classes wrap it, so another
storage kind implements the same two interfaces.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import duckdb
import pandas as pd
import pyarrow as pa

from core.findings import Finding, Recorded
from storage import alert_fast, alert_scan, alert_store, incident_store, service_links
from storage.db import Database
from storage.incident_writer import IncidentWriter
from storage.queries import run_query

if TYPE_CHECKING:
    from settings import Settings

T = TypeVar("T")


class AlertReader:
    """Read-only: the detectors' scans, the detection cursor, and what the alerts jobs check before they write."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: duckdb.DuckDBPyConnection) -> None:
        self._cursor = cursor

    def first_post_at(self) -> datetime | None:
        """When the stored history starts: earlier baseline windows are missing, not quiet."""
        return alert_scan.first_post_at(self._cursor)

    def series_counts(self, ranges: Sequence[tuple[datetime, datetime]], bucket_minutes: int,
                      topic_min_score: float) -> pd.DataFrame:
        return alert_scan.series_counts(self._cursor, ranges, bucket_minutes, topic_min_score)

    def series_posts(self, dim: str, key: str, lo: datetime, hi: datetime, topic_min_score: float, limit: int,
                     negative_only: bool = False) -> pd.DataFrame:
        return alert_scan.series_posts(self._cursor, dim, key, lo, hi, topic_min_score, limit, negative_only)

    def claim_match_counts(self, lo: datetime, hi: datetime, bucket_minutes: int, rule: Any,
                           stopwords: Iterable[str]) -> pd.DataFrame:
        return alert_scan.claim_match_counts(self._cursor, lo, hi, bucket_minutes, rule, stopwords)

    def claim_evidence(self, claim_id: str, lo: datetime, hi: datetime, rule: Any, stopwords: Iterable[str],
                       limit: int) -> pd.DataFrame:
        return alert_scan.claim_evidence(self._cursor, claim_id, lo, hi, rule, stopwords, limit)

    def shared_content(self, lo: datetime, hi: datetime, min_chars: int, min_accounts: int) -> pd.DataFrame:
        return alert_scan.shared_content(self._cursor, lo, hi, min_chars, min_accounts)

    def recent_posts(self, lo: datetime, hi: datetime, limit: int) -> pa.Table:
        return alert_scan.recent_posts(self._cursor, lo, hi, limit)

    def narrative_signatures(self, since: datetime) -> list[tuple[str, list[str]]]:
        return alert_store.narrative_signatures(self._cursor, since)

    def batch_watches(self, keys: Sequence[tuple[str, str]], since: datetime) -> set[str]:
        """The watches of the posts `keys` (platform, post_id): the fast path's affected series."""
        return alert_fast.batch_watches(self._cursor, keys, since)

    def detect_cursor(self) -> datetime | None:
        """The last grid step a detection pass evaluated."""
        return alert_store.detect_cursor(self._cursor)

    def due_deliveries(self, now: datetime, limit: int) -> list[dict[str, Any]]:
        return alert_store.due_deliveries(self._cursor, now, limit)

    def has_delivery(self, prefix: str) -> bool:
        return alert_store.has_delivery(self._cursor, prefix)

    def open_incidents_for_targets(self) -> list[dict[str, Any]]:
        return incident_store.open_for_targets(self._cursor)

    def named(self, name: str, params: dict[str, Any]) -> pd.DataFrame:
        """A named query, inside this reading's snapshot (storage.queries.run_query, as the service runs it)."""
        return run_query(self._cursor, name, params).to_pandas()


@contextlib.contextmanager
def reading(db: Database) -> Iterator[AlertReader]:
    """An `AlertReader` on a cursor of its own, in a read-only transaction closed on leaving."""
    cursor = db.new_cursor()
    try:
        cursor.execute("BEGIN TRANSACTION READ ONLY")
        yield AlertReader(cursor)
    finally:
        with contextlib.suppress(duckdb.Error):
            cursor.execute("ROLLBACK")
        cursor.close()


def read(db: Database, fn: Callable[[AlertReader], T]) -> T:
    with reading(db) as reader:
        return fn(reader)


class AlertWriter:
    """One transaction's writes (and the reads they depend on): alerts, the outbox, the detection cursor, 311 links;
    `incidents` is the same transaction's incident store."""

    __slots__ = ("_con", "incidents")

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.incidents = IncidentWriter(con)

    def record(self, f: Finding, cooldown: timedelta, now: datetime) -> Recorded:
        """A new alert, or an update of its situation's alert (see `alert_store.record`)."""
        return alert_store.record(self._con, f, cooldown, now)

    def set_detect_cursor(self, step: datetime, now: datetime) -> None:
        alert_store.set_detect_cursor(self._con, step, now)

    def enqueue(self, key: str, alert_id: int | None, channel: str, target: str, payload: str,
                now: datetime) -> bool:
        """An outbox row once per key; False when it was there already."""
        return alert_store.enqueue(self._con, key, alert_id, channel, target, payload, now)

    def mark_sent(self, delivery_id: int, now: datetime) -> None:
        alert_store.mark_sent(self._con, delivery_id, now)

    def mark_failed(self, delivery_id: int, error: str, retry_at: datetime | None) -> None:
        alert_store.mark_failed(self._con, delivery_id, error, retry_at)

    def link_requests(self, s: Settings, now: datetime) -> int:
        """311 requests that agree with an open incident (a pass's last step; see `storage.service_links`)."""
        return service_links.after_pass(self._con, s, now)


def write(db: Database, fn: Callable[[AlertWriter], T]) -> T:
    """Run `fn` with an `AlertWriter` in one transaction: all of it commits, or none."""
    return db.write(lambda con: fn(AlertWriter(con)))
