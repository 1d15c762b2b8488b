"""The engine schedules the alert jobs from settings; each job records a run when it had work, and a failure is a
recorded error, not a dead schedule."""

from datetime import datetime, timedelta

import jobs
import settings
from alerts import engine
from collectors.base import Batch, Post
from runner import Runner
from storage.db import Database
from storage.runs import RunLog

NOW = datetime(2026, 11, 3, 15, 0)


def config(**more: object) -> settings.Settings:
    data = {"timezone": "America/Chicago", "classify": {"enabled": False}, **more}
    return settings.parse(data, settings.DEFAULT_PATH)


def test_the_engine_schedules_detection_and_only_the_jobs_settings_ask_for(fresh_db):
    ids = [job_id for job_id, _, _ in jobs.Engine(config(), db=fresh_db).jobs()]
    assert "alerts:detect" in ids and "alerts:notify" not in ids and "alerts:digest" not in ids
    s = config(alerts={"every_seconds": 2, "webhooks": [{"name": "h", "url": "http://127.0.0.1:9/x"}]},
               digest={"enabled": True, "recipients": ["lead@county.example"]})
    found = {job_id: every for job_id, _, every in jobs.Engine(s, db=fresh_db).jobs()}
    assert found["alerts:detect"] == 2 and found["alerts:notify"] == 30 and found["alerts:digest"] == 60
    assert "alerts:detect" not in [j for j, _, _ in jobs.Engine(config(alerts={"enabled": False}), db=fresh_db).jobs()]


def runs(db: Database) -> list[tuple]:
    return db.reader().execute("SELECT source, job, status, items, error FROM runs ORDER BY run_id").fetchall()


def test_detection_runs_are_recorded_when_a_step_was_evaluated(fresh_db):
    text = "Tell the county to reopen the fairgrounds site today, everyone call now"
    posts = [Post("x", f"p{i}", text, NOW - timedelta(minutes=10 - i), author_id=f"a{i}") for i in range(9)]
    fresh_db.write_batch("test", Batch(posts, None))
    s = config()
    settle = timedelta(minutes=s.alerts.settle_minutes)  # a step is evaluated once it has settled
    run = Runner(RunLog(fresh_db)).run
    assert run(engine.detect_job(fresh_db, s, lambda: NOW + settle)).details["raised"] == 1
    assert run(engine.detect_job(fresh_db, s, lambda: NOW + settle + timedelta(minutes=4))) is None  # no new step
    assert runs(fresh_db) == [("alerts", "detect", "ok", 1, None)]


def test_a_failing_pass_is_recorded_and_the_next_one_runs(fresh_db, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(engine, "run_pass", broken)
    failed = Runner(RunLog(fresh_db)).run(engine.detect_job(fresh_db, config(), lambda: NOW))
    assert failed is not None and failed.status == "error"
    error = "unexpected RuntimeError: disk on fire (a bug; see the log)"
    assert runs(fresh_db) == [("alerts", "detect", "error", 0, error)]
