"""A read replica with the real parts: a PostgreSQL catalog (tests/lake_helpers.py), the engine writing replayed
batches to the lake in its own process, and `civicradar serve` in another process answering named queries and the
analysts' SQL throughout: no errors, the writer keeps committing, reads see new posts as soon as they commit,
actions are refused with a pointer to the engine, and the lag is reported (service, split client, status)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from lake_helpers import Postgres, postgres  # noqa: F401 (fixture)

from core.records import Batch
from helpers import drained, free_port, make_post, start_engine, wait_for, write_scenario
from storage import replica as replicas
from storage import sandbox
from storage.callers import OPERATOR_CLIENT
from storage.client import TOKEN_ENV, URL_ENV, ServiceError, SplitClient, StorageClient
from storage.db import Database, utcnow
from storage.lake import LakeConfig, newest_snapshot
from storage.replica import Replica, ReplicaReadOnly
from storage.replica_cache import NewestId, ResultCache, key_of
from storage.service import Service, create_app

ROWS, ACTOR = 8000, "cli:test"
COUNT = "SELECT count(*) AS n FROM posts"


def start_replica(settings: Path, port: int) -> subprocess.Popen[str]:
    exe = Path(sys.executable).parent / "civicradar"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([str(exe), "--settings", str(settings), "serve", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def stored(client: StorageClient) -> int:
    return int(client.sql(COUNT, ACTOR)[0]["n"].iloc[0])


class Readers:
    """Threads reading from the replica until stopped: a named query and SQL in turn; every failure kept."""

    def __init__(self, url: str, token: str, threads: int = 3) -> None:
        self.url, self.token, self.stop = url, token, threading.Event()
        self.errors: list[str] = []
        self.reads = 0
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _run(self) -> None:
        client = StorageClient(self.url, self.token, timeout=30, client=OPERATOR_CLIENT)
        while not self.stop.is_set():
            try:
                assert len(client.query("post_counts")) > 0
                assert stored(client) > 0
                self.reads += 2
            except Exception as e:  # any failure of a read is what this test looks for
                self.errors.append(f"{type(e).__name__}: {e}")
        client.close()

    def join(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=60)


@pytest.mark.slow
def test_a_replica_serves_reads_throughout_the_engines_writes(postgres: Postgres, tmp_path: Path,  # noqa: F811
                                                             write_settings, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    token = "replica-test-token-0123456789"
    monkeypatch.setenv("CIVICRADAR_REPLICA_TEST_TOKEN", token)  # the engine's and the replica's, as in production
    write_scenario(tmp_path / "scenario.jsonl.gz", ROWS)
    engine_port, replica_port = free_port(), free_port()
    replica_url = f"http://127.0.0.1:{replica_port}"
    settings = write_settings(f"""
        [storage]
        kind = "ducklake"
        [storage.lake]
        catalog = "{postgres.create_database("replica")}"
        data_path = "lake/"
        [server]
        port = {engine_port}
        token = {{ env = "CIVICRADAR_REPLICA_TEST_TOKEN" }}
        [dashboard]
        read_url = "{replica_url}"
        [classify]
        enabled = false
        [alerts]
        enabled = false
        [sources.demo]
        kind = "replay"
        path = "scenario.jsonl.gz"
        every_seconds = 0.2
        batch_size = 20
    """)
    engine_client = StorageClient(f"http://127.0.0.1:{engine_port}", token, timeout=30, client=OPERATOR_CLIENT)
    replica_client = StorageClient(replica_url, token, timeout=30, client=OPERATOR_CLIENT)
    engine = drained(start_engine(settings))
    replica = None
    try:
        wait_for(lambda: stored(engine_client) > 0, what="the engine's first posts", timeout=120)
        replica = drained(start_replica(settings, replica_port))
        wait_for(lambda: replica_client.storage_state()["role"] == "replica", what="the replica", timeout=60)
        first = replica_client.storage_state()
        readers = Readers(replica_url, token)
        fresh = [freshness(engine_client, replica_client) for _ in range(6)]
        readers.join()
        last = replica_client.storage_state()
        assert readers.errors == [] and readers.reads > 20
        assert all(seen >= committed for committed, seen in fresh), fresh  # every commit already visible
        assert last["snapshot_id"] > first["snapshot_id"] + 10  # the writer kept committing under the reads
        assert stored(replica_client) > fresh[0][0]
        refused_and_lagging(replica_client, engine_client, last)
        import jobs

        capsys.readouterr()
        assert jobs.main(["--settings", str(settings), "status"]) == 0  # in this process: no second start-up
        status = capsys.readouterr().out
        assert f"read replica at {replica_url}: replica (ducklake): snapshot " in status, status
    finally:
        for proc in (replica, engine):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=60)
        engine_client.close()
        replica_client.close()


def freshness(engine: StorageClient, replica: StorageClient) -> tuple[int, int]:
    """Posts the engine had committed, then what the replica reads right after; a pause between samples."""
    committed = stored(engine)
    seen = stored(replica)
    time.sleep(0.3)
    return committed, seen


def refused_and_lagging(replica: StorageClient, engine: StorageClient, state: dict) -> None:  # type: ignore[type-arg]
    """Actions are refused by the replica (409, naming the engine) and done by the engine through a split client;
    the sandbox refuses there as on the engine; the lag is the age of the newest snapshot, small while writing."""
    with pytest.raises(ServiceError, match=r"read replica.*engine") as refused:
        replica.action("forget_author", ACTOR, author_id="nobody")
    assert refused.value.status == 409
    split = SplitClient(engine, replica)
    assert split.action("forget_author", ACTOR, author_id="nobody")["posts_removed"] == 0
    assert split.storage_state()["role"] == "replica" and len(split.query("post_counts")) > 0
    for bad in ("DELETE FROM posts", "SELECT * FROM read_csv('/etc/passwd')"):
        with pytest.raises(ServiceError) as rejected:
            replica.sql(bad, ACTOR)
        assert rejected.value.status == 400
    assert state["kind"] == "ducklake" and 0 <= state["lag_seconds"] < 30


@pytest.fixture(scope="module")
def lake(postgres: Postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LakeConfig, Database]]:  # noqa: F811
    """One lake and its engine for this module's quick tests (the migrations take most of the time)."""
    folder = tmp_path_factory.mktemp("lake")
    config = LakeConfig(postgres.create_database("replica_unit"), f"{folder}/lake/", 10)
    engine = Database(folder / "lake.name", lake=config)
    yield config, engine
    engine.close()


