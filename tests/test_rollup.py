"""The 5-minute volume rollup always equals a full recount, whatever writes, relabels and deletions did."""

from datetime import UTC, datetime, timedelta

from collectors.base import Batch
from helpers import make_post
from storage import labels as label_store
from storage import retention, rollup
from storage.actions import ACTIONS
from storage.db import Database

START = datetime(2026, 11, 1, tzinfo=UTC)


def rollup_rows(db: Database) -> list[tuple]:
    return db.reader().execute("SELECT * FROM volume_5m ORDER BY ALL").fetchall()


def recount(db: Database) -> list[tuple]:
    return db.reader().execute(f"SELECT * FROM ({rollup.ALL_COUNTS}) ORDER BY ALL").fetchall()


def assert_exact(db: Database) -> None:
    assert rollup_rows(db) == recount(db)
    per_post = db.reader().execute("SELECT * FROM posts_5m ORDER BY ALL").fetchall()
    assert per_post == db.reader().execute(f"SELECT * FROM ({rollup.ALL_POST_COUNTS}) ORDER BY ALL").fetchall()
    assert sum(r[-1] for r in per_post) == db.reader().execute("SELECT count(*) FROM posts").fetchall()[0][0]


def test_rollup_tracks_every_kind_of_write(fresh_db):
    posts = [make_post(i, "x" if i % 2 else "bluesky", START + timedelta(minutes=3 * i),
                       watches=(("vaccines",), ("covid-19", "vaccines"), ())[i % 3], author_id=f"a{i % 4}")
             for i in range(200)]
    fresh_db.write_batch("s", Batch(posts[:120], "c1"))
    fresh_db.write_batch("s", Batch(posts[100:], "c2"))  # overlapping page
    assert_exact(fresh_db)
    assert sum(r[-1] for r in rollup_rows(fresh_db)) == 267  # 200 posts, 67 of them in two watches
    rows = [{"platform": p.platform, "post_id": p.post_id, "created_at": p.created_at.replace(tzinfo=None),
             "sentiment": ("negative", "positive")[i % 2]} for i, p in enumerate(posts[:50])]
    label_store.write(fresh_db, rows, [])
    assert_exact(fresh_db)
    assert {r[3] for r in rollup_rows(fresh_db)} == {"negative", "positive", "unscored"}
    fresh_db.write_batch("s", Batch([], "c3", deleted=[("x", "1"), ("bluesky", "2")]))
    assert_exact(fresh_db)
    action = ACTIONS["forget_author"]
    fresh_db.run_action("forget_author", action.fn, "admin", action.bind("forget_author", {"author_id": "a3"}))
    assert_exact(fresh_db)
    retention.delete_older_than(fresh_db, (START + timedelta(hours=3)).replace(tzinfo=None))
    assert_exact(fresh_db)
    assert sum(r[-1] for r in rollup_rows(fresh_db) if r[2] != "covid-19") == \
        fresh_db.reader().execute("SELECT count(*) FROM posts").fetchall()[0][0]


def test_existing_posts_are_counted_by_the_migration(tmp_path):
    db = Database(tmp_path / "a.duckdb")
    db.write_batch("s", Batch([make_post(i) for i in range(10)], "c"))
    db.write(lambda con: con.execute("DELETE FROM volume_5m"))
    db.write(lambda con: con.execute(f"INSERT INTO volume_5m {rollup.ALL_COUNTS}"))
    assert rollup_rows(db) == recount(db) and sum(r[-1] for r in rollup_rows(db)) == 10
    db.close()
