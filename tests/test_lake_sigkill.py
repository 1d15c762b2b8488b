"""SIGKILL the real engine while it commits batches to the lake (PostgreSQL catalog, Parquet in a folder); restart it;
every post is stored exactly once, and stored posts are always exactly those its cursor acknowledges.

A replica (the lake attached read-only in this process) checks between kills and while the engine writes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from lake_helpers import Postgres, postgres  # noqa: F401 (fixture)

from helpers import free_port, wait_for, write_scenario
from storage import lake
from storage.lake import LakeConfig
from storage.migrations import MIGRATIONS

pytestmark = pytest.mark.slow
ROWS = 450


class Replica:
    """The lake attached read-only, as a replica would: a read that fails is retried once on a fresh ATTACH (upstream
    DuckLake readers can fail after the writer flushes inlined data; README)."""

    def __init__(self, config: LakeConfig) -> None:
        self.config, self.reattached = config, 0
        self.con: duckdb.DuckDBPyConnection = wait_for(self._attach, what="the lake", timeout=120)

    def _attach(self) -> duckdb.DuckDBPyConnection | None:
        try:
            con = lake.attach_read_only(self.config)
        except lake.LakeError:
            return None
        try:  # only once the schema is whole: a replica re-attaches after migrations
            if con.execute("SELECT count(*) FROM _migrations").fetchone() == (len(MIGRATIONS),):
                return con
        except duckdb.Error:
            pass
        con.close()
        return None

    def one(self, sql: str) -> tuple:  # type: ignore[type-arg]
        try:
            row = self.con.execute(sql).fetchone()
        except duckdb.Error:
            self.con.close()
            self.con, self.reattached = wait_for(self._attach, what="the lake again"), self.reattached + 1
            row = self.con.execute(sql).fetchone()
        assert row is not None
        return row

    def acknowledged(self) -> tuple[int, list[str]]:
        """The replay cursor's line and the stored post ids, read in one snapshot."""
        cursor, ids = self.one("SELECT (SELECT cursor FROM cursors WHERE source = 'demo'), "
                               "(SELECT list(post_id) FROM posts WHERE source = 'demo')")
        return (json.loads(cursor)["line"] if cursor else 0), list(ids or [])


def start(settings: Path, log: Path) -> subprocess.Popen[bytes]:
    """The engine, its output in `log` (shown when a round fails)."""
    exe = Path(sys.executable).parent / "civicradar"
    with log.open("ab") as out:
        return subprocess.Popen([str(exe), "--settings", str(settings), "engine"], stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def test_sigkill_mid_commit_on_the_lake_loses_and_repeats_nothing(postgres: Postgres, tmp_path: Path,  # noqa: F811
                                                                   write_settings) -> None:
    write_scenario(tmp_path / "scenario.jsonl.gz", ROWS)
    expected = [f"p{i:05d}" for i in range(ROWS)]
    catalog = postgres.create_database("sigkill")
    settings = write_settings(f"""
        [storage]
        kind = "ducklake"
        path = "db/civicradar.duckdb"
        [storage.lake]
        catalog = "{catalog}"
        data_path = "lake/"
        inline_rows = 5
        [server]
        port = {free_port()}
        [classify]
        enabled = false
        [alerts]
        enabled = false
        [sources.demo]
        kind = "replay"
        path = "scenario.jsonl.gz"
        every_seconds = 0.2
        batch_size = 30
    """)
    replica: Replica | None = None
    for round_, want in enumerate((60, 180, 300)):
        engine = start(settings, tmp_path / "engine.log")
        try:
            replica = replica or Replica(LakeConfig(catalog, f"{tmp_path}/lake/", 5))
            wait_for(lambda w=want, r=replica: len(r.acknowledged()[1]) >= w, what=f"{want} posts", timeout=120)
            time.sleep(0.07 * (round_ + 1))  # land the kills at different points of the commit
        finally:
            engine.send_signal(signal.SIGKILL)
            engine.wait(timeout=10)
        line, stored = replica.acknowledged()
        assert sorted(stored) == expected[:line], f"round {round_}: cursor at {line}, {len(stored)} stored"
    assert replica is not None
    engine = start(settings, tmp_path / "engine.log")
    try:
        wait_for(lambda r=replica: r.acknowledged()[0] == ROWS, what="every post", timeout=180)
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=30)
    line, stored = replica.acknowledged()
    assert sorted(stored) == expected  # each exactly once
    assert replica.one("SELECT count(*), count(DISTINCT post_id) FROM post_keys") == (ROWS, ROWS)
    assert replica.one("SELECT sum(posts) FROM posts_5m") == (ROWS,)
    print(f"replica re-attached {replica.reattached} times")
    replica.con.close()
