"""DuckLake storage with the real parts: a PostgreSQL catalog started here, data in a folder and in S3 (moto).

The same migrations, the same write path (posts and cursor in one transaction, each post once), maintenance as a
recorded job, and a replica's read-only attach with its newest snapshot.
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lake_helpers import Postgres, S3Server, postgres, s3_server  # noqa: F401 (fixtures)

from core.records import Batch
from helpers import make_post
from runner import Runner
from settings import LakeSettings
from storage import lake, lake_maintenance, lake_schema, migrations, rollup
from storage.db import Database, StorageError, delete_posts
from storage.lake import LakeConfig, LakeError
from storage.runs import RunLog

ROOT = Path(__file__).resolve().parents[1]
slow = pytest.mark.slow  # a real PostgreSQL (and moto): seconds each
_names = (f"lake{i}" for i in itertools.count())


def folder_lake(pg: Postgres, tmp_path: Path, inline_rows: int = 10) -> LakeConfig:
    """A migrated lake of its own, data in a folder."""
    return LakeConfig(pg.migrated(next(_names), f"{tmp_path}/lake/"), f"{tmp_path}/lake/", inline_rows)


def count(db: Database, sql: str) -> int:
    row = db.reader().execute(sql).fetchone()
    assert row is not None
    return int(row[0])


def state(db: Database) -> dict[str, object]:
    """What a write leaves: posts, keys, cursor and rollups, comparable across kinds."""
    read = db.reader()
    return {
        "posts": read.execute("SELECT platform, post_id, text, like_count FROM posts ORDER BY 1, 2").fetchall(),
        "keys": read.execute("SELECT platform, post_id, seen FROM post_keys ORDER BY 1, 2").fetchall(),
        "cursor": db.get_cursor("s"),
        "rollup": read.execute("SELECT * FROM posts_5m ORDER BY ALL").fetchall(),
        "volume": read.execute("SELECT * FROM volume_5m ORDER BY ALL").fetchall(),
    }


def batches() -> list[Batch]:
    """Three pages: the second overlaps the first (re-collected, one edited), the third repeats the second."""
    first = [make_post(i) for i in range(0, 30)]
    second = [make_post(i, like_count=5 if i == 25 else 0) for i in range(20, 50)]
    return [Batch(first, "c1"), Batch(second, "c2"), Batch(list(second), "c2")]


def test_the_lake_schema_drops_only_what_ducklake_refuses() -> None:
    for name, sql in migrations.MIGRATIONS:
        adapted = lake_schema.ddl(sql)
        assert not lake_schema.REFUSED.search(adapted), name
        assert adapted.count("CREATE TABLE") == re.sub(r"--[^\n]*", "", sql).count("CREATE TABLE"), name
    sql = "CREATE SEQUENCE ids;\nCREATE TABLE t (id BIGINT PRIMARY KEY DEFAULT nextval('ids'), k VARCHAR NOT NULL " \
          "UNIQUE, v INT NOT NULL DEFAULT 0, PRIMARY KEY (id, k)); -- a PRIMARY KEY comment"
    expected = "CREATE TABLE t (id BIGINT, k VARCHAR NOT NULL, v INT NOT NULL DEFAULT 0);"
    assert " ".join(lake_schema.ddl(sql).split()) == expected


def test_a_missing_extension_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lake, "EXTENSION_VERSION", "v0.0.0")
    with pytest.raises(LakeError, match=re.escape("pip install -e '.[lake]'")):
        lake.extension_path("ducklake")


def test_every_lake_setting_is_documented() -> None:
    text = (ROOT / "settings.toml").read_text()
    section = text.split("\n[storage.lake]\n", 1)[1].split("\n[", 1)[0]
    documented = set(re.findall(r"^#?\s*([a-z_0-9]+)\s*=", section, re.M))
    assert set(LakeSettings.model_fields) <= documented


@slow
def test_migrations_run_on_the_lake_once(postgres: Postgres, tmp_path: Path) -> None:  # noqa: F811
    config = LakeConfig(postgres.create_database(next(_names)), f"{tmp_path}/lake/", 10)
    db = Database(tmp_path / "lake.name", lake=config)
    try:
        assert db.applied == [name for name, _ in migrations.MIGRATIONS]
        tables = {r[0] for r in db.reader().execute("SELECT table_name FROM duckdb_tables() "
                                                    "WHERE database_name = 'lake'").fetchall()}
        assert {"posts", "post_keys", "cursors", "runs", "labels", "alerts", "inbox_items"} <= tables
    finally:
        db.close()
    again = Database(tmp_path / "lake.name", lake=config)
    assert again.applied == []
    again.close()


@slow
def test_batches_and_cursor_are_written_exactly_once_as_on_duckdb(postgres: Postgres,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    on_lake = Database(tmp_path / "lake.name", lake=folder_lake(postgres, tmp_path))
    on_file = Database(":memory:")
    try:
        for batch in batches():
            assert on_lake.write_batch("s", batch) == on_file.write_batch("s", batch)
        lake_state = state(on_lake)
        assert lake_state == state(on_file)
        assert len(lake_state["posts"]) == 50 and lake_state["cursor"] == "c2"  # type: ignore[arg-type]
        assert ("x", "25", "post number 25 about vaccines", 5) in lake_state["posts"]  # type: ignore[operator]
        on_lake.write_batch("s", batches()[0])  # the whole first page again: nothing added
        assert count(on_lake, "SELECT count(*) FROM posts") == 50
        assert count(on_lake, "SELECT sum(posts) FROM posts_5m") == 50
    finally:
        on_lake.close()
        on_file.close()


@slow
def test_a_failed_batch_keeps_neither_posts_nor_cursor(postgres: Postgres, tmp_path: Path,  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(tmp_path / "lake.name", lake=folder_lake(postgres, tmp_path))
    try:
        db.write_batch("s", batches()[0])
        monkeypatch.setattr(rollup, "add", lambda con, source: (_ for _ in ()).throw(RuntimeError("crash")))
        with pytest.raises(RuntimeError):
            db.write_batch("s", Batch([make_post(i) for i in range(100, 140)], "c9"))
        assert db.get_cursor("s") == "c1"
        assert count(db, "SELECT count(*) FROM posts") == count(db, "SELECT count(*) FROM post_keys") == 30
    finally:
        db.close()


@slow
def test_a_replica_attaches_read_only_and_sees_the_newest_snapshot(postgres: Postgres,  # noqa: F811
                                                                   tmp_path: Path) -> None:
    config = folder_lake(postgres, tmp_path)
    db = Database(tmp_path / "lake.name", lake=config)
    replica = lake.attach_read_only(config)
    try:
        before = lake.newest_snapshot(replica)
        db.write_batch("s", batches()[0])
        after = lake.newest_snapshot(replica)
        assert after.snapshot_id > before.snapshot_id and after.at >= before.at
        assert replica.execute("SELECT count(*) FROM posts").fetchone() == (30,)
        with pytest.raises(Exception, match=r"read.only"):
            replica.execute("DELETE FROM posts")
    finally:
        replica.close()
        db.close()


def maintain_now(db: Database, keep: timedelta, delete_after: timedelta) -> dict[str, Any]:
    """One maintenance pass now, through the runner as the engine's schedule runs it; its counts per step."""
    run = Runner(RunLog(db)).run(lake_maintenance.job(db, keep, delete_after))
    assert run is not None and run.ok, run
    return run.details


