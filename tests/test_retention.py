"""Retention limits, pseudonymisation, platform deletions and `civicradar forget`."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from collectors.base import Batch
from helpers import make_post
from storage import retention
from storage.actions import ACTIONS
from storage.db import Database

NOW = datetime(2026, 11, 20)


def seed(db: Database) -> None:
    start = NOW.replace(tzinfo=UTC) - timedelta(days=20)
    posts = [make_post(i, when=start + timedelta(days=i), author_handle=f"@resident{i % 3}", url=f"https://x/{i}")
             for i in range(20)]
    db.write_batch("s", Batch(posts, "c"))
    db.write(lambda con: con.execute(
        "INSERT INTO labels (platform, post_id, created_at, labelled_at) SELECT platform, post_id, created_at, "
        "created_at FROM posts"))


def count(db: Database, table: str) -> int:
    return db.reader().execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def test_old_posts_are_deleted_with_their_labels(fresh_db):
    seed(fresh_db)
    result = retention.run(fresh_db, NOW, days=10, action="delete", embedding_days=3, key=b"k")
    assert result.posts == 10 and count(fresh_db, "posts") == 10 and count(fresh_db, "labels") == 10


def test_pseudonymisation_keeps_trends_not_identities(fresh_db):
    seed(fresh_db)
    changed = retention.run(fresh_db, NOW, days=10, action="pseudonymise", embedding_days=3, key=b"k").posts
    assert changed == 10 and count(fresh_db, "posts") == 20
    old = fresh_db.reader().execute(
        "SELECT DISTINCT author_id, author_handle, url, raw FROM posts WHERE created_at < ?",
        [NOW - timedelta(days=10)]).fetchall()
    assert all(a.startswith("pseud-") and h is None and u is None and r is None for a, h, u, r in old)
    assert len({a for a, *_ in old}) == 7  # the same author keeps the same pseudonym (a0..a6)
    again = retention.run(fresh_db, NOW, days=10, action="pseudonymise", embedding_days=3, key=b"k")
    assert again.posts == 0  # idempotent
    start = NOW.replace(tzinfo=UTC) - timedelta(days=20)  # an import brings an old post back: no identity returns
    fresh_db.write_batch("s", Batch([make_post(0, when=start, url="https://x/0", text="edited")], "c2"))
    row = fresh_db.reader().execute("SELECT author_id, url, raw, text FROM posts WHERE post_id = '0'").fetchall()
    assert row[0][0].startswith("pseud-") and row[0][1:] == (None, None, "edited")


def test_platform_deletions_remove_posts(fresh_db):
    seed(fresh_db)
    fresh_db.write_batch("s", Batch([], "c2", deleted=[("x", "3"), ("x", "4")]))
    assert count(fresh_db, "posts") == 18


def test_forget_author_action_is_audited_without_the_id(fresh_db):
    seed(fresh_db)
    action = ACTIONS["forget_author"]
    params = action.bind("forget_author", {"author_id": "a3"})
    result = fresh_db.run_action("forget_author", action.fn, "admin@county", params, action.audit(params))
    assert result == {"posts_removed": 3} and count(fresh_db, "labels") == 17
    details = fresh_db.reader().execute("SELECT actor, action, details FROM audit").fetchall()
    assert details[0][:2] == ("admin@county", "forget_author") and "a3" not in details[0][2]


def test_forget_command_without_an_engine(tmp_path, write_settings):
    settings = write_settings(f'[storage]\npath = "db.duckdb"\n[server]\nport = {_port()}\n')
    db = Database(tmp_path / "db.duckdb")
    seed(db)
    db.close()
    exe = Path(sys.executable).parent / "civicradar"
    out = subprocess.run([str(exe), "--settings", str(settings), "forget", "--author", "a1"], capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "removed 3 posts" in out.stdout
    db = Database(tmp_path / "db.duckdb")
    assert count(db, "posts") == 17
    db.close()


def _port() -> int:
    from helpers import free_port

    return free_port()


def test_pseudonymisation_drops_a_311_requests_address_payload_and_link(fresh_db):
    from collectors import open311

    def request(ident: str, days: float) -> dict:
        stamp = (NOW - timedelta(days=days)).replace(tzinfo=UTC).isoformat()
        return {"service_request_id": ident, "status": "closed", "service_code": "POT", "service_name": "Pothole",
                "description": "deep hole", "requested_datetime": stamp, "updated_datetime": stamp,
                "closed_datetime": stamp, "address": f"{ident} Harbor Rd", "lat": 47.6, "long": -122.3,
                "media_url": f"https://311.example/{ident}.jpg"}

    fresh_db.write_batch("city311", Batch(open311.to_posts([request("r1", 15), request("r2", 2)]), "c"))
    changed = retention.run(fresh_db, NOW, days=10, action="pseudonymise", embedding_days=3, key=b"k").posts
    assert changed == 1
    posts = {r[0]: r[1:] for r in fresh_db.reader().execute("SELECT post_id, text, url, raw FROM posts").fetchall()}
    assert posts["r1"] == ("Pothole: deep hole", None, None)  # the address, the payload and the photo link gone
    assert posts["r2"][0] == "Pothole: deep hole (r2 Harbor Rd)" and posts["r2"][2] is not None  # not yet old
    inbox = dict(fresh_db.reader().execute("SELECT post_id, text FROM inbox_items").fetchall())
    assert inbox == {"r1": "Pothole: deep hole", "r2": "Pothole: deep hole (r2 Harbor Rd)"}
    places = {r[0]: r[1:] for r in fresh_db.reader().execute(
        "SELECT post_id, address, lat, lon, status, service_code, closed_at IS NOT NULL FROM service_requests"
    ).fetchall()}
    assert places["r1"] == (None, None, None, "closed", "POT", True)  # time to close still measurable
    assert places["r2"][:3] == ("r2 Harbor Rd", 47.6, -122.3)
    assert retention.run(fresh_db, NOW, days=10, action="pseudonymise", embedding_days=3, key=b"k").posts == 0
