"""The one read-write DuckDB connection, and every write, through one path.

DuckDB allows one read-write process per file; the engine owns it. Writes are serialised by one lock and
each is a transaction (`Database.write`); readers get a cursor per thread (`Database.reader`) and see
committed data only. Bulk rows go in as Arrow tables (~1M rows/s), never one parameterised statement per
row (~1.4k rows/s).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from core.errors import CivicRadarError
from core.pseudonyms import PREFIX
from core.records import Batch, Claim, scrub, to_json
from settings import redact
from storage import inbox_track, lake_schema, migrations, rollup, service_requests
from storage.lake import LakeConfig, LakeError, allowed_directories
from storage.lake import connect as connect_lake
from storage.lake_lease import WriterLease
from storage.posts_write import DEPENDENT_TABLES as DEPENDENT_TABLES  # re-exported: imported from here
from storage.posts_write import POST_SCHEMA as POST_SCHEMA
from storage.posts_write import delete_posts as delete_posts
from storage.posts_write import posts_table as posts_table

log = logging.getLogger(__name__)
T = TypeVar("T")


class StorageError(CivicRadarError):
    """The database cannot be used; the message says why and what to do."""


_MUTABLE = ("url", "text", "lang", "watches", "like_count", "repost_count", "reply_count", "quote_count", "raw")
# Uniqueness lives in the narrow `post_keys` table (its primary key is the only index on posts): claiming 50k keys
# there costs well under half of upserting the posts into `posts` under the same key. `seen` > 0 marks keys stored
# before.
CLAIM_KEYS = (
    "INSERT INTO post_keys SELECT platform, post_id, created_at, 0 FROM batch "
    "ON CONFLICT DO UPDATE SET seen = post_keys.seen + 1 RETURNING platform, post_id, created_at, seen"
)
# The lake has no unique keys and no RETURNING: keys stored before are found by a join, inside the transaction that
# writes the posts and the cursor; with one writer nothing can claim a key between the join and the insert.
LAKE_AGAIN = ("SELECT b.platform, b.post_id, k.created_at, k.seen + 1 AS seen FROM batch b "
              "JOIN post_keys k USING (platform, post_id)")
LAKE_CLAIM = ("INSERT INTO post_keys SELECT platform, post_id, created_at, 0 FROM batch "
              "ANTI JOIN again USING (platform, post_id)")
LAKE_SEEN = ("UPDATE post_keys SET seen = again.seen FROM again "
             "WHERE post_keys.platform = again.platform AND post_keys.post_id = again.post_id")
# The source's cursor, in the batch's transaction; the same statements for both kinds (DuckLake has no INSERT OR
# REPLACE). Delete and insert rather than MERGE: on the lake a one-row INSERT is inlined in the catalog, a MERGE
# writes a Parquet file every time (measured: tests/test_lake.py).
DROP_CURSOR = "DELETE FROM cursors WHERE source = ?"
SET_CURSOR = "INSERT INTO cursors VALUES (?, ?, ?)"
# Posts stored before: their stored created_at (never changed) bounds the scan to the row groups that hold them.
# A pseudonymised post (storage/retention.py) collected again keeps its identifying columns empty.
PSEUDONYM_PREFIX = PREFIX  # core.pseudonyms
_IDENTIFYING = ("url", "raw")
# A post seen first as public talk and later by one of the agency's own-account sources keeps the direction they gave.
_DIRECTION = "direction = CASE WHEN b.direction = 'public' THEN posts.direction ELSE b.direction END"
UPDATE_POSTS = (
    "UPDATE posts SET "
    + ", ".join(f"{c} = CASE WHEN starts_with(posts.author_id, '{PSEUDONYM_PREFIX}') THEN NULL ELSE b.{c} END"
                if c in _IDENTIFYING else f"{c} = b.{c}" for c in _MUTABLE)
    + f", {_DIRECTION} FROM batch b JOIN again k USING (platform, post_id) WHERE posts.platform = b.platform AND "
    "posts.post_id = b.post_id AND posts.created_at = k.created_at AND posts.created_at BETWEEN $lo AND $hi"
)
# Write-ahead log size that triggers a checkpoint. DuckDB's 16MB default checkpoints after nearly every bulk batch
# (bench/ingest.py: ~115k posts/s); 256MB makes it ~150k, at the price of a longer log replay after a crash.
CHECKPOINT_THRESHOLD = "256MB"
FRESH = "batch ANTI JOIN again USING (platform, post_id)"


def one(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
    """The first row, with the result fully consumed (DuckDB 2 refuses new work while a result is unfinished)."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(value: datetime) -> datetime:
    return value if value.tzinfo is None else value.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class WriteResult:
    posts: int
    quarantined: int
    deleted: int
    claims: int = 0


