"""Posts carry a direction (to_agency / by_agency / public) through the write path; inbound posts become inbox rows
in the same transaction, the agency's replies answer them, and its own posts leave engagement rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fixtures.collectors.fakes import load
from imap_tools import MailMessage

from collectors import imap, open311
from collectors.base import Batch, Post
from collectors.replay import to_post
from storage import migrations
from storage.db import Database, delete_posts

T = datetime(2026, 12, 1, 9, tzinfo=UTC)


@pytest.fixture
def db():
    database = Database(":memory:")
    yield database
    database.close()


def rows(db, sql: str) -> list[tuple]:
    """Rows of `sql` on a Database, or on an Engine's."""
    return getattr(db, "db", db).reader().execute(sql).fetchall()


def post(post_id: str, direction: str = "public", platform: str = "bluesky", **extra) -> Post:
    return Post(platform, post_id, extra.pop("text", f"post {post_id}"), extra.pop("created_at", T),
                direction=direction, **extra)


def test_direction_is_stored_and_a_later_public_copy_keeps_it(db):
    assert Post("x", "1", "t", T).direction == "public"
    db.write_batch("s", Batch([post("m", "to_agency"), post("own", "by_agency"), post("pub")], None))
    db.write_batch("search", Batch([post("m"), post("own"), post("pub", "to_agency")], None))  # found again
    assert rows(db, "SELECT post_id, direction FROM posts ORDER BY post_id") == [
        ("m", "to_agency"), ("own", "by_agency"), ("pub", "to_agency")]


def test_inbound_posts_become_inbox_items_once_and_a_reply_answers_them(db):
    db.write_batch("s", Batch([post("m", "to_agency", author_id="did:r", author_handle="res")], None))
    db.write_batch("s", Batch([post("m", "to_agency", text="edited")], None))
    assert rows(db, "SELECT post_id, status, text, author_id FROM inbox_items") == [("m", "new", "edited", "did:r")]
    reply = post("r", "by_agency", author_handle="harborhealth", reply_to_id="m", created_at=T + timedelta(hours=2),
                 like_count=4)
    db.write_batch("own", Batch([reply], None))
    assert rows(db, "SELECT status, answered_at, answered_by, answer_via, answer_post_id FROM inbox_items") == [
        ("answered", datetime(2026, 12, 1, 11), "@harborhealth", "platform", "r")]
    assert rows(db, "SELECT actor, event FROM inbox_events") == [("collector", "answered")]
    assert rows(db, "SELECT post_id, like_count FROM own_post_engagement") == [("r", 4)]


def test_a_reply_collected_before_the_item_it_answers_still_answers_it(db):
    db.write_batch("own", Batch([post("r", "by_agency", reply_to_id="m", created_at=T + timedelta(minutes=5))], None))
    db.write_batch("s", Batch([post("m", "to_agency"), post("other", "to_agency")], None))
    assert rows(db, "SELECT post_id, status FROM inbox_items ORDER BY post_id") == [
        ("m", "answered"), ("other", "new")]


def test_public_batches_write_no_inbox_rows_and_deletion_takes_inbox_rows_with_the_post(db):
    db.write_batch("s", Batch([post("a"), post("b")], None))
    assert rows(db, "SELECT count(*) FROM inbox_items") == [(0,)]
    db.write_batch("s", Batch([post("m", "to_agency", author_id="email:abc")], None))
    db.write(lambda con: delete_posts(con, "author_id = 'email:abc'"))
    assert rows(db, "SELECT count(*) FROM inbox_items") == [(0,)]


def test_bulk_tables_without_direction_are_public(db):
    from storage.db import POST_SCHEMA, posts_table

    table = posts_table([post("a", "to_agency")], "bench", datetime(2026, 12, 1))
    db.write_posts_table(table.drop_columns(["direction"]))
    db.write_posts_table(posts_table([post("b", "to_agency")], "bench", datetime(2026, 12, 1)).cast(POST_SCHEMA))
    assert rows(db, "SELECT post_id, direction FROM posts ORDER BY 1") == [("a", "public"), ("b", "to_agency")]


