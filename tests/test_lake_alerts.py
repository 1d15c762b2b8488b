"""Alerts, deliveries and incidents on the lake (a real PostgreSQL catalog, Parquet in a folder): a detection pass
raises, suppresses and records exactly as on the DuckDB file; incidents open, escalate, notify once per key and
split with the same ids (max + 1 in the writer's transaction on the lake, the sequences on the file).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from incident_seed import T
from lake_helpers import Postgres, postgres  # noqa: F401 (fixture)
from test_incidents_notify import storm

import settings
from alerts import engine
from collectors.base import Batch, Post
from runner import Runner
from storage import alert_store, lake_schema
from storage.actions import ACTIONS
from storage.db import Database
from storage.lake import LakeConfig
from storage.runs import RunLog

pytestmark = pytest.mark.slow  # a real PostgreSQL: seconds
NOW = datetime(2026, 11, 3, 15, 0)
_names = (f"alerts{i}" for i in itertools.count())
TABLES = {
    "alerts": "SELECT alert_id, fingerprint, kind, severity, status, occurrences, first_seen_at, last_seen_at "
              "FROM alerts",
    "events": "SELECT alert_id, event, status, severity FROM alert_events",
    "evidence": "SELECT alert_id, rank, platform, post_id FROM alert_evidence",
    "incidents": "SELECT incident_id, headline_alert_id, severity, status, notices, first_seen_at, last_seen_at "
                 "FROM incidents",
    "members": "SELECT alert_id, incident_id, reason, baseline_posts FROM incident_alerts",
    "deliveries": "SELECT delivery_id, dedupe_key, alert_id, incident_id, channel, status FROM deliveries",
    "incident_events": "SELECT incident_id, event, status, severity FROM incident_events",
}


@pytest.fixture
def both(postgres: Postgres, tmp_path: Path) -> Iterator[tuple[Database, Database]]:  # noqa: F811
    """A migrated lake of its own, and the DuckDB file: the same writes go to both."""
    folder = f"{tmp_path}/lake/"
    on_lake = Database(tmp_path / "lake.name", lake=LakeConfig(postgres.migrated(next(_names), folder), folder, 10))
    on_file = Database(":memory:")
    yield on_lake, on_file
    on_lake.close()
    on_file.close()


def state(db: Database) -> dict[str, list[tuple]]:  # type: ignore[type-arg]
    return {name: db.reader().execute(f"{sql} ORDER BY ALL").fetchall() for name, sql in TABLES.items()}


SETTINGS = settings.parse({"timezone": "America/Chicago", "classify": {"enabled": False}}, settings.DEFAULT_PATH)


def detect(db: Database, at: datetime) -> dict[str, int] | None:
    s = SETTINGS
    run = Runner(RunLog(db)).run(engine.detect_job(db, s, lambda: at))
    return None if run is None else run.details


def test_a_detection_pass_on_the_lake_records_as_on_the_file(both: tuple[Database, Database]) -> None:
    text = "Tell the county to reopen the fairgrounds site today, everyone call now"
    settle = timedelta(minutes=SETTINGS.alerts.settle_minutes)  # a step is evaluated once it has settled
    for db in both:
        db.write_batch("test", Batch([Post("x", f"p{i}", text, NOW - timedelta(minutes=10 - i), author_id=f"a{i}")
                                      for i in range(9)], None))
        found = detect(db, NOW + settle)
        assert found is not None and found["raised"] == 1
        assert detect(db, NOW + settle + timedelta(minutes=4)) is None  # the step was evaluated already
        assert db.write(alert_store.detect_cursor) is not None
    on_lake, on_file = both
    assert on_lake.write(lake_schema.on_lake) and not on_file.write(lake_schema.on_lake)  # ids by max + 1 / sequence
    assert state(on_lake) == state(on_file)
    assert on_lake.write(alert_store.detect_cursor) == on_file.write(alert_store.detect_cursor)
    assert state(on_lake)["alerts"][0][0] == 1


def test_incidents_and_their_outbox_on_the_lake_as_on_the_file(both: tuple[Database, Database],
                                                              tmp_path: Path) -> None:
    hooks = [{"name": "comms", "url": "http://127.0.0.1:9/x", "format": "json", "min_severity": "medium"}]
    s = settings.parse({"timezone": "America/Chicago", "alerts": {"webhooks": hooks}}, tmp_path / "settings.toml")
    for db in both:
        assert storm(db, s) == [["opened"], [], ["escalated"], [], ["escalated"], ["opened"]]
    on_lake, on_file = both
    lake_state = state(on_lake)
    assert lake_state == state(on_file)
    assert [r[0] for r in lake_state["incidents"]] == [1, 2] and [r[4] for r in lake_state["incidents"]] == [3, 1]
    keys = [r[1] for r in lake_state["deliveries"]]
    assert len(keys) == len(set(keys)) == 4 and [r[0] for r in lake_state["deliveries"]] == [1, 2, 3, 4]
    fields = {"alert_id": None, "channel": "webhook", "target": "comms", "payload": "{}"}
    assert not on_lake.write(lambda con: alert_store.add_delivery(con, keys[0], fields, T))  # once per key
    for db in both:
        split = db.run_action("incident_split", ACTIONS["incident_split"].fn, "ann",
                              {"incident_id": 1, "alert_ids": ["2"]})
        assert split["new_incident_id"] == 3
    assert state(on_lake) == state(on_file)
