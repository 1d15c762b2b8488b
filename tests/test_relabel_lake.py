"""`civicradar relabel --since` on the lake (a real PostgreSQL catalog, a real local Ray cluster, tiny models): Ray
Data reads the lake's own Parquet data files (inlined rows flushed first, rows in delete files dropped), labels only
the posts whose labels are outdated, once, and the labels are those local labelling gives; a relabel stopped
half-way does the rest when run again; a Ray worker SIGKILLed mid-batch loses and doubles nothing; S3 too.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from lake_helpers import Postgres, S3Server, postgres, s3_server  # noqa: F401 (fixtures)
from test_lake_labels import assert_rollups_agree
from test_ray_labels import assert_close, labels

import jobs
import settings as settings_module
from classifiers import Labeller
from classifiers.errors import ClassifierError
from classifiers.job import LabelJob, topics_from
from classifiers.ray_pool import connect
from classifiers.ray_relabel import relabel
from classifiers.ray_testing import LocalCluster
from collectors.base import Batch, Claim
from helpers import make_post
from storage.db import Database
from storage.lake import LakeConfig
from storage.lake_files import posts_files

pytestmark = pytest.mark.slow  # a real PostgreSQL and Ray cluster: tens of seconds
NOW = datetime(2026, 11, 2)
START = NOW - timedelta(days=10)
SINCE = START + timedelta(days=1)  # posts every 30 minutes from START: the first 48 are older
TOPICS = '[[topics]]\nname = "testing"\ndescription = "Getting a COVID-19 test"\n'
TEXTS = ["The queue at the test centre is two hours long", "Salt water cures the virus, says my neighbour",
         "Council fixed the potholes on 5th street", "", "Die Warteschlange am Testzentrum ist sehr lang"]
_names = (f"relabel{i}" for i in itertools.count())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    import ray

    saved = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_USAGE_STATS_ENABLED")}
    with LocalCluster(tmp_path_factory.mktemp("ray"), workers=2) as running:
        connect(running.address, running.token)
        try:
            yield running
        finally:
            ray.shutdown()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def post(i: int, text: str | None = None):  # type: ignore[no-untyped-def]
    return make_post(i, when=START.replace(tzinfo=UTC) + timedelta(minutes=30 * i),
                     text=text or f"{TEXTS[i % len(TEXTS)]} {i}".strip())


def seed(db: Database, n: int) -> None:
    """`n` posts in one Parquet file; then a few inlined ones, edits and deletions (delete files once flushed)."""
    db.write_batch("demo", Batch([post(i) for i in range(n)], "c", claims=[Claim("R1", "Salt water cures the virus")]))
    for i in range(n, n + 4):
        db.write_batch("demo", Batch([post(i)], f"c{i}"))  # at most inline_rows: kept in the catalog
    edited = [post(i, f"Edited: the test centre queue is gone {i}") for i in (50, 51, n + 1)]
    db.write_batch("demo", Batch(edited, "e", deleted=[("x", "60"), ("x", str(n + 2))]))


def settings_file(path: Path, catalog: str, data_path: str, models: Path, cluster: LocalCluster, extra: str = ""
                  ) -> Path:
    path.write_text(f'[storage]\nkind = "ducklake"\npath = "db/cr.duckdb"\n[storage.lake]\ncatalog = "{catalog}"\n'
                    f'data_path = "{data_path}"\n{extra}[classify]\nmodels_dir = "{models}"\nbatch_size = 32\n'
                    f'[labels]\nray_address = "{cluster.address}"\nray_chunk_size = 16\n{TOPICS}')
    return path


def new_version(tiny_models_dir: Path, tmp_path: Path) -> Path:
    models = shutil.copytree(tiny_models_dir, tmp_path / "models")
    config = models / "textcls" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "version": "0.0.2"}))
    return models


def lake_db(s: settings_module.Settings) -> Database:
    from storage.lake import config_from

    return Database(s.db_path, lake=config_from(s))


def local_labels(lake: Database, s: settings_module.Settings) -> list[tuple]:  # type: ignore[type-arg]
    """Labels the label job gives the lake's posts on a DuckDB file, with `s`'s models (those since SINCE)."""
    models = s.classify.models_dir
    assert models is not None
    db = Database(":memory:")
    try:
        db.write_posts_table(lake.reader().sql("SELECT * FROM posts").to_arrow_table())
        db.write_batch("demo", Batch([], "c", claims=[Claim("R1", "Salt water cures the virus")]))
        LabelJob(db, s, lambda: NOW, Labeller(topics_from(s), models_dir=s.path(models))).run()
        return [row for row in labels(db) if row[2] >= SINCE]
    finally:
        db.close()


def relabel_cli(path: Path) -> int:
    return jobs.main(["--settings", str(path), "relabel", "--since", SINCE.date().isoformat()])


def test_relabel_on_the_lake_labels_the_outdated_posts_once(cluster, postgres: Postgres,  # noqa: F811
                                                            tiny_models_dir, tmp_path, monkeypatch, capsys):
    path = settings_file(tmp_path / "settings.toml", postgres.migrated(next(_names), f"{tmp_path}/lake/"), "lake/",
                         tiny_models_dir, cluster)
    old = settings_module.load(path)
    db = lake_db(old)
    seed(db, 160)
    LabelJob(db, old, lambda: NOW, Labeller(topics_from(old), models_dir=tiny_models_dir)).run()
    db.write_batch("demo", Batch([post(170), post(171)], "late"))  # not labelled yet (inlined)
    recent = db.reader().execute("SELECT count(*) FROM posts WHERE created_at >= ?", [SINCE]).fetchall()[0][0]
    db.close()
    path.write_text(path.read_text().replace(str(tiny_models_dir), str(new_version(tiny_models_dir, tmp_path))))
    monkeypatch.setenv("CIVICRADAR_RAY_TOKEN", cluster.token)
    written = stop_after_two_batches(monkeypatch)
    assert relabel_cli(path) == 2 and "stopped by the test" in capsys.readouterr().err
    monkeypatch.undo()
    monkeypatch.setenv("CIVICRADAR_RAY_TOKEN", cluster.token)
    assert relabel_cli(path) == 0  # the rest, and only the rest
    assert f"relabelled {recent - sum(written)} posts" in capsys.readouterr().out
    assert relabel_cli(path) == 0 and "relabelled 0 posts" in capsys.readouterr().out
    new = settings_module.load(path)
    db = lake_db(new)
    try:
        assert any(f.delete for f in posts_files(db))  # the edits and deletions left delete files to apply
        tags = dict(db.reader().execute("SELECT sentiment_model, count(*) FROM labels GROUP BY 1").fetchall())
        assert tags == {"tiny-textcls@0.0.2": recent, "tiny-textcls@0.0.1": 48} and recent == 160 + 4 - 2 + 2 - 48
        assert db.reader().execute("SELECT count(*), count(DISTINCT (platform, post_id)) FROM labels"
                                   ).fetchall() == [(recent + 48, recent + 48)]
        assert_close([r for r in labels(db) if r[2] >= SINCE], local_labels(db, new))
        assert_rollups_agree(db)
    finally:
        db.close()


def stop_after_two_batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The relabel's writes fail after two batches, as if the process stopped there; returns their sizes."""
    written: list[int] = []
    write = LabelJob._label

    def two_then_stop(job: LabelJob, batch, tags):  # type: ignore[no-untyped-def]
        if len(written) == 2:
            raise ClassifierError("stopped by the test")
        written.append(batch.num_rows)
        return write(job, batch, tags)

    monkeypatch.setattr(LabelJob, "_label", two_then_stop)
    return written


