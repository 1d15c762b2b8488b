import json
from dataclasses import replace
from datetime import UTC, datetime

import duckdb
import pytest

from collectors.base import Batch, Claim, Quarantined
from helpers import make_post
from storage import migrations
from storage.db import Database, StorageError


def keys(db: Database) -> list[tuple[str, str]]:
    return db.reader().execute("SELECT platform, post_id FROM posts ORDER BY ALL").fetchall()


def test_migrations_apply_once_and_are_recorded(tmp_path):
    path = tmp_path / "c.duckdb"
    first = Database(path)
    assert first.applied == [name for name, _ in migrations.MIGRATIONS]
    first.close()
    second = Database(path)
    assert second.applied == []
    recorded = second.reader().execute("SELECT name FROM _migrations ORDER BY name").fetchall()
    assert [r[0] for r in recorded] == [name for name, _ in migrations.MIGRATIONS]
    second.close()


def test_a_database_from_before_post_keys_is_upgraded_in_place(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as patched, duckdb.connect(str(path)) as con:
        before = [m for m in migrations.MIGRATIONS if m[0] < "007"]  # posts keyed by an index
        patched.setattr(migrations, "MIGRATIONS", before)
        migrations.apply(con)
        con.execute("INSERT INTO posts (platform, post_id, text, created_at, collected_at, source, watches) "
                    "SELECT 'x', i::VARCHAR, 'old post', TIMESTAMP '2026-11-01' + i * INTERVAL 1 MINUTE, "
                    "TIMESTAMP '2026-11-02', 's', [] FROM range(5) t(i)")
        con.execute("INSERT INTO labels (platform, post_id, created_at, sentiment, labelled_at) "
                    "VALUES ('x', 'gone', TIMESTAMP '2026-11-01', 'negative', TIMESTAMP '2026-11-01')")
    db = Database(path)
    assert db.applied == [name for name, _ in migrations.MIGRATIONS if name >= "007"]
    assert len(keys(db)) == 5 and db.reader().execute("SELECT count(*) FROM post_keys").fetchall() == [(5,)]
    assert db.reader().execute("SELECT count(*) FROM labels").fetchall() == [(0,)]  # the orphan label went
    db.write_batch("s", Batch([make_post(i) for i in range(3, 8)], "c2"))
    assert len(keys(db)) == 8
    db.close()


def test_upsert_is_idempotent_and_keeps_the_latest_edit(fresh_db):
    posts = [make_post(i) for i in range(50)]
    fresh_db.write_batch("s", Batch(posts, "c1"))
    fresh_db.write_batch("s", Batch(posts, "c1"))
    edited = replace(posts[3], text="edited text", like_count=99)
    fresh_db.write_batch("s", Batch([edited, edited], "c2"))
    assert len(keys(fresh_db)) == 50
    row = fresh_db.reader().execute("SELECT text, like_count FROM posts WHERE post_id = '3'").fetchone()
    assert row == ("edited text", 99)
    assert fresh_db.get_cursor("s") == "c2"


def test_a_post_collected_again_with_another_time_keeps_one_row_and_its_first_time(fresh_db):
    """Uniqueness is by (platform, post_id) alone: a feed entry re-dated on the next fetch is not a second post."""
    first = make_post(7)
    fresh_db.write_batch("s", Batch([first, make_post(8)], "c1"))
    moved = replace(first, created_at=datetime(2030, 1, 1, tzinfo=UTC), text="re-dated", like_count=5)
    fresh_db.write_batch("s", Batch([moved, make_post(9)], "c2"))  # one known post, one new
    rows = fresh_db.reader().execute("SELECT post_id, text, like_count, created_at FROM posts ORDER BY 1").fetchall()
    assert [r[0] for r in rows] == ["7", "8", "9"]
    assert rows[0][1:] == ("re-dated", 5, first.created_at.replace(tzinfo=None))
    assert fresh_db.reader().execute("SELECT post_id, seen FROM post_keys ORDER BY 1").fetchall() == [
        ("7", 1), ("8", 0), ("9", 0)]


def test_a_post_deleted_upstream_can_come_back(fresh_db):
    from storage import labels as label_store

    post = make_post(3)
    fresh_db.write_batch("s", Batch([post], "c1"))
    label_store.write(fresh_db, [{"platform": "x", "post_id": "3", "created_at": post.created_at.replace(tzinfo=None),
                                  "sentiment": "negative"}], [])
    fresh_db.write_batch("s", Batch([], "c2", deleted=[("x", "3")]))
    for table in ("posts", "post_keys", "labels"):
        assert fresh_db.reader().execute(f"SELECT count(*) FROM {table}").fetchall() == [(0,)], table
    fresh_db.write_batch("s", Batch([post], "c3"))
    assert keys(fresh_db) == [("x", "3")]


def test_same_id_on_two_platforms_are_two_posts(fresh_db):
    fresh_db.write_batch("s", Batch([make_post(1, "x"), make_post(1, "bluesky")], None))
    assert keys(fresh_db) == [("bluesky", "1"), ("x", "1")]


def test_posts_and_cursor_commit_together_or_not_at_all(fresh_db, monkeypatch):
    fresh_db.write_batch("s", Batch([make_post(0)], "c0"))

    def explode(*args, **kwargs):
        raise RuntimeError("crash between the posts and the cursor")

    with monkeypatch.context() as patched:
        patched.setattr(Database, "_quarantine", staticmethod(explode))
        with pytest.raises(RuntimeError):
            batch = Batch([make_post(i) for i in range(1, 10)], "c9", quarantined=[Quarantined("x", {})])
            fresh_db.write_batch("s", batch)
    assert keys(fresh_db) == [("x", "0")] and fresh_db.get_cursor("s") == "c0"
    fresh_db.write_batch("s", Batch([make_post(i) for i in range(1, 10)], "c9"))
    assert len(keys(fresh_db)) == 10 and fresh_db.get_cursor("s") == "c9"


def test_quarantine_and_deletions(fresh_db):
    fresh_db.write_batch("s", Batch([make_post(i) for i in range(5)], "c"))
    result = fresh_db.write_batch(
        "s", Batch([], "c2", quarantined=[Quarantined("missing text", {"id": 9})], deleted=[("x", "2"), ("x", "77")])
    )
    assert result.deleted == 1 and result.quarantined == 1
    assert ("x", "2") not in keys(fresh_db)
    reason, raw = fresh_db.reader().execute("SELECT reason, raw FROM quarantine").fetchone()
    assert reason == "missing text" and json.loads(raw) == {"id": 9}


def test_claims_are_upserted_with_the_batch(fresh_db):
    claims = [Claim("c1", "Salt water cures it", rating="False", origin="register"), Claim("c2", "Masks work")]
    fresh_db.write_batch("checks", Batch([], "k1", claims=claims))
    fresh_db.write_batch("checks", Batch([], "k2", claims=[Claim("c1", "Salt water cures it", rating="Misleading")]))
    rows = fresh_db.reader().execute("SELECT claim_id, rating, origin FROM claims ORDER BY 1").fetchall()
    assert rows == [("c1", "Misleading", "factcheck"), ("c2", None, "factcheck")]


def test_columns_are_normalised(fresh_db):
    post = make_post(1, when=datetime(2026, 5, 1, 12, tzinfo=UTC), watches=("covid", "vax"), url="https://e/1",
                     reply_to_id="0")
    fresh_db.write_batch("src", Batch([post], None))
    row = fresh_db.reader().execute(
        "SELECT created_at, watches, url, reply_to_id, source, raw FROM posts"
    ).fetchone()
    assert row[0] == datetime(2026, 5, 1, 12) and row[1] == ["covid", "vax"]
    assert row[2:5] == ("https://e/1", "0", "src") and json.loads(row[5]) == {"i": 1}


def test_run_log_and_interrupted_runs(fresh_db):
    run = fresh_db.start_run("s", "collect")
    fresh_db.finish_run(run, "ok", items=3, warnings=1)
    stuck = fresh_db.start_run("s", "collect")
    assert fresh_db.abandon_unfinished_runs() == 1
    rows = dict(fresh_db.reader().execute("SELECT run_id, status FROM runs").fetchall())
    assert rows == {run: "ok", stuck: "interrupted"}


def test_a_second_process_gets_a_clear_error(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "c.duckdb"
    db = Database(path)
    code = f"from storage.db import Database\nDatabase({str(path)!r})"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    db.close()
    assert out.returncode != 0 and "Another process" in out.stderr


def test_lock_down_blocks_files_and_settings(fresh_db):
    fresh_db.lock_down()
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        fresh_db.reader().execute("SELECT * FROM read_csv('/etc/hostname')").fetchall()
    with pytest.raises(duckdb.Error, match="locked"):
        fresh_db.reader().execute("SET enable_external_access = true")
    fresh_db.write_batch("s", Batch([make_post(1)], "c"))  # our own writes still work
    assert len(keys(fresh_db)) == 1


def test_storage_error_class_is_exported():
    assert issubclass(StorageError, Exception)


def test_orphan_labels_left_by_an_older_version_are_removed(tmp_path, monkeypatch):
    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as patched, duckdb.connect(str(path)) as con:
        patched.setattr(migrations, "MIGRATIONS", [m for m in migrations.MIGRATIONS if m[0] < "009"])
        migrations.apply(con)
        con.execute("INSERT INTO labels (platform, post_id, created_at, sentiment, labelled_at) "
                    "VALUES ('x', 'gone', TIMESTAMP '2026-11-01', 'negative', TIMESTAMP '2026-11-01')")
    db = Database(path)
    assert db.applied == [name for name, _ in migrations.MIGRATIONS if name >= "009"]
    assert db.reader().execute("SELECT count(*) FROM labels").fetchall() == [(0,)]