@slow
def test_maintenance_runs_as_a_recorded_job(postgres: Postgres, tmp_path: Path) -> None:  # noqa: F811
    db = Database(tmp_path / "lake.name", lake=folder_lake(postgres, tmp_path, inline_rows=5))
    try:
        for i in range(6):  # six 20-post pages: six small Parquet files; small cursor and run writes inlined
            db.write_batch("s", Batch([make_post(j) for j in range(i * 20, i * 20 + 20)], f"c{i}"))
        files = lambda: len(list((tmp_path / "lake").rglob("*.parquet")))  # noqa: E731
        before = files()
        done = maintain_now(db, keep=timedelta(0), delete_after=timedelta(0))
        assert done["merged"] > 0 and done["expired_snapshots"] > 0
        maintain_now(db, keep=timedelta(0), delete_after=timedelta(0))  # deletes what the first scheduled
        assert files() < before
        assert count(db, "SELECT count(*) FROM posts") == 120 and db.get_cursor("s") == "c5"
        runs = db.reader().execute("SELECT status, details FROM runs WHERE job = 'lake_maintenance'").fetchall()
        assert [r[0] for r in runs] == ["ok", "ok"] and '"merged"' in runs[0][1]
        db.lock_down()  # the engine locks down; maintenance and writes still reach the data path
        db.write_batch("s", Batch([make_post(500)], "c6"))
        maintain_now(db, keep=timedelta(hours=1), delete_after=timedelta(hours=1))
    finally:
        db.close()


