"""Detection's fast path: a burst that crosses a threshold opens its incident in the labelling pass that labels it,
with the engine clock standing still (no 5-minute step, no settle time); quiet data raises nothing; the settled
pass later merges into the same alert and incident."""

from datetime import UTC, datetime, timedelta

import pytest

import settings
from alerts import fastpath
from alerts.detect import run_pass
from classifiers import Labeller
from classifiers.job import LabelJob, topics_from
from collectors.base import Batch, Post
from storage import alert_store
from storage.db import Database

NOW = datetime(2026, 11, 3, 15, 2, 30)  # between grid steps: the settled pass would wait for 15:05 + 2 minutes


def config(**alerts: object) -> settings.Settings:
    data = {"timezone": "America/Chicago", "watches": [{"name": "vaccines", "keywords": ["vaccine"]}],
            "alerts": alerts}
    return settings.parse(data, settings.DEFAULT_PATH)


def post(i: int, when: datetime, text: str) -> Post:
    return Post("x", f"p{i}", text, when.replace(tzinfo=UTC), author_id=f"a{i % 13}", watches=("vaccines",))


def seed(db: Database, burst: int) -> None:
    """Three days of one post an hour on the watch, then `burst` posts in the last 8 minutes."""
    quiet = [post(i, NOW - timedelta(hours=72 - i, minutes=20), f"the vaccine clinic is open today, note {i}")
             for i in range(70)]
    loud = [post(100 + i, NOW - timedelta(seconds=480 - 15 * i), f"is the vaccine making kids sick? {i}")
            for i in range(burst)]
    db.write_batch("test", Batch(quiet + loud, None))


def label_job(db: Database, s: settings.Settings, models: object) -> LabelJob:
    clock = lambda: NOW  # noqa: E731  the engine clock does not move during the pass
    return LabelJob(db, s, clock, Labeller(topics_from(s), models_dir=models),
                    on_labelled=fastpath.label_hook(db, s, clock))


def count(db: Database, sql: str) -> int:
    return int(db.reader().execute(sql).fetchall()[0][0])


def test_a_burst_opens_its_incident_within_the_label_pass(fresh_db, tiny_models_dir):
    s = config()
    seed(fresh_db, burst=30)
    assert label_job(fresh_db, s, tiny_models_dir).run() == 100
    alerts = fresh_db.reader().execute("SELECT alert_id, first_seen_at FROM alerts "
                                       "WHERE fingerprint = 'volume_spike:watch:vaccines'").fetchall()
    assert len(alerts) == 1 and alerts[0][1] == datetime(2026, 11, 3, 15, 3)  # the window to the next minute
    assert count(fresh_db, "SELECT count(*) FROM incidents") == 1
    assert alert_store.detect_cursor(fresh_db.reader()) is None  # no settled pass ran
    assert count(fresh_db, "SELECT count(*) FROM runs WHERE source = 'alerts' AND job = 'fast' AND status = 'ok'") >= 1
    settled = run_pass(fresh_db, s, NOW + timedelta(minutes=7))  # the 15:05 step, once settled
    events = {r.finding.fingerprint: r.event for r in settled.recorded}
    assert events["volume_spike:watch:vaccines"] == "updated"  # merged into the fast path's alert
    assert settled.counts()["incidents_opened"] == 0  # its narrative (not on the fast path) joins the incident
    assert count(fresh_db, "SELECT count(*) FROM alerts WHERE fingerprint = 'volume_spike:watch:vaccines'") == 1
    assert count(fresh_db, "SELECT count(*) FROM incidents") == 1


def test_quiet_data_raises_nothing(fresh_db, tiny_models_dir):
    s = config()
    seed(fresh_db, burst=6)
    assert label_job(fresh_db, s, tiny_models_dir).run() == 76
    assert count(fresh_db, "SELECT count(*) FROM alerts") == 0
    assert count(fresh_db, "SELECT count(*) FROM runs WHERE job = 'fast'") == 0


def test_off_in_settings_and_old_posts_are_skipped(fresh_db, tiny_models_dir):
    assert fastpath.label_hook(fresh_db, config(fast_path=False), lambda: NOW) is None
    s = config()
    seed(fresh_db, burst=30)
    old = [{"platform": "x", "post_id": "p1", "created_at": NOW - timedelta(days=2), "topics": [],
            "matched_claim_id": None}]
    assert fastpath.evaluate(fresh_db, s, NOW, old) is None  # a relabelled old post changes no current window
    assert count(fresh_db, "SELECT count(*) FROM alerts") == 0


@pytest.mark.parametrize(("now", "end"), [(NOW, datetime(2026, 11, 3, 15, 3)),
                                          (datetime(2026, 11, 3, 15, 3), datetime(2026, 11, 3, 15, 3))])
def test_the_window_ends_at_the_next_whole_minute(now, end):
    assert fastpath.window_end(now) == end