def relabel_workers(cluster: LocalCluster) -> list[psutil.Process]:
    found = []
    for p in cluster.processes():
        try:
            if "RelabelWorker" in " ".join(p.cmdline()):
                found.append(p)
        except psutil.Error:
            continue
    return found


def kill_one_mid_batch(cluster: LocalCluster, killed: list[int]) -> None:
    """SIGSTOP a relabel actor while it labels a batch (it holds that batch), let the other work on, SIGKILL it."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        busy = [p for p in relabel_workers(cluster) if ".submit" in " ".join(p.cmdline())]
        if busy:
            busy[0].send_signal(signal.SIGSTOP)
            time.sleep(1.0)
            busy[0].send_signal(signal.SIGKILL)
            killed.append(busy[0].pid)
            return
        time.sleep(0.01)


def test_a_ray_worker_killed_mid_batch_loses_and_doubles_nothing(cluster, postgres: Postgres,  # noqa: F811
                                                                 tiny_models_dir, tmp_path, monkeypatch):
    path = settings_file(tmp_path / "settings.toml", postgres.migrated(next(_names), f"{tmp_path}/lake/"), "lake/",
                         tiny_models_dir, cluster)
    s = settings_module.load(path)
    monkeypatch.setenv("CIVICRADAR_RAY_TOKEN", cluster.token)
    db = lake_db(s)
    try:
        seed(db, 600)
        killed: list[int] = []
        killer = threading.Thread(target=kill_one_mid_batch, args=(cluster, killed))
        killer.start()
        done = relabel(db, s, SINCE, tmp_path, actors=2, progress=False)
        killer.join()
        assert killed, "no relabel worker was seen labelling"
        expected = 600 + 4 - 2 - 48
        assert done == expected
        assert db.reader().execute("SELECT count(*), count(DISTINCT (platform, post_id)) FROM labels").fetchall() \
            == [(expected, expected)]
        assert_close(labels(db), local_labels(db, s))
        assert relabel(db, s, SINCE, tmp_path, actors=2, progress=False) == 0
    finally:
        db.close()


def test_relabel_reads_the_lakes_files_from_s3(cluster, postgres: Postgres, s3_server: S3Server,  # noqa: F811
                                               tiny_models_dir, tmp_path, monkeypatch):
    prefix = next(_names)
    config: LakeConfig = s3_server.config(postgres.migrated(prefix, f"s3://lake/{prefix}/"), prefix)
    assert config.s3 is not None
    keys = (f's3_endpoint = "{config.s3.endpoint}"\ns3_use_ssl = false\ns3_key_id = {{ env = "KEY" }}\n'
            's3_secret = { env = "KEY" }\n')
    monkeypatch.setenv("KEY", "testing")
    monkeypatch.setenv("CIVICRADAR_RAY_TOKEN", cluster.token)
    path = settings_file(tmp_path / "settings.toml", config.catalog, config.data_path, tiny_models_dir, cluster, keys)
    s = settings_module.load(path)
    db = lake_db(s)
    try:
        seed(db, 60)
        assert relabel(db, s, SINCE, tmp_path, actors=2, progress=False) == 60 + 4 - 2 - 48
        assert any(f.delete and f.delete.startswith("s3://") for f in posts_files(db))
        assert_close(labels(db), local_labels(db, s))
    finally:
        db.close()