class Database:
    read_only = False  # a replica (storage.replica.Replica) serves reads only
    _lease: WriterLease | None = None  # on a lake, its one writer's lock (storage.lake_lease)

    def __init__(self, path: Path | str, memory_limit: str = "2GB", lake: LakeConfig | None = None) -> None:
        """The DuckDB file at `path`, or with `lake` the DuckLake it describes (`path` then only names it)."""
        self.path = Path(path)
        self.lake = lake
        if lake is None and str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._con = self._connect(path, memory_limit)
        self._con.execute("SET TimeZone = 'UTC'")
        self._lock = threading.RLock()
        self._local = threading.local()
        self._cursors: list[duckdb.DuckDBPyConnection] = []
        self.applied = migrations.apply(self._con, lake_schema.ddl if lake else str)

    def _connect(self, path: Path | str, memory_limit: str) -> duckdb.DuckDBPyConnection:
        try:
            if self.lake is not None:  # the writer's lock first: attaching a new lake writes its catalog
                self._lease = WriterLease(self.lake)
                try:
                    return connect_lake(self.lake, memory_limit)
                except BaseException:
                    self._lease.release()
                    raise
            return duckdb.connect(str(path), config={"memory_limit": memory_limit,
                                                     "checkpoint_threshold": CHECKPOINT_THRESHOLD})
        except LakeError as e:
            raise StorageError(str(e)) from e
        except duckdb.IOException as e:
            raise StorageError(
                f"cannot open {path}: {e}. Another process (an engine, or a tool holding the file) has it "
                "open; stop it, or point storage.path at another file."
            ) from e

    def _check_lease(self) -> None:
        try:
            if self._lease is not None:
                self._lease.check()
        except LakeError as e:
            raise StorageError(str(e)) from e

    def close(self) -> None:
        """Close every thread's cursor, then the connection (checkpointing the WAL into the file); on a lake, then
        give up the writer's lock."""
        with self._lock:
            for cursor in self._cursors:
                cursor.close()
            self._con.close()
            if self._lease is not None:
                self._lease.release()

    def lock_down(self) -> None:
        """No SQL in this process may touch files, URLs, extensions or settings from now on."""
        with self._lock:
            if self.lake is not None:  # the lake's own data files stay reachable, nothing else
                self._con.execute("SET allowed_directories = ?", [allowed_directories(self.lake)])
            for setting in ("enable_external_access", "autoinstall_known_extensions", "autoload_known_extensions"):
                self._con.execute(f"SET {setting} = false")
            self._con.execute("SET lock_configuration = true")

    def new_cursor(self) -> duckdb.DuckDBPyConnection:
        cursor = self._con.cursor()
        if self.lake is not None:  # a cursor starts on the in-memory catalog
            cursor.execute("USE lake")
        return cursor

    def reader(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor: sees committed data, never blocks the writer."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.new_cursor()
            with self._lock:
                self._cursors.append(cursor)
        return cursor

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing. A commit that cannot reach the disk (full, quota, I/O error) becomes a StorageError;
        nothing of the transaction is kept, and the next write works again once space returns."""
        with self._lock:
            self._check_lease()
            self._con.execute("BEGIN")
            try:
                yield self._con
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    self._con.execute("ROLLBACK")
                raise
            try:
                self._con.execute("COMMIT")
            except (duckdb.IOException, duckdb.TransactionException) as e:
                with contextlib.suppress(duckdb.Error):
                    self._con.execute("ROLLBACK")
                raise StorageError(
                    f"could not write to {self.path}: {str(e).splitlines()[0]}. Is the disk full? Nothing of this "
                    "write was kept; it is retried on the next run once space is free."
                ) from e

    def exclusive(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        """`fn` under the writer's lock but outside a transaction, each statement committing on its own: lake
        maintenance, which DuckLake refuses to mix with changes in one transaction."""
        with self._lock:
            self._check_lease()
            return fn(self._con)

    def write(self, fn: Callable[[duckdb.DuckDBPyConnection], T]) -> T:
        with self.transaction() as con:
            return fn(con)

    def write_batch(self, source: str, batch: Batch, collected_at: datetime | None = None) -> WriteResult:
        """Posts, quarantined items, upstream deletions and the source's next cursor: all or nothing."""
        now = collected_at or utcnow()
        table = posts_table(batch.posts, source, now)

        def run(con: duckdb.DuckDBPyConnection) -> WriteResult:
            self._upsert_posts(con, table)
            deleted = self._delete_posts(con, batch.deleted)
            self._quarantine(con, source, now, batch)
            self._upsert_claims(con, batch.claims, now)
            if batch.next_cursor is not None:
                con.execute(DROP_CURSOR, [source])
                con.execute(SET_CURSOR, [source, batch.next_cursor, now])
            return WriteResult(table.num_rows, len(batch.quarantined), deleted, len(batch.claims))

        return self.write(run)

    def write_posts_table(self, table: pa.Table) -> None:
        """Bulk path for imports and benchmarks: an Arrow table already in POST_SCHEMA, upserted in one transaction.
        A table without `direction` (or with nulls in it) is public talk."""
        if "direction" not in table.column_names:
            table = table.append_column("direction", pa.nulls(table.num_rows, pa.string()))
        direction = pc.fill_null(table.column("direction").cast(pa.string()), "public")
        table = table.set_column(table.column_names.index("direction"), "direction", direction)
        self.write(lambda con: self._upsert_posts(con, table.select(POST_SCHEMA.names).cast(POST_SCHEMA)))

    def _upsert_posts(self, con: duckdb.DuckDBPyConnection, table: pa.Table) -> None:
        if not table.num_rows:
            return
        con.register("batch", table)
        try:
            self._store_posts(con)
            inbox_track.track(con, "batch", table)  # inbox rows, answers and engagement of these posts
            service_requests.track(con, table)  # Open311 requests as columns; closed ones close their items
        finally:
            con.unregister("batch")

    def _store_posts(self, con: duckdb.DuckDBPyConnection) -> None:
        """The registered `batch`: new posts appended, posts stored before updated in place, rollups kept exact."""
        again = self._claim_keys(con)
        if not again.num_rows:
            con.execute("INSERT INTO posts BY NAME SELECT * FROM batch")
            rollup.add(con, "batch")
            return
        con.register("again", again)
        try:
            times = again.column("created_at")
            con.execute(UPDATE_POSTS, {"lo": pc.min(times).as_py(), "hi": pc.max(times).as_py()})
            con.execute(f"INSERT INTO posts BY NAME SELECT * FROM {FRESH}")
            rollup.add(con, FRESH)
        finally:
            con.unregister("again")
        rollup.refresh(con, times)  # re-collected posts may have changed watches

    def _claim_keys(self, con: duckdb.DuckDBPyConnection) -> pa.Table:
        """The batch's keys claimed in `post_keys`; returns those stored before (seen > 0)."""
        if self.lake is None:
            keys = con.sql(CLAIM_KEYS).to_arrow_table()
            return keys.filter(pc.greater(keys.column("seen"), 0))
        again = con.sql(LAKE_AGAIN).to_arrow_table()
        con.register("again", again)
        try:
            con.execute(LAKE_CLAIM)
            if again.num_rows:
                con.execute(LAKE_SEEN)
        finally:
            con.unregister("again")
        return again

    @staticmethod
    def _delete_posts(con: duckdb.DuckDBPyConnection, keys: Sequence[tuple[str, str]]) -> int:
        if not keys:
            return 0
        gone = pa.table({"platform": [k[0] for k in keys], "post_id": [k[1] for k in keys]})
        con.register("gone", gone)
        try:
            return delete_posts(con, "(platform, post_id) IN (SELECT (platform, post_id) FROM gone)")
        finally:
            con.unregister("gone")

    @staticmethod
    def _upsert_claims(con: duckdb.DuckDBPyConnection, claims: Sequence[Claim], now: datetime) -> None:
        if not claims:
            return
        unique = list({c.claim_id: c for c in claims}.values())
        rows = pa.table(
            {
                "claim_id": [c.claim_id for c in unique],
                "text": [c.text and scrub(c.text) for c in unique],
                "rating": [c.rating and scrub(c.rating) for c in unique],
                "url": [c.url and scrub(c.url) for c in unique],
                "source": [c.source and scrub(c.source) for c in unique],
                "origin": [c.origin for c in unique],
                "published_at": pa.array([c.published_at and naive_utc(c.published_at) for c in unique],
                                         pa.timestamp("us")),
                "updated_at": pa.array([now] * len(unique), pa.timestamp("us")),
                "raw": [None if c.raw is None else to_json(c.raw) for c in unique],
            }
        )
        con.register("new_claims", rows)
        try:
            con.execute("MERGE INTO claims USING new_claims USING (claim_id) "
                        "WHEN MATCHED THEN UPDATE BY NAME WHEN NOT MATCHED THEN INSERT BY NAME")
        finally:
            con.unregister("new_claims")

    @staticmethod
    def _quarantine(con: duckdb.DuckDBPyConnection, source: str, now: datetime, batch: Batch) -> None:
        if not batch.quarantined:
            return
        rows = pa.table(
            {
                "source": [source] * len(batch.quarantined),
                "received_at": pa.array([now] * len(batch.quarantined), pa.timestamp("us")),
                "reason": [redact(scrub(q.reason)) for q in batch.quarantined],
                "raw": [to_json(q.raw)[:1_000_000] for q in batch.quarantined],
            }
        )
        con.register("bad", rows)
        try:
            con.execute("INSERT INTO quarantine SELECT * FROM bad")
        finally:
            con.unregister("bad")

    def get_cursor(self, source: str) -> str | None:
        row = one(self.reader(), "SELECT cursor FROM cursors WHERE source = ?", [source])
        return None if row is None else row[0]

    def start_run(self, source: str, job: str) -> int:
        def run(con: duckdb.DuckDBPyConnection) -> int:
            if self.lake is not None:  # no sequences on the lake
                run_id = lake_schema.next_id(con, "runs", "run_id")
                con.execute("INSERT INTO runs (run_id, source, job, started_at, status) VALUES (?, ?, ?, ?, "
                            "'running')", [run_id, source, job, utcnow()])
                return run_id
            row = one(con, "INSERT INTO runs (source, job, started_at, status) VALUES (?, ?, ?, 'running') "
                      "RETURNING run_id", [source, job, utcnow()])
            assert row is not None
            return int(row[0])

        return self.write(run)

    def finish_run(self, run_id: int, status: str, items: int = 0, warnings: int = 0, quarantined: int = 0,
                   error: str | None = None, details: dict[str, Any] | None = None) -> None:
        self.write(
            lambda con: con.execute(
                "UPDATE runs SET finished_at = ?, status = ?, items = ?, warnings = ?, quarantined = ?, "
                "error = ?, details = ? WHERE run_id = ?",
                [utcnow(), status, items, warnings, quarantined, error and redact(error),
                 redact(json.dumps(details, default=str)) if details else None, run_id],
            )
        )

    def audit(self, actor: str, action: str, details: dict[str, Any] | None = None) -> None:
        self.write(lambda con: self._audit(con, actor, action, details))

    @staticmethod
    def _audit(con: duckdb.DuckDBPyConnection, actor: str, action: str, details: dict[str, Any] | None) -> None:
        con.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?)",
            [utcnow(), actor, action, redact(json.dumps(details, default=str)) if details else None],
        )

    def run_action(self, name: str, fn: Callable[[duckdb.DuckDBPyConnection, str, dict[str, Any]], T],
                   actor: str, params: dict[str, Any], audited: dict[str, Any] | None = None) -> T:
        """A staff action and its audit record (`audited`, or the params), in one transaction."""

        def run(con: duckdb.DuckDBPyConnection) -> T:
            result = fn(con, actor, params)
            self._audit(con, actor, name, params if audited is None else audited)
            return result

        return self.write(run)

    def abandon_unfinished_runs(self) -> int:
        """Runs left 'running' by a crash are marked so on start (their writes were rolled back whole)."""
        row = self.write(
            lambda con: one(
                con,
                "UPDATE runs SET status = 'interrupted', finished_at = ?, "
                "error = 'the engine stopped before this run finished; its partial batch was rolled back' "
                "WHERE status = 'running'",
                [utcnow()],
            )
        )
        return int(row[0]) if row else 0