def test_migration_015_marks_stored_tips_and_311_requests_as_inbound(tmp_path, monkeypatch):
    import duckdb

    path = tmp_path / "old.duckdb"
    older = [(name, sql) for name, sql in migrations.MIGRATIONS if name < "015"]  # a database from before 015
    con = duckdb.connect(str(path))
    monkeypatch.setattr(migrations, "MIGRATIONS", older)
    migrations.apply(con)
    for platform, post_id in (("email", "tip-1"), ("open311", "311-1"), ("x", "1")):
        con.execute("INSERT INTO posts (platform, post_id, text, created_at, collected_at, source, watches) "
                    "VALUES (?, ?, 'hello', TIMESTAMP '2026-12-01', TIMESTAMP '2026-12-01', 's', [])",
                    [platform, post_id])
    con.close()
    monkeypatch.undo()
    db = Database(path)
    assert "015_inbox" in db.applied
    assert rows(db, "SELECT platform, direction FROM posts ORDER BY platform") == [
        ("email", "to_agency"), ("open311", "to_agency"), ("x", "public")]
    assert rows(db, "SELECT platform, status FROM inbox_items ORDER BY platform") == [
        ("email", "new"), ("open311", "new")]
    db.close()


def test_replay_rows_name_their_direction():
    base = {"post_id": "1", "text": "hi", "platform": "sms", "t": 0}
    assert to_post(base, T, "import").direction == "public"
    assert to_post({**base, "direction": "to_agency"}, T, "import").direction == "to_agency"
    with pytest.raises(ValueError, match="direction must be one of"):
        to_post({**base, "direction": "inbound"}, T, "import")


def test_tips_and_311_requests_are_addressed_to_the_agency():
    assert {p.direction for p in open311.to_posts(load("open311", "requests.json"))} == {"to_agency"}
    message = MailMessage.from_bytes(b"From: R <r@example.org>\r\nSubject: boil notice?\r\nMessage-ID: <m1@x>\r\n\r\n"
                                     b"Is the water safe?\r\n")
    [tip] = imap.to_posts([{"uid": 1, "message": message, "key": b"k" * 32}])
    assert tip.direction == "to_agency" and tip.author_id.startswith("email:")


def test_posts_by_the_agency_s_accounts_from_any_source_are_by_agency(tmp_path):
    import gzip
    import json

    from fixtures.collectors.fakes import engine

    from collectors.accounts import handles, with_directions
    from settings import AccountSettings

    accounts = AccountSettings(x="@HarborCountyPH", mastodon="harborhealth@gov.social")
    assert handles(accounts) == {"x": {"harborcountyph"}, "mastodon": {"harborhealth@gov.social", "harborhealth"}}
    found = with_directions([post("1", platform="x", author_handle="harborcountyph"), post("2", platform="x"),
                             post("3", "to_agency", platform="x", author_handle="HarborCountyPH"),
                             post("4", platform="mastodon", author_handle="harborhealth"), post("5", platform="sms"),
                             post("6", "by_agency", platform="facebook")], accounts)
    assert [p.direction for p in found] == ["by_agency", "public", "to_agency", "by_agency", "to_agency", "by_agency"]
    rows_file = tmp_path / "rows.jsonl.gz"
    with gzip.open(rows_file, "wt") as f:
        for ident, handle in (("a", "HarborCountyPH"), ("b", "someone")):
            f.write(json.dumps({"post_id": ident, "text": "vaccine", "platform": "x", "author_handle": handle,
                                "created_at": "2026-12-01T09:00:00Z"}) + "\n")
    e = engine(tmp_path, f'[accounts]\nx = "HarborCountyPH"\n[sources.file]\nkind = "replay"\npath = "{rows_file}"\n')
    assert e.collect("file").status == "ok"
    assert rows(e, "SELECT post_id, direction FROM posts ORDER BY 1") == [("a", "by_agency"), ("b", "public")]
    e.db.close()
