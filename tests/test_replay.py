import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest

from collectors.base import BadPayload, Batch
from collectors.replay import ReplayCollector, ReplayCursor, ReplaySettings, parse_time, read_rows, to_post, to_posts
from helpers import write_scenario

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)


class FakeWall:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def collector(tmp_path, rows=100, **overrides):
    path = write_scenario(tmp_path / "s.jsonl.gz", rows)
    wall = FakeWall(datetime(2026, 11, 20, 12, tzinfo=UTC))
    s = ReplaySettings(path=path, **{"speed": 60.0, "start_at_hours": 0.5, "batch_size": 1000, **overrides})
    return ReplayCollector("demo", s, tmp_path, wall), wall


def test_mapping_keeps_the_raw_row_and_normalises():
    row = {"t": 90, "platform": "x", "post_id": 7, "text": "hi 👋", "like_count": "3", "repost_count": None,
           "reply_to_id": "", "lang": "en", "extra": {"nested": True}}
    post = to_post(row, ANCHOR, "import")
    assert post.created_at == ANCHOR + timedelta(seconds=90) and post.post_id == "7"
    assert post.like_count == 3 and post.repost_count == 0 and post.reply_to_id is None
    assert post.raw is row and post.lang == "en"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-11-01T10:00:00Z", datetime(2026, 11, 1, 10, tzinfo=UTC)),
        ("2026-11-01 05:00:00-05:00", datetime(2026, 11, 1, 10, tzinfo=UTC)),
        ("Sun, 01 Nov 2026 10:00:00 +0000", datetime(2026, 11, 1, 10, tzinfo=UTC)),
        (1793527200, datetime(2026, 11, 1, 10, tzinfo=UTC)),
        ("1793527200000", datetime(2026, 11, 1, 10, tzinfo=UTC)),
        ("2026-11-01 10:00", datetime(2026, 11, 1, 10, tzinfo=UTC)),
    ],
)
def test_times_in_many_formats(value, expected):
    assert parse_time(value) == expected


def test_bad_rows_are_quarantined_with_their_reason():
    rows = [{"post_id": "1", "text": "ok", "t": 0}, {"text": "no id", "t": 0}, {"post_id": "3", "text": "x"},
            {"post_id": "4", "text": "x", "created_at": "not a date"}, ["not", "an", "object"]]
    posts, bad = to_posts(rows, ANCHOR, "import")
    assert [p.post_id for p in posts] == ["1"]
    reasons = [q.reason for q in bad]
    assert len(bad) == 4 and "missing post_id" in reasons[0] and "created_at" in reasons[1]


def test_csv_and_broken_json_lines(tmp_path):
    csv_path = tmp_path / "export.csv"
    csv_path.write_text("post_id,text,created_at,platform\n1,hello,2026-11-01T00:00:00Z,reddit\n", encoding="utf-8")
    assert next(iter(read_rows(csv_path)))["platform"] == "reddit"
    jsonl = tmp_path / "x.jsonl"
    jsonl.write_text('{"post_id": "1", "text": "a", "t": 0}\n{broken\n\n', encoding="utf-8")
    rows = list(read_rows(jsonl))
    assert len(rows) == 2 and "_undecodable" in rows[1]


def test_history_arrives_at_once_then_the_clock_runs(tmp_path):
    c, wall = collector(tmp_path)
    first = c.fetch(None)
    assert len(first.posts) == 31  # t = 0 .. 30 min: half an hour of history, rows a minute apart
    assert first.posts[-1].created_at == wall.now
    cursor = first.next_cursor
    wall.now += timedelta(seconds=5)  # 5 real seconds at 60x = 5 simulated minutes
    second = c.fetch(cursor)
    assert [p.post_id for p in second.posts] == [f"p{i:05d}" for i in range(31, 36)]
    assert c.now() == datetime(2026, 11, 20, 12, 5, tzinfo=UTC)  # the simulated clock: 5 minutes on


def test_restart_resumes_without_jumping_or_repeating(tmp_path):
    c, wall = collector(tmp_path)
    cursor = c.fetch(None).next_cursor
    wall.now += timedelta(hours=3)  # the engine was down for three hours
    fresh, _ = collector(tmp_path)
    fresh._wall = wall
    batch = fresh.fetch(cursor)
    # catch-up is capped at 10 real seconds: 10 simulated minutes at 60x
    assert [p.post_id for p in batch.posts] == [f"p{i:05d}" for i in range(31, 41)]
    assert ReplayCursor.loads(batch.next_cursor).line == 41


def test_import_mode_pages_through_everything(tmp_path):
    c, _ = collector(tmp_path, rows=25, speed=0.0, batch_size=10)
    cursor, seen = None, []
    for _ in range(5):
        batch = c.fetch(cursor)
        seen += [p.post_id for p in batch.posts]
        cursor = batch.next_cursor
        if not batch.more:
            break
    assert seen == [f"p{i:05d}" for i in range(25)]


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(BadPayload, match=r"does not exist; check sources\.demo\.path"):
        ReplayCollector("demo", ReplaySettings(path=tmp_path / "nope.jsonl"), tmp_path)


def test_undecodable_line_is_quarantined_not_dropped(tmp_path):
    path = tmp_path / "x.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.write(json.dumps({"post_id": "1", "text": "a", "t": 0}) + "\n{oops\n")
    c = ReplayCollector("r", ReplaySettings(path=path, speed=0.0), tmp_path)
    batch = c.fetch(None)
    assert len(batch.posts) == 1 and len(batch.quarantined) == 1
    assert "not JSON" in batch.quarantined[0].reason


def test_counts_beyond_a_bigint_are_capped_not_a_crash(fresh_db):
    post = to_post({"post_id": "1", "text": "x", "t": 0, "like_count": "1e300", "reply_count": 2**70},
                   datetime(2026, 11, 1, tzinfo=UTC), "x")
    assert post.like_count == post.reply_count == 2**63 - 1
    fresh_db.write_batch("s", Batch([post], None))