@slow
def test_maintenance_is_scheduled_only_on_the_lake(postgres: Postgres, tmp_path: Path) -> None:  # noqa: F811
    from settings import Settings

    on_file = Database(":memory:")
    assert lake_maintenance.maintenance_jobs(on_file, Settings()) == []
    on_file.close()
    on_lake = Database(tmp_path / "lake.name", lake=folder_lake(postgres, tmp_path))
    [job] = lake_maintenance.maintenance_jobs(on_lake, Settings())
    assert (job.name, job.source, job.kind, job.every) == ("lake_maintenance", "lake", "lake_maintenance", 6 * 3600)
    on_lake.close()


def test_a_catalog_that_cannot_be_reached_is_a_clear_error(tmp_path: Path) -> None:
    config = LakeConfig("dbname=none host=/nonexistent port=1 user=x password=hunter22", f"{tmp_path}/", 10)
    with pytest.raises(StorageError, match="cannot attach the lake") as failed:
        Database(tmp_path / "lake.name", lake=config)
    assert "hunter22" not in str(failed.value)


@slow
def test_the_lake_in_s3(postgres: Postgres, s3_server: S3Server, tmp_path: Path) -> None:  # noqa: F811
    config = s3_server.config(postgres.migrated(next(_names), "s3://lake/t1/"), "t1")
    db = Database(tmp_path / "lake.name", lake=config)
    try:
        for batch in batches():
            db.write_batch("s", batch)
        assert count(db, "SELECT count(DISTINCT post_id) FROM posts") == count(db, "SELECT count(*) FROM posts") == 50
        assert db.get_cursor("s") == "c2"
        assert any(k.endswith(".parquet") for k in s3_server.keys("t1/"))
        for i in range(3):  # pages of new posts only: files that merging can join
            db.write_batch("s", Batch([make_post(j) for j in range(100 + 20 * i, 120 + 20 * i)], f"n{i}"))
        db.lock_down()
        done = maintain_now(db, keep=timedelta(0), delete_after=timedelta(0))
        assert done["merged"] > 0
        assert count(db, "SELECT count(*) FROM posts") == 110 and db.get_cursor("s") == "n2"
    finally:
        db.close()


