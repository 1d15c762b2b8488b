"""The lake's one writer, enforced by a PostgreSQL advisory lock (storage/lake_lease.py), with a real PostgreSQL.

A second writer is refused with the holder's name; a replica is not; a SIGKILLed writer frees the lake; a writer
whose lock connection is cut takes the lock again, unless another writer took it meanwhile.
"""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lake_helpers import Postgres, postgres  # noqa: F401 (fixture)

from core.records import Batch
from helpers import make_post
from storage import lake_lease
from storage.db import Database, StorageError
from storage.lake import LakeConfig, LakeError
from storage.replica import Replica

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # a real PostgreSQL
_names = (f"lease{i}" for i in itertools.count())


def lake(pg: Postgres, tmp_path: Path) -> LakeConfig:
    return LakeConfig(pg.migrated(next(_names), f"{tmp_path}/lake/"), f"{tmp_path}/lake/", 10)


def posts(db: Database) -> int:
    row = db.reader().execute("SELECT count(*) FROM posts").fetchone()
    assert row is not None
    return int(row[0])


def terminate(config: LakeConfig, pid: int) -> None:
    """Cut a session from the server's side, as a catalog restart or a dropped connection would."""
    import psycopg

    with psycopg.connect(config.catalog, autocommit=True) as con:
        con.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.3)


def test_a_second_writer_is_refused_naming_the_first_and_gets_the_lake_once_it_closes(
        postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    config = lake(postgres, tmp_path)
    monkeypatch.setattr(lake_lease, "WAIT_SECONDS", 0.5)
    first = Database(tmp_path / "lake.name", lake=config)
    try:
        with pytest.raises(StorageError, match="another writer holds the lake") as refused:
            Database(tmp_path / "lake.name", lake=config)
        message = str(refused.value)
        assert f"civicradar writer pid {os.getpid()}" in message and "waited 0.5 s" in message
        assert "stop the other one" in message
        replica = Replica(config, tmp_path / "audit.jsonl", cache_entries=0)  # readers never take the lock
        replica.close()
        first.write_batch("s", Batch([make_post(1)], "c1"))
    finally:
        first.close()
    second = Database(tmp_path / "lake.name", lake=config)
    try:
        assert posts(second) == 1
    finally:
        second.close()


WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from storage.db import Database
from storage.lake import LakeConfig, LakeError
db = Database({name!r}, lake=LakeConfig({catalog!r}, {data!r}, 10))
print("ready", flush=True)
time.sleep(120)
"""


def test_a_sigkilled_writer_frees_the_lake(postgres: Postgres, tmp_path: Path) -> None:  # noqa: F811
    config = lake(postgres, tmp_path)
    code = WRITER.format(root=str(ROOT), name=str(tmp_path / "lake.name"), catalog=config.catalog,
                         data=config.data_path)
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        with pytest.raises(LakeError, match=f"civicradar writer pid {writer.pid} on "):
            lake_lease.WriterLease(config, wait_seconds=0.5).release()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    started = time.monotonic()
    db = Database(tmp_path / "lake.name", lake=config)  # waits up to WAIT_SECONDS for the server to notice
    try:
        db.write_batch("s", Batch([make_post(2)], "c1"))
        assert posts(db) == 1 and time.monotonic() - started < lake_lease.WAIT_SECONDS
    finally:
        db.close()


def test_a_lost_lock_is_taken_again_unless_another_writer_has_it(postgres: Postgres,  # noqa: F811
                                                                  tmp_path: Path) -> None:
    config = lake(postgres, tmp_path)
    db = Database(tmp_path / "lake.name", lake=config)
    try:
        assert db._lease is not None
        terminate(config, db._lease._con.info.backend_pid)
        db.write_batch("s", Batch([make_post(1)], "c1"))  # taken again: nobody else held it
        assert posts(db) == 1
        terminate(config, db._lease._con.info.backend_pid)
        other = lake_lease.WriterLease(config, wait_seconds=0)  # someone else takes the lake meanwhile
        try:
            with pytest.raises(StorageError, match=r"lost its lease on the lake .* cannot take it again"):
                db.write_batch("s", Batch([make_post(2)], "c2"))
        finally:
            other.release()
        assert posts(db) == 1  # the refused write kept nothing
        db.write_batch("s", Batch([make_post(2)], "c2"))  # free again: taken back
        assert posts(db) == 2
    finally:
        db.close()
