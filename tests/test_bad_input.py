"""Property-based tests: whatever a file or a platform sends, the result is posts or quarantined items with a
reason, never a crash and never a silent drop, and whatever is produced can be stored."""

import json
import string
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.base import Batch
from collectors.replay import ReplayCollector, ReplaySettings, read_rows, to_posts
from storage.db import Database

ANCHOR = datetime(2026, 11, 1, tzinfo=UTC)
texts = st.one_of(st.text(), st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF)),
                  st.just("\x00nul\x00"), st.just("😷" * 1000), st.just("x" * 1_000_000))
ODD_DATES = ["yesterday", "", "2026-13-45", "Mon, 02 Nov 2026 10:00:00", "02/11/2026 10:00", "1793527200000"]
dates = st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.integers(-10**15, 10**15),
                  st.floats(allow_nan=True), st.sampled_from(ODD_DATES), st.none())
values = st.one_of(texts, st.integers(), st.floats(), st.booleans(), st.none(), st.lists(st.integers(), max_size=3))
rows = st.one_of(
    st.fixed_dictionaries({"post_id": st.one_of(texts, st.integers(), st.none()), "text": st.one_of(texts, st.none())},
                          optional={"created_at": dates, "t": st.one_of(st.floats(), st.integers(), texts),
                                    "platform": texts, "like_count": values, "url": values, "lang": values,
                                    "extra": values}),
    st.dictionaries(st.text(string.ascii_letters, max_size=8), values, max_size=5),
    values,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example])
@given(st.lists(rows, max_size=6))
def test_every_row_becomes_a_post_or_a_reasoned_quarantine_and_can_be_stored(batch):
    posts, bad = to_posts(batch, ANCHOR, "import")
    assert len(posts) + len(bad) == len(batch)
    assert all(q.reason for q in bad)
    db = Database(":memory:")
    try:
        result = db.write_batch("fuzz", Batch(posts, "c", quarantined=bad))
        stored = db.reader().execute("SELECT count(*) FROM posts").fetchall()[0][0]
        assert stored == len({(p.platform, p.post_id) for p in posts}) == result.posts
    finally:
        db.close()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)), max_size=8))
def test_any_bytes_in_a_jsonl_file_are_read_or_quarantined(tmp_path_factory, lines):
    path = tmp_path_factory.mktemp("fuzz") / "f.jsonl"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines))
    read = list(read_rows(path))
    collector = ReplayCollector("f", ReplaySettings(path=path, speed=0.0), path.parent)
    out = collector.fetch(None)
    assert len(out.posts) + len(out.quarantined) == len(read)


def test_extra_and_missing_fields_in_csv(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text('post_id,text,created_at,unknown_column\n1,"hi, there",2026-11-01,zzz\n2,,2026-11-01,\n3,ok\n')
    out = ReplayCollector("c", ReplaySettings(path=path, speed=0.0), tmp_path).fetch(None)
    assert [p.post_id for p in out.posts] == ["1"]
    assert len(out.quarantined) == 2 and json.loads(out.posts[0].raw_json())["unknown_column"] == "zzz"
