"""The lake's one writer, enforced: a writer holds a PostgreSQL advisory lock in the catalog's database.

The embedded DuckDB file has one writer because DuckDB locks the file. A lake has no such lock: two engines (or an
engine and `civicradar relabel`, or a one-off CLI command that found no engine to ask) could both attach it for
writing, and the write path's guarantees rest on one writer (post keys checked by join, ids max + 1; DuckLake's
concurrent writers on PostgreSQL have open bugs upstream, README). So every writer (`storage.db.Database` on a lake)
first takes a session-level advisory lock on a connection of its own and keeps it until it closes. PostgreSQL
drops the lock with the session: a writer that is SIGKILLed, or whose machine dies, frees the lake as soon as the
server sees its connection close. Replicas never take it (they attach READ_ONLY).

If the connection holding the lock is lost while the writer keeps running (the catalog server restarted, a
connection cut), the lease is gone: `check()`, before each write, takes it again when nobody else holds it, and
otherwise refuses the write rather than risk a second writer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from typing import Any

from storage.lake import LakeConfig, LakeError, redacted

log = logging.getLogger(__name__)
NAMESPACE = 0x43520001  # "CR" + 1: CivicRadar's first advisory-lock class (a positive int4)
WAIT_SECONDS = 10.0  # a writer SIGKILLed a moment ago: its server session may take a little to end


class LakeBusy(LakeError):
    """Another writer holds the lake; the message names it and says what to do."""


def lock_key(config: LakeConfig) -> tuple[int, int]:
    """The two-int4 advisory-lock key of the lake. Advisory locks belong to one database, and a catalog database
    holds one lake (DuckLake's tables in its `public` schema), so the key is the same for every lake."""
    return NAMESPACE, 1


class WriterLease:
    """The lake's writer lock, held on its own PostgreSQL connection until `release()`."""

    def __init__(self, config: LakeConfig, wait_seconds: float | None = None) -> None:
        self._config, self._key = config, lock_key(config)
        self._con = self._take(WAIT_SECONDS if wait_seconds is None else wait_seconds)

    def _take(self, wait_seconds: float) -> Any:
        con = _connect(self._config)
        try:
            deadline = time.monotonic() + wait_seconds
            while not con.execute("SELECT pg_try_advisory_lock(%s, %s)", self._key).fetchone()[0]:
                if time.monotonic() >= deadline:
                    raise LakeBusy(
                        f"another writer holds the lake {self._config.data_path} "
                        f"({holder(con, self._key) or 'holder unknown'}; waited {wait_seconds:g} s). A lake takes "
                        "one writer, the engine: stop the other one, or let the engine do this (with the engine "
                        "running, CLI commands are sent to its service)")
                time.sleep(0.2)
        except BaseException:
            with contextlib.suppress(Exception):
                con.close()
            raise
        return con

    def check(self) -> None:
        """Before each write: the lock's connection is still there. A lost one (the catalog server restarted, a
        connection cut) is taken again at once if nobody else holds the lock; otherwise LakeError."""
        try:
            self._con.execute("SELECT 1").fetchone()
            return
        except Exception as e:  # psycopg's errors
            lost = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        self._close()
        try:
            self._con = self._take(0.0)
        except LakeError as e:
            raise LakeError(f"this writer lost its lease on the lake {self._config.data_path} ({lost}) and cannot "
                            f"take it again: {e}") from e
        log.warning("the lake's writer lease was lost (%s) and taken again", lost)

    def release(self) -> None:
        self._close()

    def _close(self) -> None:
        with contextlib.suppress(Exception):  # closing the session frees its advisory locks
            self._con.close()


def holder(con: Any, key: tuple[int, int]) -> str | None:
    """Who holds the lock, as PostgreSQL knows them: the application name a writer connects with, its address and
    since when."""
    row = con.execute(
        "SELECT a.application_name, coalesce(host(a.client_addr), 'local socket'), "
        "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = %s::oid AND l.objid = %s::oid "
        "AND l.objsubid = 2 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        key).fetchone()
    return f"{row[0] or 'a writer'} from {row[1]}, connected since {row[2]} UTC" if row else None


def _connect(config: LakeConfig) -> Any:
    try:
        import psycopg
    except ImportError as e:
        raise LakeError("the lake's writer lock needs psycopg: run pip install -e '.[lake]'") from e
    name = f"civicradar writer pid {os.getpid()} on {socket.gethostname()}"[:63]
    try:
        # keepalives: a connection cut without a word (NAT, a dead machine) is noticed within ~2 minutes
        return psycopg.connect(config.catalog, autocommit=True, connect_timeout=10, application_name=name,
                               keepalives=1, keepalives_idle=60, keepalives_interval=10, keepalives_count=6)
    except psycopg.Error as e:
        raise LakeError(redacted(f"cannot attach the lake (catalog {config.catalog}, data {config.data_path}): the "
                                 f"writer's lock: {str(e).splitlines()[0]}. Is PostgreSQL running?")) from e
