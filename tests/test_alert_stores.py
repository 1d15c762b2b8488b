"""The alerts area's typed stores: a reader that cannot write, a writer bound to one transaction."""

from datetime import datetime, timedelta

import duckdb
import pytest

from alerts.model import Finding
from collectors.base import Batch, Post
from storage import alert_stores
from storage.alert_stores import AlertReader, AlertWriter

T = datetime(2026, 11, 3, 15, 0)
WRITE_WORDS = ("record", "set_", "enqueue", "mark_", "link", "insert", "update", "delete", "write", "execute")


def test_the_reader_has_no_write_methods_and_its_cursor_is_read_only(fresh_db):
    public = {name for name in dir(AlertReader) if not name.startswith("_")}
    assert public and not {name for name in public if name.startswith(WRITE_WORDS)}
    with alert_stores.reading(fresh_db) as reader:
        assert reader.detect_cursor() is None and reader.first_post_at() is None
        with pytest.raises(duckdb.TransactionException, match="read-only"):
            reader._cursor.execute("INSERT INTO cursors VALUES ('x', 'y', now())")  # even reaching past the API


def test_a_reader_sees_one_snapshot_and_the_next_one_sees_new_writes(fresh_db):
    with alert_stores.reading(fresh_db) as reader:
        assert reader.first_post_at() is None
        fresh_db.write_batch("test", Batch([Post("x", "1", "hello", T)], None))
        assert reader.first_post_at() is None  # committed after the reader's first read: a pass sees one snapshot
    assert alert_stores.read(fresh_db, lambda r: r.first_post_at()) == T


def test_the_writer_commits_all_or_nothing(fresh_db):
    finding = Finding("volume_spike", "volume_spike:all:*", "medium", T, "t", "e", metrics={"posts": 3})

    def fails(w: AlertWriter) -> None:
        w.record(finding, timedelta(hours=1), T)
        w.set_detect_cursor(T, T)
        raise RuntimeError("crash mid-pass")

    with pytest.raises(RuntimeError):
        alert_stores.write(fresh_db, fails)
    assert alert_stores.read(fresh_db, lambda r: r.detect_cursor()) is None
    recorded = alert_stores.write(fresh_db, lambda w: w.record(finding, timedelta(hours=1), T))
    assert recorded.event == "raised"
    assert alert_stores.write(fresh_db, lambda w: w.incidents.membership(recorded.alert_id)) is None


def test_a_detection_pass_hands_detectors_the_read_only_reader(fresh_db):
    from alerts.detect import run_pass
    from settings import Settings

    seen = []

    def spy(ctx) -> list[Finding]:
        seen.append(type(ctx.reader))
        with pytest.raises(duckdb.TransactionException, match="read-only"):
            ctx.reader._cursor.execute("DELETE FROM posts")
        return []

    assert run_pass(fresh_db, Settings(), T, detectors=[spy]).steps == 1
    assert seen == [AlertReader]
