"""The one job runner (runner.py): every scheduled job runs as a recorded run; a failure is recorded with its message
and counts, never raised, and the engine's other jobs keep running."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import jobs
import settings
from collectors.base import CollectorError
from core.runs import Job, Progress, always
from runner import Runner
from storage.db import Database
from storage.runs import RunLog


def rows(db: Database) -> list[tuple]:
    sql = "SELECT source, job, status, items, warnings, error FROM runs ORDER BY run_id"
    return db.reader().execute(sql).fetchall()


def test_a_failing_job_is_recorded_with_its_message_and_counts_and_the_next_one_runs(fresh_db: Database) -> None:
    def half_way(progress: Progress) -> None:
        progress.add(items=3, warnings=1)
        raise CollectorError("the API refused the token; set a new one in CIVICRADAR_X_TOKEN")

    def bug(progress: Progress) -> None:
        raise KeyError("id")

    runner = Runner(RunLog(fresh_db))
    failed = runner.run(Job("collect:x", "x", "collect", 60, half_way))
    crashed = runner.run(Job("classify", "classify", "classify", 60, bug))
    fine = runner.run(Job("retention", "retention", "retention", 60, lambda p: p.add(items=2)))
    assert failed is not None and crashed is not None and fine is not None
    assert (failed.status, crashed.status, fine.status) == ("error", "error", "ok")
    assert rows(fresh_db) == [
        ("x", "collect", "error", 3, 1, "the API refused the token; set a new one in CIVICRADAR_X_TOKEN"),
        ("classify", "classify", "error", 0, 0, "unexpected KeyError: 'id' (a bug; see the log)"),
        ("retention", "retention", "ok", 2, 0, None),
    ]


def test_a_job_that_is_not_due_records_nothing(fresh_db: Database) -> None:
    ran: list[int] = []
    job = Job("alerts:notify", "alerts", "notify", 30, lambda p: ran.append(1), due=lambda: False)
    assert Runner(RunLog(fresh_db)).run(job) is None and ran == [] and rows(fresh_db) == []


def test_details_are_recorded_with_the_run(fresh_db: Database) -> None:
    Runner(RunLog(fresh_db)).run(Job("d", "alerts", "detect", 60, lambda p: p.report({"raised": 2, "failed": 1},
                                                                                      "raised")))
    items, warnings, details = fresh_db.reader().execute("SELECT items, warnings, details FROM runs").fetchone()
    assert (items, warnings, json.loads(details)) == (2, 1, {"raised": 2, "failed": 1})


def every_job_settings(tmp_path: Path) -> settings.Settings:
    (tmp_path / "feed.jsonl").write_text(json.dumps({"post_id": "p1", "text": "water main break on 5th",
                                                     "created_at": "2026-11-01T00:00:00Z"}) + "\n", encoding="utf-8")
    data = {"timezone": "America/Chicago", "classify": {"enabled": False},
            "storage": {"path": str(tmp_path / "cr.duckdb")},
            "sources": {"feed": {"kind": "replay", "path": str(tmp_path / "feed.jsonl")},
                        "broken": {"kind": "replay", "path": str(tmp_path / "missing.jsonl")}},
            "alerts": {"webhooks": [{"name": "h", "url": "http://127.0.0.1:9/x"}]},
            "digest": {"enabled": True, "recipients": ["lead@county.example"]},
            "responses": {"library": str(Path(__file__).resolve().parents[1] / "demo" / "responses.yaml")}}
    return settings.parse(data, tmp_path / "settings.toml")


def test_every_scheduled_job_shows_up_as_a_recorded_run(tmp_path: Path) -> None:
    engine = jobs.Engine(every_job_settings(tmp_path))
    try:
        specs = engine.scheduled_jobs()
        assert [job_id for job_id, _, _ in engine.jobs()] == [job.name for job in specs]  # all through the runner
        runner = Runner(RunLog(engine.db))
        done = [runner.run(replace(job, due=always)) for job in specs]  # each run once, due or not
        recorded = engine.db.reader().execute("SELECT source, job FROM runs ORDER BY run_id").fetchall()
    finally:
        engine.db.close()
    assert recorded == [(job.source, job.kind) for job in specs] and all(run is not None for run in done)
    names = {job.name for job in specs}
    assert {"collect:feed", "collect:broken", "retention", "alerts:detect", "alerts:incidents", "alerts:notify",
            "alerts:digest", "responses:library"} <= names
    assert next(run for run in done if run and run.source == "feed").status == "ok"


def test_the_schedule_keeps_going_when_a_source_fails(tmp_path: Path) -> None:
    engine = jobs.Engine(every_job_settings(tmp_path))
    try:
        entries = {job_id: fn for job_id, fn, _ in engine.jobs()}
        broken, feed = entries["collect:broken"](), entries["collect:feed"]()
    finally:
        engine.db.close()
    assert broken is not None and broken.status == "error" and "missing.jsonl" in (broken.error or "")
    assert feed is not None and (feed.status, feed.items) == ("ok", 1)