def test_a_replica_sees_commits_and_new_tables_refuses_writes_and_reattaches(lake: tuple[LakeConfig, Database],
                                                                            tmp_path: Path) -> None:
    config, engine = lake
    replica = Replica(config, tmp_path / "audit.jsonl")
    replica.lock_down()
    try:
        engine.write_batch("s", Batch([make_post(i) for i in range(30)], "c1"))
        assert replica.reader().execute(COUNT).fetchone() == (30,)  # the next read sees the commit
        engine.write(lambda con: con.execute("CREATE TABLE later (a INT)"))
        engine.write(lambda con: con.execute("INSERT INTO later VALUES (7)"))
        assert replica.reader().execute("SELECT a FROM later").fetchall() == [(7,)]  # schema changes too
        for write in (lambda: replica.write_batch("s", Batch([make_post(99)], "c2")),
                      lambda: replica.exclusive(lambda con: None)):
            with pytest.raises(ReplicaReadOnly, match="engine"):
                write()
        state = replicas.storage_state(replica)
        assert state["role"] == "replica" and state["snapshot_id"] == newest_snapshot(engine.reader()).snapshot_id
        assert replicas.newest(replica.reader()) == newest_snapshot(replica.reader())  # the cheap way, same answer
        assert 0 <= state["lag_seconds"] < 60
        replica._con.close()  # a broken attach (as after ducklake #1305): the next read attaches again
        assert replica.reader().execute(COUNT).fetchone() == (30,)
        with pytest.raises(sandbox.SqlRejected, match="disabled by configuration"):  # still locked down
            sandbox.run(replica, "SELECT * FROM read_csv('/etc/passwd')", 10, 5)
        replica.audit("ana", "sql", {"sql": "SELECT 1"})
        assert '"actor": "ana"' in (tmp_path / "audit.jsonl").read_text()
        assert engine.reader().execute(COUNT).fetchone() == (30,)
    finally:
        replica.close()


def test_the_embedded_file_reports_no_snapshots() -> None:
    db = Database(":memory:")
    state = replicas.storage_state(db)
    db.close()
    assert state == {"role": "engine", "kind": "duckdb", "snapshot_id": None, "snapshot_at": None,
                     "lag_seconds": None}
    assert "no snapshots" in replicas.describe(state)


def _storage_part() -> None:  # the Sources page's storage metrics, as an AppTest script
    import os

    from dashboard import replica_view

    replica_view.show(os.environ["CIVICRADAR_SERVICE_URL"])


