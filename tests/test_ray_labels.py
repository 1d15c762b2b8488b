"""Labelling on a real local Ray cluster (a head and two worker processes on 127.0.0.1, token auth), tiny models.

The engine's label job with Ray workers writes the same labels as local labelling; a worker SIGKILLed mid-batch
loses and doubles nothing; `civicradar relabel --since` relabels history as a Ray Data job, once.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import jobs
import settings as settings_module
from classifiers import Labeller
from classifiers.job import LabelJob, topics_from
from classifiers.ray_pool import DeferredPool, RayLabeller, connect, start_pool
from classifiers.ray_relabel import POST_COLUMNS, read_posts
from classifiers.ray_testing import LocalCluster
from collectors.base import Batch, Claim
from helpers import free_port, make_post
from storage import rollup
from storage.db import Database
from storage.labels import ModelTags
from storage.relabel_export import export_outdated

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 2)
TOPICS = '[[topics]]\nname = "testing"\ndescription = "Getting a COVID-19 test"\n'


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
            for key, value in saved.items():  # connect() set them for this process: later tests get them back
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    assert not running.processes()  # every process of the cluster is gone


@pytest.fixture(scope="module", autouse=True)
def intruder(cluster) -> Iterator[subprocess.Popen[str]]:
    """A driver with a wrong token, started with the module (it is refused only after ~20 s of Ray's retries)."""
    code = f"from classifiers.ray_pool import connect; connect({cluster.address!r}, 'not-the-token-0123')"
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    yield process
    process.kill()
    process.wait()


@pytest.fixture
def ray_settings(cluster, tiny_models_dir, write_settings) -> settings_module.Settings:
    return settings_module.load(write_settings(
        f'[classify]\nmodels_dir = "{tiny_models_dir}"\n[labels]\nworkers = "ray"\nray_address = "{cluster.address}"\n'
        f'ray_chunk_size = 16\n{TOPICS}'))


@pytest.fixture
def pool(cluster, ray_settings) -> Iterator[RayLabeller]:
    s = ray_settings
    labeller = start_pool(topics_from(s), s.path(s.classify.models_dir), cluster.address, cluster.token, 2, 1, 16, 90)
    yield labeller
    labeller.close()  # frees the workers' CPUs for the next test


def seed(db: Database, n: int) -> None:
    start = NOW.replace(tzinfo=UTC) - timedelta(days=10)
    texts = ["The queue at the test centre is two hours long", "Salt water cures the virus, says my neighbour",
             "Council fixed the potholes on 5th street", "", "Die Warteschlange am Testzentrum ist sehr lang"]
    posts = [make_post(i, when=start + timedelta(minutes=30 * i), text=f"{texts[i % 5]} {i}".strip())
             for i in range(n)]
    db.write_batch("demo", Batch(posts, "c", claims=[Claim("R1", "Salt water cures the virus")]))


def labels(db: Database) -> list[tuple]:
    """Every label column but the time and the claims table's version (two databases seeded apart in time)."""
    return db.reader().execute("SELECT * EXCLUDE (labelled_at, misinfo_model), split_part(misinfo_model, '#', 1) "
                               "FROM labels ORDER BY post_id").fetchall()


def vectors(db: Database) -> list[tuple]:
    return db.reader().execute("SELECT post_id, model, vector FROM embeddings ORDER BY post_id").fetchall()


def local_labels(s: settings_module.Settings, n: int) -> tuple[list[tuple], list[tuple]]:
    db = Database(":memory:")
    try:
        seed(db, n)
        labeller = Labeller(topics_from(s), models_dir=s.path(s.classify.models_dir))
        assert LabelJob(db, s, lambda: NOW, labeller).run() == n
        return labels(db), vectors(db)
    finally:
        db.close()


def test_ray_workers_write_the_labels_local_labelling_writes(fresh_db, pool, ray_settings):
    import ray

    assert len({info["node"] for info in ray.get([a.ready.remote() for a in pool.actors])}) == 2  # one per worker
    seed(fresh_db, 60)
    job = LabelJob(fresh_db, ray_settings, lambda: NOW, pool)  # type: ignore[arg-type]
    assert job.run() == 60
    want_labels, want_vectors = local_labels(ray_settings, 60)
    assert_close(labels(fresh_db), want_labels)
    assert_close(vectors(fresh_db), want_vectors)
    assert {r[11] for r in labels(fresh_db)} == {pool.models["sentiment"]}  # the same model tags


def test_a_worker_exception_fails_the_run_and_keeps_every_worker(pool):
    import ray

    with pytest.raises(ray.exceptions.RayTaskError, match="ValueError"):
        pool.label(["a post"] * 40, batch_size=0)  # ONNX batches of 0 rows: every chunk raises
    assert sorted(map(id, pool.slots)) == sorted(map(id, pool.actors * 2)) and not pool.pings
    assert len(pool.label(["the next run works"] * 40)) == 40


def test_a_batch_written_twice_is_stored_once(fresh_db, tiny_models_dir, write_settings):
    """What makes a redone chunk harmless: labels are written keyed by post, and the rollups move each post from
    its stored labels to the new ones (no cluster needed)."""
    s = settings_module.load(write_settings(f'[classify]\nmodels_dir = "{tiny_models_dir}"\n{TOPICS}'))
    seed(fresh_db, 20)
    job = LabelJob(fresh_db, s, lambda: NOW, Labeller(topics_from(s), models_dir=s.path(s.classify.models_dir)))
    tags = job.tags(job.store.claims_version())
    batch = job.store.pending(tags, NOW - timedelta(days=30), 100)
    job._label(batch, tags)
    once = labels(fresh_db), vectors(fresh_db), rollups(fresh_db)
    job._label(batch, tags)  # the same batch again, as after a worker lost with its result already sent
    assert (labels(fresh_db), vectors(fresh_db), rollups(fresh_db)) == once and len(once[0]) == 20


def rollups(db: Database) -> dict[str, list[tuple]]:
    return {t: db.reader().execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in rollup.TABLES}


def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(fresh_db, pool, ray_settings):
    import ray

    seed(fresh_db, 400)
    victim = ray.get(pool.actors[1].ready.remote())["pid"]
    os.kill(victim, signal.SIGSTOP)  # it holds its first chunks of the batch without finishing them ...
    returned: list[int] = []

    def kill_after_three(size: int) -> None:
        returned.append(size)
        if len(returned) == 3:
            os.kill(victim, signal.SIGKILL)  # ... and dies while the batch is being labelled

    pool.on_chunk = kill_after_three
    job = LabelJob(fresh_db, ray_settings, lambda: NOW, pool)  # type: ignore[arg-type]
    assert job.run() == 400
    assert pool.redone == 2  # both chunks the dead worker held were redone by the other
    rows = fresh_db.reader().execute("SELECT count(*), count(DISTINCT (platform, post_id)) FROM labels").fetchall()
    assert rows == [(400, 400)]
    assert_close(labels(fresh_db), local_labels(ray_settings, 400)[0])
    assert fresh_db.reader().execute("SELECT status, items FROM runs WHERE source = 'classify'").fetchall() == [
        ("ok", 400)]
    started = time.monotonic()
    while pool.pings and time.monotonic() - started < 60:  # Ray restarts the dead worker; it rejoins the pool
        pool.label(["a post"] * 8)
        time.sleep(0.5)
    assert not pool.pings and len(pool.slots) == 4 and victim not in {
        info["pid"] for info in ray.get([a.ready.remote() for a in pool.actors])}
    print(f"the killed worker was back in {time.monotonic() - started:.1f} s")


def test_the_engine_labels_on_ray_with_the_token_and_refuses_without(cluster, fresh_db, ray_settings,
                                                                      monkeypatch):
    monkeypatch.delenv("CIVICRADAR_RAY_TOKEN", raising=False)
    with pytest.raises(settings_module.SettingsError, match=r"CIVICRADAR_RAY_TOKEN is not set .*labels.ray_token"):
        jobs.Engine(ray_settings, db=fresh_db)
    monkeypatch.setenv("CIVICRADAR_RAY_TOKEN", cluster.token)
    engine = jobs.Engine(ray_settings, db=fresh_db)
    deferred = engine.label_job.labeller
    assert isinstance(deferred, DeferredPool) and deferred.pool is None  # joined by the first labelling run
    try:
        seed(fresh_db, 30)
        assert engine.label_job.run() == 30
        assert isinstance(deferred.pool, RayLabeller) and len(deferred.pool.actors) == 2
    finally:
        deferred.close()


def test_relabel_since_runs_new_models_over_history_once(cluster, ray_settings, tiny_models_dir, tmp_path,
                                                         monkeypatch, capsys):
    new_models = shutil.copytree(tiny_models_dir, tmp_path / "models")
    config = new_models / "textcls" / "config.json"
    config.write_text(json.dumps({**json.loads(config.read_text()), "version": "0.0.2"}))
    path = tmp_path / "settings.toml"
    path.write_text(f'[storage]\npath = "{tmp_path / "cr.duckdb"}"\n[classify]\nmodels_dir = "{tiny_models_dir}"\n'
                    f'[labels]\nray_address = "{cluster.address}"\nray_chunk_size = 16\n{TOPICS}')
    old = settings_module.load(path)
    db = Database(old.db_path)
    seed(db, 100)
    LabelJob(db, old, lambda: NOW, Labeller(topics_from(old), models_dir=tiny_models_dir)).run()
    db.close()
    path.write_text(path.read_text().replace(str(tiny_models_dir), str(new_models)))
    monkeypatch.setenv("CIVICRADAR_RAY_TOKEN", cluster.token)
    since = (NOW - timedelta(days=9)).date()  # the seeded posts span two days from NOW - 10 days
    assert jobs.main(["--settings", str(path), "relabel", "--since", since.isoformat()]) == 0
    db = Database(old.db_path)
    try:
        tags = dict(db.reader().execute("SELECT sentiment_model, count(*) FROM labels GROUP BY 1").fetchall())
        recent = db.reader().execute("SELECT count(*) FROM posts WHERE created_at >= ?", [since]).fetchall()[0][0]
        assert tags == {"tiny-textcls@0.0.2": recent, "tiny-textcls@0.0.1": 100 - recent} and 0 < recent < 100
        assert db.reader().execute("SELECT count(DISTINCT (platform, post_id)) FROM labels").fetchall() == [(100,)]
    finally:
        db.close()
    assert jobs.main(["--settings", str(path), "relabel", "--since", since.isoformat()]) == 0  # nothing left
    assert "relabelled 0 posts" in capsys.readouterr().out
    assert not (tmp_path / "relabel").exists()  # the export (posts' texts) is gone
    lake = tmp_path / "lake.toml"  # the lake's relabel: tests/test_relabel_lake.py; an unreachable one says so
    lake.write_text(f'[storage]\nkind = "ducklake"\n[storage.lake]\ncatalog = "host=127.0.0.1 port={free_port()}"\n')
    assert jobs.main(["--settings", str(lake), "relabel", "--since", since.isoformat()]) == 2
    assert "cannot attach the lake" in capsys.readouterr().err


def test_shared_files_are_read_by_ray_data_read_tasks(cluster, fresh_db, tmp_path):
    """The reader a lake's data files will use: Ray Data's own Parquet read tasks (here over storage's export)."""
    seed(fresh_db, 30)
    files = export_outdated(fresh_db, NOW - timedelta(days=30), ModelTags("a", "b", "c"), tmp_path / "x", 12)
    assert len(files) == 3
    rows = read_posts([str(f) for f in files], shared=True).to_pandas()
    assert sorted(rows["post_id"], key=int) == [str(i) for i in range(30)] and list(rows.columns) == POST_COLUMNS


def assert_close(got: list[tuple], want: list[tuple]) -> None:
    """Equal rows; floats (scores, vectors) within float32 noise: the workers batch posts differently."""
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        x, y = _flat(a), _flat(b)
        assert len(x) == len(y) and [v for v in x if not isinstance(v, float)] == [
            v for v in y if not isinstance(v, float)], (a, b)
        assert [v for v in x if isinstance(v, float)] == pytest.approx([v for v in y if isinstance(v, float)],
                                                                       rel=1e-4, abs=1e-5)


def _flat(value: object) -> list[object]:
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _flat(v)]
    if isinstance(value, dict):
        return [x for k in sorted(value) for x in (k, *_flat(value[k]))]
    return [value]


def test_a_driver_without_the_token_is_refused(intruder):
    out, _ = intruder.communicate(timeout=120)
    assert intruder.returncode == 1 and "ClassifierError: cannot join the Ray cluster" in out
    assert "InvalidAuthToken" in out  # refused by the cluster for its token, not for being unreachable
