"""The scheduled labelling job over a real database, with tiny random models."""

from datetime import UTC, datetime, timedelta

import pytest

import settings as settings_module
from classifiers import Labeller
from classifiers.job import LabelJob, topics_from
from collectors.base import Batch, Claim
from helpers import make_post
from storage import labels as store
from storage.db import Database, delete_posts

NOW = datetime(2026, 11, 2)


@pytest.fixture
def job_factory(fresh_db, tiny_models_dir, write_settings):
    def build(topics: str = 'description = "Getting a COVID-19 test"') -> LabelJob:
        toml = f'[classify]\nbatch_size = 7\nembedding_days = 5\n[[topics]]\nname = "testing"\n{topics}\n'
        s = settings_module.load(write_settings(toml))
        return LabelJob(fresh_db, s, lambda: NOW, Labeller(topics_from(s), models_dir=tiny_models_dir))

    return build


def seed(db: Database) -> None:
    start = NOW.replace(tzinfo=UTC) - timedelta(days=10)
    posts = [make_post(i, when=start + timedelta(hours=6 * i)) for i in range(40)]
    posts.append(make_post(99, text="Die Warteschlange am Testzentrum ist sehr lang heute", lang="de"))
    db.write_batch("demo", Batch(posts, "c"))


def labelled(db: Database) -> dict[str, tuple]:
    rows = db.reader().execute("SELECT post_id, sentiment, sentiment_model, topics_model, misinfo_model FROM labels")
    return {r[0]: r[1:] for r in rows.fetchall()}


def test_every_post_is_labelled_once_with_its_models(fresh_db, job_factory):
    seed(fresh_db)
    job = job_factory()
    assert job.run() == 41
    rows = labelled(fresh_db)
    assert len(rows) == 41
    assert rows["1"][0] in {"negative", "neutral", "positive"}
    assert rows["99"][0] is None  # German: stored unscored, never mis-scored
    assert {r[1] for r in rows.values()} == {job.labeller.models["sentiment"]}
    assert job.run() == 0  # nothing pending
    vectors = fresh_db.reader().execute("SELECT count(*) FROM embeddings").fetchall()[0][0]
    assert 0 < vectors < 41  # only posts newer than embedding_days keep their vector
    runs = fresh_db.reader().execute("SELECT status, items FROM runs WHERE source = 'classify'").fetchall()
    assert runs == [("ok", 41), ("ok", 0)]


def test_editing_a_topic_relabels_topics(fresh_db, job_factory):
    seed(fresh_db)
    job_factory().run()
    before = labelled(fresh_db)
    job = job_factory('description = "Queues and opening hours of test sites"')
    assert job.run() == 41
    after = labelled(fresh_db)
    assert all(after[k][2] != before[k][2] for k in after)


def test_a_new_claim_rematches_recent_posts_only(fresh_db, job_factory):
    seed(fresh_db)
    job = job_factory()
    job.run()
    fresh_db.write_batch("rumours", Batch([], None, claims=[Claim("R1", "Salt water cures the virus")]))
    rematched = job.run()
    recent = fresh_db.reader().execute(
        "SELECT count(*) FROM posts WHERE created_at >= ?", [NOW - timedelta(days=7)]).fetchall()[0][0]
    assert rematched == recent and 0 < recent < 41


def test_a_failing_model_is_recorded_not_raised(fresh_db, job_factory, monkeypatch):
    seed(fresh_db)
    job = job_factory()
    monkeypatch.setattr(job.labeller, "label", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    assert job.run() == 0
    status, error = fresh_db.reader().execute("SELECT status, error FROM runs WHERE source = 'classify'").fetchall()[0]
    assert status == "error" and "boom" in error


TAGS = store.ModelTags("s@1", "t@1", "m@1")


def label(db: Database, rows, tags: store.ModelTags = TAGS) -> None:
    store.write(db, [{"platform": r["platform"], "post_id": r["post_id"], "created_at": r["created_at"],
                      "sentiment_model": tags.sentiment, "topics_model": tags.topics, "misinfo_model": tags.misinfo}
                     for r in rows], [])


def test_pending_finds_unlabelled_posts_however_old_then_outdated_ones(fresh_db):
    now = NOW.replace(tzinfo=UTC)
    ages = {1: timedelta(minutes=1), 2: timedelta(minutes=2), 3: timedelta(days=10), 4: timedelta(days=400)}
    fresh_db.write_batch("t", Batch([make_post(i, when=now - age) for i, age in ages.items()], None))
    since = NOW - timedelta(days=7)
    label(fresh_db, store.pending(fresh_db, TAGS, since, 2).to_pylist())  # the two newest
    left = store.pending(fresh_db, TAGS, since, 10)
    assert left.column("post_id").to_pylist() == ["3", "4"]  # found beyond the last day and the last 30
    label(fresh_db, left.to_pylist())
    assert store.pending(fresh_db, TAGS, since, 10).num_rows == 0
    fresh_db.write_batch("t", Batch([make_post(5, when=now)], None))
    relabel = store.pending(fresh_db, store.ModelTags("s@2", "t@1", "m@1"), since, 3).column("post_id").to_pylist()
    assert relabel == ["5", "1", "2"]  # unlabelled first, then outdated labels, newest first


def test_labels_of_a_post_deleted_while_labelling_are_dropped(fresh_db):
    fresh_db.write_batch("t", Batch([make_post(i) for i in range(3)], None))
    todo = store.pending(fresh_db, TAGS, NOW, 10).to_pylist()
    fresh_db.write(lambda con: delete_posts(con, "post_id = '1'"))
    label(fresh_db, todo)
    assert sorted(labelled(fresh_db)) == ["0", "2"]
    fresh_db.write_batch("t", Batch([make_post(5)], None))
    assert store.pending(fresh_db, TAGS, NOW, 10).column("post_id").to_pylist() == ["5"]  # counts stay exact
