"""A read replica's results of named queries for the lake's newest snapshot: exact, because a snapshot never changes.

A read is one transaction: DuckLake fixes its snapshot on the first catalog access, so the snapshot id asked first
(`current_snapshot()`, one catalog round trip) is the snapshot the query then reads. The key is (snapshot id, query
name, bound parameters); a new commit is a new snapshot, so the next read misses and runs the query on it. Who asks
is not in the key: the service's role check (storage.service.Gate) runs before the read, and a named query's result
does not depend on the reader. Only the newest snapshot's results are kept: a newer one empties the cache.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from storage.lake import ALIAS
from storage.queries import run_query

CURRENT = f"SELECT id FROM {ALIAS}.current_snapshot()"
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

    def get(self, snapshot: int, key: tuple[str, str]) -> pa.Table | None:
        with self._lock:
            self.stats.reads += 1
            table = self._results.get(key) if snapshot == self._snapshot else None
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
