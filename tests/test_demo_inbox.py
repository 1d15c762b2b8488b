"""The demo's inbox (demo/inbox.jsonl.gz, built by demo/build_inbox.py): marked synthetic, on the scenario's clock,
replayed by the shipped settings' demo_inbox source into a live inbox, with the scenario's 311 requests beside it."""

from __future__ import annotations

import gzip
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

import pytest

import settings as settings_module
from jobs import Engine

ROOT = Path(__file__).resolve().parents[1]
INBOX = ROOT / "demo" / "inbox.jsonl.gz"
DURATION = 72 * 3600.0


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    with gzip.open(INBOX, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_rows_are_marked_synthetic_and_tell_one_story(rows):
    assert 30 <= len(rows) <= 80
    assert all(r["synthetic"] is True and r["scenario_event"] == "inbox" for r in rows)
    assert [r["t"] for r in rows] == sorted(r["t"] for r in rows) and rows[0]["t"] >= 0 and rows[-1]["t"] < DURATION
    assert Counter(r["direction"] for r in rows)["to_agency"] >= 25
    assert {r["platform"] for r in rows} == {"email", "webform", "sms", "x", "bluesky", "mastodon", "reddit"}
    ids = {(r["platform"], r["post_id"]) for r in rows}
    assert len(ids) == len(rows) and all(r["post_id"].startswith("demo-inbox-") for r in rows)
    by_id = {(r["platform"], r["post_id"]): r for r in rows}
    for r in rows:
        if r["reply_to_id"]:
            assert by_id[(r["platform"], r["reply_to_id"])]["t"] < r["t"]
    agency = [r for r in rows if r["direction"] == "by_agency"]
    assert agency and all(r["author_handle"] in ("HarborCountyPH", "harborhealth.bsky.social", "harborhealth")
                          for r in agency)
    contacts = Counter((r["author_id"], r["platform"]) for r in rows if r["author_id"].startswith(("email:", "phone:")))
    assert any(n > 1 for n in Counter(a for a, _ in contacts).values())  # someone wrote twice, maybe across channels
    assert {a for a, p in contacts if p == "email"} & {a for a, p in contacts if p == "webform"}


def test_the_build_script_reproduces_the_committed_file():
    sys.path.insert(0, str(ROOT / "demo"))
    try:
        import build_inbox
    finally:
        sys.path.pop(0)
    assert build_inbox.build() == INBOX.read_bytes()


def test_the_demo_replays_into_a_live_inbox(tmp_path, rows):
    data = tomllib.loads((ROOT / "settings.toml").read_text(encoding="utf-8"))
    data["storage"]["path"] = str(tmp_path / "demo.duckdb")
    data["classify"]["enabled"] = False
    for name in ("demo", "demo_inbox"):
        data["sources"][name]["speed"] = 0.0  # everything at once
    engine = Engine(settings_module.parse(data, ROOT / "settings.toml"))
    assert engine.collect("demo_inbox").posts == len(rows) and engine.collect("demo").status == "ok"
    reader = engine.db.reader()
    items = dict(reader.execute("SELECT platform, count(*) FROM inbox_items GROUP BY ALL").fetchall())
    assert items["open311"] >= 20  # the scenario's 311 requests are addressed to the agency too
    demo = reader.execute("SELECT status, count(*) FROM inbox_items WHERE post_id LIKE 'demo-inbox-%' "
                          "GROUP BY ALL").fetchall()
    replies = sum(1 for r in rows if r["direction"] == "by_agency" and r["reply_to_id"])
    answered = sum(1 for r in rows if r["direction"] == "to_agency" and any(
        a["reply_to_id"] == r["post_id"] and a["direction"] == "by_agency" for a in rows))
    assert dict(demo) == {"answered": answered, "new": sum(r["direction"] == "to_agency" for r in rows) - answered}
    assert answered == replies  # every agency reply answers what it replies to (all addressed to the agency)
    own = reader.execute("SELECT count(*) FROM posts WHERE direction = 'by_agency' AND post_id NOT LIKE "
                         "'demo-inbox-%'").fetchone()
    assert own[0] >= 1  # the scenario's own rebuttal by @HarborCountyPH, marked by [accounts] x
    engine.db.close()
