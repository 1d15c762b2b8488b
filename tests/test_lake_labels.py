"""Labels and embeddings on the lake (a real PostgreSQL catalog, Parquet in a folder): the label job labels each
pending post exactly once, a re-run labels nothing twice, a relabel replaces rows in place, and the 5-minute and
topic rollups stay exactly what a full recount says; the same labels as on the DuckDB file.
"""

from __future__ import annotations

import itertools
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from lake_helpers import Postgres, postgres  # noqa: F401 (fixture)

import settings as settings_module
from classifiers import Labeller
from classifiers.job import LabelJob, topics_from
from core.records import Batch
from helpers import free_port, make_post, wait_for, write_scenario
from storage import lake, rollup
from storage.db import Database
from storage.lake import LakeConfig
from storage.replica import retried

pytestmark = pytest.mark.slow  # a real PostgreSQL: seconds
NOW = datetime(2026, 11, 2)
_names = (f"labels{i}" for i in itertools.count())
TOPICS = 'description = "Getting a COVID-19 test"'


@pytest.fixture
def lake_db(postgres: Postgres, tmp_path: Path) -> Iterator[Database]:  # noqa: F811
    folder = f"{tmp_path}/lake/"
    db = Database(tmp_path / "lake.name", lake=LakeConfig(postgres.migrated(next(_names), folder), folder, 10))
    yield db
    db.close()


def job(db: Database, tiny_models_dir: Path, write_settings, topics: str = TOPICS) -> LabelJob:  # type: ignore[no-untyped-def]
    toml = f'[classify]\nbatch_size = 7\nembedding_days = 5\n[[topics]]\nname = "testing"\n{topics}\n'
    s = settings_module.load(write_settings(toml))
    return LabelJob(db, s, lambda: NOW, Labeller(topics_from(s), models_dir=tiny_models_dir))


def seed(db: Database) -> None:
    start = NOW.replace(tzinfo=UTC) - timedelta(days=10)
    posts = [make_post(i, when=start + timedelta(minutes=37 * i)) for i in range(40)]
    posts.append(make_post(99, text="Die Warteschlange am Testzentrum ist sehr lang heute", lang="de"))
    db.write_batch("demo", Batch(posts, "c"))


