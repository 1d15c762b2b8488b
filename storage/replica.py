"""A read replica: the lake attached READ_ONLY, serving the same storage-service API as the engine, writing nothing.

`civicradar serve` (storage/replica_serve.py) runs one on any machine that reaches the lake's PostgreSQL catalog
and data path. It never takes the writer's place: it attaches read-only, runs no migrations and no jobs, and
refuses actions (send them to the engine). It never blocks the writer: DuckLake readers take no lock the writer
waits on (docs/scale-out-notes.md, 0 lock waits sampled).

Freshness: every read is its own transaction, and DuckLake starts each transaction at the catalog's newest
snapshot, so a replica sees a commit as soon as the writer makes it; no refresh interval, no re-attach. Measured
on a 20-batch lake (load average ~14): attaching at a pinned SNAPSHOT_VERSION made reads no faster (post_counts
p50 60 ms pinned, 43 ms unpinned), so pinning and re-attaching on an interval would only add lag. The replica's
lag is therefore the age of the newest snapshot: the time since the writer last committed.

A reader that fails with a catalog or connection error (upstream duckdb/ducklake #1305 / #1413: a reader breaks
after a concurrent `ducklake_flush_inlined_data` until it attaches again) re-attaches once and retries.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

import duckdb
import pyarrow as pa

from core.errors import CivicRadarError
from settings import redact
from storage.db import Database, StorageError, utcnow
from storage.lake import ALIAS, LakeConfig, LakeError, Snapshot, attach_read_only
from storage.queries import run_query
from storage.replica_cache import CURRENT, NewestId, ResultCache, cached_read, key_of

log = logging.getLogger(__name__)
T = TypeVar("T")
REFUSED = ("this is a read replica: it serves reads only. Send actions to the engine's storage service "
           "(the dashboard does so when [dashboard] read_url names the replica and the engine is at [server])")
# The newest snapshot from the catalog's own table (DuckLake keeps it in __ducklake_metadata_<alias>), filtered to
# the current id, where `lake.snapshots()` lists them all (measured: 12 ms at 1,000 snapshots, 20 ms at 3,000; one
# commit a second keeps 86,400 with keep_snapshots_hours = 24). The id goes in as a literal: PostgreSQL then gets
# the filter (seen in its statement log), where with a subquery it sent every snapshot's row to be filtered here.
NEWEST = (f"SELECT snapshot_id, timezone('UTC', snapshot_time) FROM __ducklake_metadata_{ALIAS}.ducklake_snapshot "
          "WHERE snapshot_id = {id}")
# Errors after which a fresh ATTACH can help: the catalog connection dropped, or the reader's view of the
# catalog went stale (#1305 / #1413). Analysts' own mistakes (a missing table) are not retried.
RETRIED = (duckdb.IOException, duckdb.ConnectionException, duckdb.InternalException)
# And one race seen in CI (2026-12-05): a read planned at a snapshot whose inlined rows the writer has just flushed
# asks PostgreSQL for the dropped `ducklake_inlined_data_<table>_<version>` table and fails with
# InvalidInputException ("relation ... does not exist"); the same read at the next snapshot does not need it.
INLINED_GONE = "ducklake_inlined_data_"


def retried(error: duckdb.Error) -> bool:
    """Whether a fresh attach can help (see RETRIED); never an analyst's own mistake."""
    return isinstance(error, RETRIED) or (INLINED_GONE in str(error) and "does not exist" in str(error))


class ReplicaReadOnly(CivicRadarError):
    """A write was asked of a replica; the message says where to send it."""


