"""The 5-minute rollups always equal a full recount, whatever writes, relabels and deletions did."""

from datetime import UTC, datetime, timedelta

from collectors.base import Batch
from helpers import make_post
from storage import labels as label_store
from storage import retention, rollup
from storage.actions import ACTIONS
from storage.db import Database
from storage.queries import QUERIES

START = datetime(2026, 11, 1, tzinfo=UTC)
RECOUNTS = {"volume_5m": rollup.ALL_COUNTS, "posts_5m": rollup.ALL_POST_COUNTS, "topics_5m": rollup.ALL_TOPIC_COUNTS}
SENTIMENTS = ("negative", "positive", "neutral", None)
TOPICS = (["vaccination"], ["schools", "vaccination"], [], None, ["testing"])


def rollup_rows(db: Database, table: str = "volume_5m") -> list[tuple]:
    return db.reader().execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def recount(db: Database, table: str = "volume_5m") -> list[tuple]:
    return db.reader().execute(f"SELECT * FROM ({RECOUNTS[table]}) ORDER BY ALL").fetchall()


def assert_exact(db: Database) -> None:
    for table in RECOUNTS:
        assert rollup_rows(db, table) == recount(db, table), table
    per_post = rollup_rows(db, "posts_5m")
    assert sum(r[-1] for r in per_post) == db.reader().execute("SELECT count(*) FROM posts").fetchall()[0][0]


def posts(n: int = 200) -> list:
    return [make_post(i, "x" if i % 2 else "bluesky", START + timedelta(minutes=3 * i),
                      watches=(("vaccines",), ("covid-19", "vaccines"), ())[i % 3], author_id=f"a{i % 4}")
            for i in range(n)]


def label_rows(chosen: list, model: str, shift: int = 0) -> list[dict]:
    """Labels of `chosen` posts by one model version; `shift` makes another version disagree on most of them."""
    return [{"platform": p.platform, "post_id": p.post_id, "created_at": p.created_at.replace(tzinfo=None),
             "sentiment": SENTIMENTS[(i + shift) % 4], "sentiment_model": model, "topics_model": model,
             "topics": None if TOPICS[(i + shift) % 5] is None
             else [{"name": name, "score": 0.8} for name in TOPICS[(i + shift) % 5]]}
            for i, p in enumerate(chosen)]


def topic_counts(db: Database) -> list[tuple]:
    """What topic volume counted before the rollup: every label's topics, straight from `labels`."""
    return db.reader().execute(
        "SELECT time_bucket(INTERVAL 1 HOUR, created_at) AS bucket, topic, coalesce(sentiment, 'unscored'), count(*) "
        "FROM (SELECT *, unnest([t.name FOR t IN topics]) AS topic FROM labels) GROUP BY ALL ORDER BY ALL").fetchall()


def test_rollup_tracks_every_kind_of_write(fresh_db):
    stored = posts()
    fresh_db.write_batch("s", Batch(stored[:120], "c1"))
    fresh_db.write_batch("s", Batch(stored[100:], "c2"))  # overlapping page
    assert_exact(fresh_db)
    assert sum(r[-1] for r in rollup_rows(fresh_db)) == 267  # 200 posts, 67 of them in two watches
    label_store.write(fresh_db, label_rows(stored[:50], "m@1"), [])
    assert_exact(fresh_db)
    assert {r[3] for r in rollup_rows(fresh_db)} == {"negative", "neutral", "positive", "unscored"}
    fresh_db.write_batch("s", Batch([], "c3", deleted=[("x", "1"), ("bluesky", "2")]))
    assert_exact(fresh_db)
    action = ACTIONS["forget_author"]
    fresh_db.run_action("forget_author", action.fn, "admin", action.bind("forget_author", {"author_id": "a3"}))
    assert_exact(fresh_db)
    retention.delete_older_than(fresh_db, (START + timedelta(hours=3)).replace(tzinfo=None))
    assert_exact(fresh_db)
    assert sum(r[-1] for r in rollup_rows(fresh_db) if r[2] != "covid-19") == \
        fresh_db.reader().execute("SELECT count(*) FROM posts").fetchall()[0][0]


def test_relabels_move_posts_between_sentiments_and_topics(fresh_db):
    stored = posts()
    fresh_db.write_batch("s", Batch(stored, "c1"))
    label_store.write(fresh_db, label_rows(stored[:150], "m@1"), [])
    before = rollup_rows(fresh_db, "topics_5m")
    assert_exact(fresh_db)
    label_store.write(fresh_db, label_rows(stored[40:190], "m@2", shift=1), [])  # a new version, partly new posts
    assert_exact(fresh_db)
    assert rollup_rows(fresh_db, "topics_5m") != before
    label_store.write(fresh_db, label_rows(stored[40:190], "m@2", shift=1), [])  # the same labels again
    assert_exact(fresh_db)
    twice = label_rows(stored[:2], "m@3") + label_rows(stored[:2], "m@3", shift=2)  # a post twice: the last row wins
    label_store.write(fresh_db, twice, [])
    assert_exact(fresh_db)
    assert fresh_db.reader().execute("SELECT sentiment FROM labels WHERE post_id = '0'").fetchall() == [("neutral",)]