def rows(db: Database, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    return db.reader().execute(sql).fetchall()


def labels_of(db: Database) -> list[tuple]:  # type: ignore[type-arg]
    return rows(db, "SELECT platform, post_id, created_at, sentiment, topics, sentiment_model, topics_model, "
                    "misinfo_model FROM labels ORDER BY ALL")


def assert_rollups_agree(db: Database) -> None:
    """Each rollup is exactly a full recount from posts and labels."""
    for table, full in (("volume_5m", rollup.ALL_COUNTS), ("posts_5m", rollup.ALL_POST_COUNTS),
                        ("topics_5m", rollup.ALL_TOPIC_COUNTS)):
        assert rows(db, f"SELECT * FROM {table} ORDER BY ALL") == rows(db, f"{full} ORDER BY ALL"), table
    assert rows(db, "SELECT count(*) FILTER (WHERE topics_model IS NOT NULL) FROM labels")[0][0] > 0


def assert_once(db: Database, n: int) -> None:
    for table in ("labels", "embeddings"):
        total, distinct = rows(db, f"SELECT count(*), count(DISTINCT (platform, post_id)) FROM {table}")[0]
        assert total == distinct, table
    assert rows(db, "SELECT count(*) FROM labels")[0][0] == n


def test_the_label_job_labels_each_post_once_on_the_lake(lake_db: Database, tiny_models_dir: Path,
                                                         write_settings) -> None:  # type: ignore[no-untyped-def]
    on_file = Database(":memory:")
    try:
        for db in (lake_db, on_file):
            seed(db)
            assert job(db, tiny_models_dir, write_settings).run() == 41
            assert_once(db, 41)
            assert job(db, tiny_models_dir, write_settings).run() == 0  # nothing pending: nothing written twice
            assert_rollups_agree(db)
        assert labels_of(lake_db) == labels_of(on_file)
        assert rows(lake_db, "SELECT count(*) FROM embeddings") == rows(on_file, "SELECT count(*) FROM embeddings")
        assert rows(lake_db, "SELECT status, items FROM runs WHERE source = 'classify' ORDER BY run_id") == \
            [("ok", 41), ("ok", 0)]
    finally:
        on_file.close()


def test_a_relabel_replaces_labels_in_place_on_the_lake(lake_db: Database, tiny_models_dir: Path,
                                                        write_settings) -> None:  # type: ignore[no-untyped-def]
    seed(lake_db)
    job(lake_db, tiny_models_dir, write_settings).run()
    before = {r[1]: r for r in labels_of(lake_db)}
    edited = job(lake_db, tiny_models_dir, write_settings, 'description = "Queues and opening hours of test sites"')
    assert edited.run() == 41  # the topic changed: every post relabelled once
    after = {r[1]: r for r in labels_of(lake_db)}
    assert after.keys() == before.keys() and all(after[k][6] != before[k][6] for k in after)
    assert_once(lake_db, 41)
    assert_rollups_agree(lake_db)
    lake_db.write_batch("demo", Batch([make_post(200, when=NOW.replace(tzinfo=UTC))], "d"))
    assert edited.run() == 1 and edited.run() == 0
    assert_once(lake_db, 42)
    assert_rollups_agree(lake_db)


def test_the_engine_labels_on_the_lake(postgres: Postgres, tmp_path: Path, tiny_models_dir: Path,  # noqa: F811
                                       write_settings) -> None:  # type: ignore[no-untyped-def]
    """The real engine, with [classify] and [alerts] on and the lake as its storage: every post labelled once, read
    by a replica (the lake attached read-only) while the engine runs; no run of any job failed."""
    write_scenario(tmp_path / "scenario.jsonl.gz", 60)
    folder = f"{tmp_path}/lake/"
    catalog = postgres.migrated(next(_names), folder)
    settings = write_settings(f"""
        [storage]
        kind = "ducklake"
        path = "db/civicradar.duckdb"
        [storage.lake]
        catalog = "{catalog}"
        data_path = "lake/"
        [server]
        port = {free_port()}
        [classify]
        every_seconds = 1
        batch_size = 16
        models_dir = "{tiny_models_dir}"
        [alerts]
        every_seconds = 1
        [sources.demo]
        kind = "replay"
        path = "scenario.jsonl.gz"
        every_seconds = 0.2
        batch_size = 20
    """)
    log = tmp_path / "engine.log"
    with log.open("ab") as out:
        engine = subprocess.Popen([str(Path(sys.executable).parent / "civicradar"), "--settings", str(settings),
                                   "engine"], stdout=out, stderr=subprocess.STDOUT)
    config = LakeConfig(catalog, folder, 10)
    try:
        wait_for(lambda: engine.poll() is None and read(config, "SELECT (SELECT count(*) FROM labels), "
                                                                 "(SELECT count(*) FROM posts)") == [(60, 60)],
                 what=f"60 labelled posts ({log})", timeout=180)
        assert read(config, "SELECT count(DISTINCT (platform, post_id)) FROM labels") == [(60,)]
        for table, full in (("posts_5m", rollup.ALL_POST_COUNTS), ("topics_5m", rollup.ALL_TOPIC_COUNTS)):
            assert read(config, f"SELECT * FROM {table} ORDER BY ALL") == read(config, f"{full} ORDER BY ALL"), table
        failed = read(config, "SELECT source, job, error FROM runs WHERE status NOT IN ('ok', 'running')")
        assert failed == [], log.read_text()[-3000:]
        assert read(config, "SELECT count(*) FILTER (WHERE source = 'classify' AND status = 'ok') > 0, "
                            "count(*) FILTER (WHERE source = 'alerts') > 0 FROM runs") == [(True, True)]
    finally:
        engine.send_signal(signal.SIGTERM)
        engine.wait(timeout=60)
    assert engine.returncode == 0, log.read_text()[-3000:]


def read(config: LakeConfig, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    """One read on a fresh read-only attach, as a replica retries: an attached reader can fail after the engine
    flushes inlined data (duckdb/ducklake #1305, #1413; README)."""
    for attempt in (1, 2):
        con = lake.attach_read_only(config)
        try:
            return con.execute(sql).fetchall()
        except duckdb.Error as e:
            if attempt == 2 or not retried(e):
                raise
        finally:
            con.close()
    raise AssertionError("unreachable")