def test_the_sources_page_shows_where_reads_come_from_and_the_lag(lake: tuple[LakeConfig, Database],
                                                                  tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    config, engine = lake
    replica = Replica(config, tmp_path / "audit.jsonl")
    service = Service(create_app(replica, "page-token", lambda: (utcnow(), False)), "127.0.0.1", 0)
    service.start()
    try:
        monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{service.server.servers[0].sockets[0].getsockname()[1]}")
        monkeypatch.setenv(TOKEN_ENV, "page-token")
        at = AppTest.from_function(_storage_part).run()
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Reads from"] == "a read replica"
        assert metrics["Newest snapshot"] == str(newest_snapshot(engine.reader()).snapshot_id)
        assert metrics["Lag"].endswith(" s") and "Lag: the age" in at.caption[0].value
    finally:
        service.stop()
        replica.close()


def test_a_replicas_result_cache_answers_only_for_the_newest_snapshot(lake: tuple[LakeConfig, Database],
                                                                      tmp_path: Path) -> None:
    """A repeated read at one snapshot is a hit; the next read after a commit misses and sees it (never stale);
    other parameters are another entry; a broken attach is attached again on the cached path too."""
    config, engine = lake
    replica = Replica(config, tmp_path / "audit.jsonl", threads=1, cache_entries=4)
    replica.lock_down()
    keys = lambda: replica.read_named("post_keys", {"source": "cached"}).num_rows  # noqa: E731
    try:
        engine.write_batch("cached", Batch([make_post(i, platform="cache") for i in range(5)], "c1"))
        assert (keys(), keys()) == (5, 5)
        assert replica.cache is not None and (replica.cache.stats.reads, replica.cache.stats.hits) == (2, 1)
        engine.write_batch("cached", Batch([make_post(i, platform="cache") for i in range(5, 12)], "c2"))
        assert keys() == 12 and replica.cache.stats.hits == 1  # the commit's snapshot: a miss, read afresh
        assert replica.read_named("post_keys", {"source": "other"}).num_rows == 0
        assert (keys(), replica.cache.stats.hits) == (12, 2)
        assert replica.reader().execute("SELECT current_setting('threads')").fetchone() == (1,)
        assert replica._newest is not None  # hits are looked for under the catalog's newest id, asked directly
        assert replica._newest.get() == newest_snapshot(engine.reader()).snapshot_id
        replica._con.close()  # a broken attach: the next miss attaches again
        engine.write_batch("cached", Batch([make_post(12, platform="cache")], "c3"))
        assert (keys(), keys(), replica.cache.stats.hits) == (13, 13, 3)
        state = replicas.storage_state(replica)
        assert (state["cache_reads"], state["cache_hits"]) == (replica.cache.stats.reads, 3)
        assert NewestId("dbname=none host=/nonexistent").get() is None  # no catalog: the transaction path alone
    finally:
        replica.close()


def test_the_result_cache_keeps_only_the_newest_snapshots_results_and_at_most_its_entries() -> None:
    cache, one = ResultCache(2), pa.table({"n": [1]})
    cache.put(5, key_of("q", {"a": 1}), one)
    cache.put(4, key_of("q", {"a": 2}), one)  # a read that began before snapshot 5: never asked for again
    assert cache.get(4, key_of("q", {"a": 2})) is None and cache.get(5, key_of("q", {"a": 1})) is one
    cache.put(6, key_of("q", {"a": 1}), one)
    assert cache.get(5, key_of("q", {"a": 1})) is None  # an older snapshot's result is gone
    for a in (2, 3, 4):
        cache.put(6, key_of("q", {"a": a}), one)
    assert [cache.get(6, key_of("q", {"a": a})) is one for a in (1, 2, 3, 4)] == [False, False, True, True]


def test_a_read_racing_a_flush_of_inlined_rows_is_retried_and_an_analysts_mistake_is_not() -> None:
    """The race CI met: the read was planned at a snapshot whose inlined-rows table the writer had just dropped."""
    gone = duckdb.InvalidInputException(
        'Failed to prepare COPY "COPY (SELECT "begin_snapshot" FROM "public"."ducklake_inlined_data_18_7") TO STDOUT": '
        'ERROR:  relation "public.ducklake_inlined_data_18_7" does not exist')
    assert replicas.retried(gone) and replicas.retried(duckdb.IOException("connection to server lost"))
    assert not replicas.retried(duckdb.CatalogException("Table with name nosuch does not exist!"))
    assert not replicas.retried(duckdb.InvalidInputException("Attempting to fetch from an unsuccessful query result"))
