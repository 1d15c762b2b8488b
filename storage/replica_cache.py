"""A read replica's results of named queries for the lake's newest snapshot: exact, because a snapshot never changes.

A read is one transaction: DuckLake fixes its snapshot on the first catalog access, so the snapshot id asked first
(`current_snapshot()`, one catalog round trip) is the snapshot the query then reads. The key is (snapshot id, query
name, bound parameters); a new commit is a new snapshot, so the next read misses and runs the query on it. Who asks
is not in the key: the service's role check (storage.service.Gate) runs before the read, and a named query's result
does not depend on the reader. Only the newest snapshot's results are kept: a newer one empties the cache.

A hit is first looked for under the catalog's newest snapshot id asked of PostgreSQL directly (`NewestId`, psycopg:
~0.02 ms of CPU, where the DuckLake transaction's `current_snapshot()` costs ~0.9 ms): that id is the newest
committed snapshot, so its kept result is exact. Without psycopg, or when that connection fails, every read takes
the transaction path above.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from storage.lake import ALIAS
from storage.queries import run_query

log = logging.getLogger(__name__)
CURRENT = f"SELECT id FROM {ALIAS}.current_snapshot()"
RETRY_SECONDS = 30.0  # after the catalog connection failed twice, the transaction path alone for this long
MAX_ROWS = 50_000  # a bigger result is not kept (memory); its read runs every time


@dataclass
class CacheStats:
    reads: int = 0
    hits: int = 0


class ResultCache:
    """At most `entries` results, all of one snapshot (the newest seen), least recently used out first."""

    def __init__(self, entries: int) -> None:
        self.entries = entries
        self.stats = CacheStats()
        self._snapshot = -1
        self._results: OrderedDict[tuple[str, str], pa.Table] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, snapshot: int, key: tuple[str, str], count_miss: bool = True) -> pa.Table | None:
        """The result kept for `snapshot`, counted as a read (and a hit); a miss is not counted when the caller
        reads again on the transaction path (which counts it)."""
        with self._lock:
            table = self._results.get(key) if snapshot == self._snapshot else None
            if table is not None or count_miss:
                self.stats.reads += 1
            if table is not None:
                self.stats.hits += 1
                self._results.move_to_end(key)
            return table

    def put(self, snapshot: int, key: tuple[str, str], table: pa.Table) -> None:
        """Kept only for the newest snapshot seen: a result of an older one (a read that began before a commit
        another read has already seen) is never asked for again."""
        if table.num_rows > MAX_ROWS:
            return
        with self._lock:
            if snapshot < self._snapshot:
                return
            if snapshot > self._snapshot:
                self._snapshot = snapshot
                self._results.clear()
            self._results[key] = table
            while len(self._results) > self.entries:
                self._results.popitem(last=False)


def key_of(name: str, params: Mapping[str, Any]) -> tuple[str, str]:
    """The query and its bound parameters, as a hashable key (values as text, names sorted)."""
    return name, json.dumps(dict(params), sort_keys=True, default=str)


def cached_read(con: duckdb.DuckDBPyConnection, cache: ResultCache, name: str,
                params: Mapping[str, Any]) -> pa.Table:
    """The named query on `con` (a cursor of the read-only attach) in one transaction: the snapshot's cached result,
    or the query run at that snapshot and kept."""
    con.execute("BEGIN")
    try:
        row = con.execute(CURRENT).fetchone()
        snapshot, key = (int(row[0]) if row else -1), key_of(name, params)
        table = cache.get(snapshot, key)
        if table is None:
            table = run_query(con, name, params)
            cache.put(snapshot, key, table)
    except BaseException:
        with contextlib.suppress(duckdb.Error):  # a broken connection cannot roll back; the caller attaches again
            con.execute("ROLLBACK")
        raise
    con.execute("ROLLBACK")  # read only: nothing to keep
    return table


class NewestId:
    """The lake's newest committed snapshot id, asked of the PostgreSQL catalog over a connection of its own
    (read-only, autocommit): the same `max(snapshot_id)` DuckLake starts each transaction with. None when psycopg
    is not installed or the catalog cannot be reached (the caller then reads on the transaction path)."""

    SQL = "SELECT max(snapshot_id) FROM public.ducklake_snapshot"  # DuckLake's metadata schema on PostgreSQL

    def __init__(self, dsn: str) -> None:
        self._dsn, self._lock = dsn, threading.Lock()
        self._con: Any = None
        self._retry_at = math.inf if importlib.util.find_spec("psycopg") is None else 0.0

    def get(self) -> int | None:
        with self._lock:
            if time.monotonic() < self._retry_at:
                return None
            for _ in range(2):  # a dropped connection: connect once more
                try:
                    self._con = self._con or _connect(self._dsn)
                    row = self._con.execute(self.SQL).fetchone()
                    return int(row[0]) if row and row[0] is not None else None
                except Exception as e:  # psycopg's errors; the transaction path still answers exactly
                    log.warning("replica: the catalog's newest snapshot not read directly (%s)", str(e)[:200])
                    self._close()
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return None

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):
            if self._con is not None:
                self._con.close()
        self._con = None


def _connect(dsn: str) -> Any:
    import psycopg

    return psycopg.connect(dsn, autocommit=True, connect_timeout=5,
                           options="-c default_transaction_read_only=on -c statement_timeout=5000")