class Replica(Database):
    """The `Database` surface the storage service uses, over a READ_ONLY attach of the lake."""

    read_only = True

    def __init__(self, config: LakeConfig, audit_file: Path, memory_limit: str = "1GB", threads: int = 1,
                 cache_entries: int = 256) -> None:
        """`threads`: DuckDB's (1: each read on the thread that asks; 0: one per core). `cache_entries`: named
        queries' results kept for the newest snapshot (storage.replica_cache; 0: none)."""
        self.path, self.lake, self.applied, self._config = Path(config.data_path), config, [], config
        self.audit_file, self._memory_limit, self._threads = audit_file, memory_limit, threads
        self.cache = ResultCache(cache_entries) if cache_entries else None
        self._newest = NewestId(config.catalog) if cache_entries else None
        self._lock = threading.RLock()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self._old: list[duckdb.DuckDBPyConnection] = []
        self._generation, self._locked = 0, False
        self._con = self._attach()

    def _attach(self) -> duckdb.DuckDBPyConnection:
        try:
            return attach_read_only(self._config, self._memory_limit, self._threads)
        except LakeError as e:
            raise StorageError(str(e)) from e

    def reattach(self) -> None:
        """A fresh ATTACH; cursors of the old one are replaced on their thread's next read (closed at close())."""
        with self._lock:
            fresh = self._attach()
            self._old.append(self._con)
            self._con, self._generation = fresh, self._generation + 1
            if self._locked:
                super().lock_down()
        log.warning("replica re-attached the lake after a catalog error")

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the current attach."""
        if getattr(self._local, "generation", self._generation) != self._generation:
            self._local.cursor = None
        self._local.generation = self._generation
        return super().reader()

    def reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor, whose `execute` runs once more on a fresh attach after a catalog error."""
        return cast(duckdb.DuckDBPyConnection, _Retrying(self))

    def read_named(self, name: str, params: Mapping[str, Any]) -> pa.Table:
        """A named query's result at the newest snapshot, from the cache when this snapshot's is kept; once more on
        a fresh attach after a catalog or connection error."""
        if self.cache is None or self._newest is None:
            return run_query(self.reader(), name, params)
        newest_id = self._newest.get()  # a hit needs only the catalog's newest id (storage.replica_cache)
        if newest_id is not None and (hit := self.cache.get(newest_id, key_of(name, params), False)) is not None:
            return hit
        try:
            return cached_read(self.cursor(), self.cache, name, params)
        except duckdb.Error as e:
            if not retried(e):
                raise
            log.warning("replica read failed (%s); attaching the lake again", str(e).splitlines()[0])
            self.reattach()
            return cached_read(self.cursor(), self.cache, name, params)

    def lock_down(self) -> None:
        self._locked = True
        super().lock_down()

    def close(self) -> None:
        if self._newest is not None:
            self._newest.close()
        with self._lock:
            for con in self._old:
                con.close()
        super().close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        raise ReplicaReadOnly(REFUSED)
        yield self._con  # pragma: no cover (a generator, so the refusal comes on entering)

    def exclusive(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        raise ReplicaReadOnly(REFUSED)

    def audit(self, actor: str, action: str, details: dict[str, Any] | None = None) -> None:
        """The replica cannot write the lake's audit table: its audit rows (analysts' SQL, refusals) go to a
        JSON-lines file beside it, one object a line, in the audit table's columns."""
        row = {"at": utcnow().isoformat(), "actor": actor, "action": action,
               "details": redact(json.dumps(details, default=str)) if details else None}
        with self._lock, self.audit_file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(row) + "\n")


class _Retrying:
    """A reader cursor: a statement that fails with a catalog or connection error runs once more on a fresh attach
    (the rest of a cursor's methods are the current cursor's own)."""

    def __init__(self, replica: Replica) -> None:
        self._replica = replica

    def execute(self, sql: str, parameters: Any = None) -> duckdb.DuckDBPyConnection:
        try:
            return self._replica.cursor().execute(sql, parameters)
        except duckdb.Error as e:
            if not retried(e):
                raise
            log.warning("replica read failed (%s); attaching the lake again", str(e).splitlines()[0])
            self._replica.reattach()
            return self._replica.cursor().execute(sql, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._replica.cursor(), name)


def newest(con: duckdb.DuckDBPyConnection) -> Snapshot:
    """The lake's newest committed snapshot, as `storage.lake.newest_snapshot` but at a cost that does not grow."""
    current = con.execute(CURRENT).fetchone()
    row = con.execute(NEWEST.format(id=int(current[0]))).fetchone() if current else None
    if row is None:
        raise StorageError("the lake has no snapshot yet; start the engine once to create its tables")
    return Snapshot(int(row[0]), row[1])


def storage_state(db: Database) -> dict[str, Any]:
    """What `GET /v1/storage` answers: the role, the kind, and for a lake its newest snapshot and that
    snapshot's age in seconds (a replica's lag: it sees every commit up to that snapshot)."""
    role = "replica" if getattr(db, "read_only", False) else "engine"
    if db.lake is None:
        return {"role": role, "kind": "duckdb", "snapshot_id": None, "snapshot_at": None, "lag_seconds": None}
    snap = newest(db.reader())
    lag = max((utcnow() - snap.at).total_seconds(), 0.0)
    cache = getattr(db, "cache", None)
    return {"role": role, "kind": "ducklake", "snapshot_id": snap.snapshot_id, "snapshot_at": snap.at.isoformat(),
            "lag_seconds": round(lag, 3),
            **({"cache_reads": cache.stats.reads, "cache_hits": cache.stats.hits} if cache is not None else {})}


def read_named(db: Database, name: str, params: Mapping[str, Any]) -> pa.Table:
    """What the service's named-query route runs: a replica's read (its result cache), or the engine's own."""
    if isinstance(db, Replica):
        return db.read_named(name, params)
    return run_query(db.reader(), name, params)


def describe(state: dict[str, Any]) -> str:
    """One line for people: where reads come from and how old its newest snapshot is."""
    if state.get("snapshot_id") is None:
        return f"{state.get('role', '?')} ({state.get('kind', '?')}): no snapshots (the embedded DuckDB file)"
    return (f"{state['role']} (ducklake): snapshot {state['snapshot_id']} of {state['snapshot_at']} UTC, "
            f"lag {float(state['lag_seconds']):.1f} s")
