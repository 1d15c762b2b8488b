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
from pathlib import Path

import pytest
from lake_helpers import Postgres, postgres  # noqa: F401 (fixture)

from helpers import drained, free_port, start_engine, wait_for, write_scenario
from storage.callers import OPERATOR_CLIENT
from storage.client import ServiceError, SplitClient, StorageClient

pytestmark = pytest.mark.slow
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


def test_a_replica_serves_reads_throughout_the_engines_writes(postgres: Postgres, tmp_path: Path,  # noqa: F811
                                                             write_settings, monkeypatch: pytest.MonkeyPatch) -> None:
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
        fresh = [freshness(engine_client, replica_client) for _ in range(8)]
        readers.join()
        last = replica_client.storage_state()
        assert readers.errors == [] and readers.reads > 20
        assert all(seen >= committed for committed, seen in fresh), fresh  # every commit already visible
        assert last["snapshot_id"] > first["snapshot_id"] + 10  # the writer kept committing under the reads
        assert stored(replica_client) > fresh[0][0]
        refused_and_lagging(replica_client, engine_client, last)
        status = subprocess.run([str(Path(sys.executable).parent / "civicradar"), "--settings", str(settings),
                                 "status"], capture_output=True, text=True, timeout=60)
        assert f"read replica at {replica_url}: replica (ducklake): snapshot " in status.stdout, status.stdout
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
    time.sleep(0.5)
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