def test_labels_of_deleted_posts_leave_the_rollups_alone(fresh_db):
    stored = posts(20)
    fresh_db.write_batch("s", Batch(stored, "c1"))
    fresh_db.write_batch("s", Batch([], "c2", deleted=[(stored[3].platform, stored[3].post_id)]))
    wrong_time = {**label_rows(stored[4:5], "m@1")[0], "created_at": datetime(2020, 1, 1)}
    label_store.write(fresh_db, [*label_rows(stored[:4], "m@1"), wrong_time], [])
    assert_exact(fresh_db)
    assert fresh_db.reader().execute("SELECT count(*) FROM labels").fetchall() == [(3,)]


def test_deletions_retention_and_recollection_after_labels(fresh_db):
    stored = posts()
    fresh_db.write_batch("s", Batch(stored, "c1"))
    label_store.write(fresh_db, label_rows(stored, "m@1"), [])
    moved = [make_post(i, p.platform, p.created_at, watches=("schools",), author_id=p.author_id)
             for i, p in enumerate(stored[:30]) if p.platform == "x"]
    fresh_db.write_batch("s", Batch(moved, "c2", deleted=[(stored[40].platform, stored[40].post_id)]))
    assert_exact(fresh_db)
    action = ACTIONS["forget_author"]
    fresh_db.run_action("forget_author", action.fn, "admin", action.bind("forget_author", {"author_id": "a1"}))
    assert_exact(fresh_db)
    retention.run(fresh_db, (START + timedelta(hours=6)).replace(tzinfo=None), 0.1, "pseudonymise", 1, b"k" * 32)
    assert_exact(fresh_db)
    retention.run(fresh_db, (START + timedelta(hours=6)).replace(tzinfo=None), 0.1, "delete", 1, b"k" * 32)
    assert_exact(fresh_db)
    assert rollup_rows(fresh_db, "topics_5m")  # labels of the posts still stored are still counted


def test_topic_queries_read_the_rollup_and_count_as_labels_do(fresh_db):
    stored = posts()
    fresh_db.write_batch("s", Batch(stored, "c1"))
    label_store.write(fresh_db, label_rows(stored, "m@1"), [])
    label_store.write(fresh_db, label_rows(stored[::3], "m@2", shift=3), [])
    now, window = START + timedelta(hours=6), {"since": START, "until": START + timedelta(days=1)}
    volume = sorted(run(fresh_db, "topic_volume", **window, bucket_minutes=60))
    rising = run(fresh_db, "rising_topics", now=now, hours=1, baseline_hours=4)
    assert volume == topic_counts(fresh_db) and rising == run_sql(fresh_db, RISING_FROM_LABELS, now=now)
    assert len(rising) == 3 and {r[0] for r in rising} == {"vaccination", "schools", "testing"}
    fresh_db.write(lambda con: con.execute("DELETE FROM labels"))  # behind the rollup's back: it alone answers
    assert sorted(run(fresh_db, "topic_volume", **window, bucket_minutes=60)) == volume


# rising topics as they were counted before the rollup (straight from `labels`), for 1 hour against 4
RISING_FROM_LABELS = """
WITH t AS (SELECT unnest([t.name FOR t IN topics]) AS topic, created_at >= $now - INTERVAL 1 HOUR AS recent, sentiment
           FROM labels WHERE created_at >= $now - INTERVAL 5 HOUR AND created_at < $now)
SELECT topic, count(*) FILTER (WHERE recent) AS recent_posts, count(*) FILTER (WHERE NOT recent) * 1 / 4 AS expected,
       (recent_posts + 1) / (expected + 1) AS growth,
       count(*) FILTER (WHERE recent AND sentiment = 'negative') / nullif(recent_posts, 0) AS negative_share
FROM t WHERE topic <> 'other' GROUP BY topic HAVING recent_posts > 0 ORDER BY growth DESC, recent_posts DESC LIMIT 8
"""


def run(db: Database, name: str, **params) -> list[tuple]:
    given = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}
    return run_sql(db, QUERIES[name].sql, **QUERIES[name].bind(name, given))


def run_sql(db: Database, sql: str, **params) -> list[tuple]:
    return db.reader().execute(sql, {k: v.replace(tzinfo=None) if isinstance(v, datetime) else v
                                     for k, v in params.items()}).fetchall()


def test_existing_posts_and_labels_are_counted_by_the_migrations(tmp_path):
    db = Database(tmp_path / "a.duckdb")
    stored = posts(30)
    db.write_batch("s", Batch(stored, "c"))
    label_store.write(db, label_rows(stored[:20], "m@1"), [])
    db.write(lambda con: con.execute("DELETE FROM volume_5m; DROP TABLE topics_5m; "
                                     "DELETE FROM _migrations WHERE name = '010_topics_rollup'"))
    db.write(lambda con: con.execute(f"INSERT INTO volume_5m {rollup.ALL_COUNTS}"))
    db.close()
    db = Database(tmp_path / "a.duckdb")
    assert db.applied == ["010_topics_rollup"]
    assert_exact(db)
    assert sum(r[-1] for r in rollup_rows(db)) == 40 and rollup_rows(db, "topics_5m")
    db.close()