def test_settings_describe_the_lake(write_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import settings as settings_module

    body = """
        [storage]
        kind = "ducklake"
        [storage.lake]
        catalog = "dbname=lake host=db.internal user=civicradar"
        password = {{ env = "TEST_LAKE_PASSWORD" }}
        data_path = "{data}"
        s3_endpoint = "127.0.0.1:9000"
        s3_key_id = {{ env = "TEST_LAKE_KEY" }}
        s3_secret = {{ env = "TEST_LAKE_SECRET" }}
        [classify]
        enabled = true
        [alerts]
        enabled = {on}
    """
    assert lake.config_from(settings_module.Settings()) is None  # the default: the DuckDB file
    monkeypatch.setenv("TEST_LAKE_PASSWORD", "pw-0123456789")
    busy = settings_module.load(write_settings(body.format(data="lake/", on="true")))
    assert lake.config_from(busy) is not None  # labels, alerts and incidents are on the lake: no job refused
    folder = lake.config_from(settings_module.load(write_settings(body.format(data="lake/", on="false"))))
    assert folder is not None and folder.s3 is None and folder.catalog.endswith("password=pw-0123456789")
    assert folder.data_path == f"{busy.base_dir}/lake/"
    monkeypatch.setenv("TEST_LAKE_KEY", "key-id")
    monkeypatch.setenv("TEST_LAKE_SECRET", "secret-0123456789")
    s3 = lake.config_from(settings_module.load(write_settings(body.format(data="s3://b/p", on="false"))))
    assert s3 is not None and s3.data_path == "s3://b/p/" and s3.s3 is not None
    assert (s3.s3.endpoint, s3.s3.key_id, s3.s3.use_ssl) == ("127.0.0.1:9000", "key-id", True)


@slow
def test_small_commits_are_inlined_in_the_catalog(postgres: Postgres, tmp_path: Path) -> None:  # noqa: F811
    db = Database(tmp_path / "lake.name", lake=folder_lake(postgres, tmp_path, inline_rows=10))
    files = lambda table: count(db, f"SELECT count(*) FROM ducklake_list_files('lake', '{table}')")  # noqa: E731
    try:
        db.write_batch("s", Batch([make_post(i) for i in range(3)], "c1"))  # 3 posts, 1 cursor row: no files
        assert files("posts") == 0 and files("cursors") == 0
        assert count(db, "SELECT count(*) FROM posts") == 3 and db.get_cursor("s") == "c1"
        db.write_batch("s", Batch([make_post(i) for i in range(100, 130)], "c2"))  # 30 posts: a Parquet file
        assert files("posts") == 1 and files("cursors") == 0
        assert count(db, "SELECT count(*) FROM posts") == 33 and db.get_cursor("s") == "c2"
    finally:
        db.close()


@slow
def test_staff_actions_and_retention_run_on_the_lake(postgres: Postgres, tmp_path: Path) -> None:  # noqa: F811
    from storage.dashboard_queries import register_remove, register_save, view_delete, view_save
    from storage.incident_actions import visit

    db = Database(tmp_path / "lake.name", lake=folder_lake(postgres, tmp_path))
    try:
        db.write_batch("s", batches()[0])
        view = {"name": "mine", "sql": "SELECT 1", "description": None}
        db.run_action("view_save", view_save, "ann", view)
        db.run_action("view_save", view_save, "ann", {**view, "sql": "SELECT 2"})  # replaced, not doubled
        assert db.reader().execute("SELECT sql FROM saved_views").fetchall() == [("SELECT 2",)]
        db.run_action("view_delete", view_delete, "ann", {"name": "mine"})
        entry = {"claim_id": "REG-1", "text": "a rumour", "rating": None, "url": None, "source": None}
        db.run_action("register_save", register_save, "ann", entry)
        db.run_action("register_save", register_save, "ann", {**entry, "text": "the rumour"})
        assert db.run_action("register_remove", register_remove, "ann", {"claim_id": "REG-1"})["text"] == "the rumour"
        assert db.run_action("visit", visit, "ann", {})["previous"] is None
        assert db.run_action("visit", visit, "ann", {})["previous"] is not None
        assert count(db, "SELECT count(*) FROM saved_views") == count(db, "SELECT count(*) FROM claims") == 0
        assert count(db, "SELECT count(*) FROM incident_visits") == 1
        assert count(db, "SELECT count(*) FROM audit") == 8  # one record per action
        removed = db.write(lambda con: delete_posts(con, "post_id IN ('1', '2')"))  # retention and forget use this
        assert removed == 2 and count(db, "SELECT count(*) FROM post_keys") == 28
        assert count(db, "SELECT sum(posts) FROM posts_5m") == 28
    finally:
        db.close()
