"""Open311 requests as columns (storage/service_requests.py, migration 016): written with their posts, kept exact on
re-polls, closing their inbox items, removed with their posts, and time to close per service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors import open311
from collectors.base import Batch
from storage import retention, service_schema
from storage.actions import ACTIONS
from storage.db import Database
from storage.queries import QUERIES

T0 = datetime(2026, 12, 1, 8)


def request(ident: str, hours: float, status: str = "open", code: str = "POT", **extra) -> dict:
    stamp = (T0 + timedelta(hours=hours)).replace(tzinfo=UTC).isoformat()
    return {"service_request_id": ident, "status": status, "service_code": code,
            "service_name": {"POT": "Pothole", "TRASH": "Missed pickup"}[code], "description": f"report {ident}",
            "requested_datetime": stamp, "updated_datetime": stamp, "address": f"{ident} Harbor Rd",
            "lat": 47.6 + hours / 100, "long": -122.3, "agency_responsible": "Public Works", **extra}


def write(db: Database, *payload: dict, deleted: list | None = None, at: datetime | None = None) -> None:
    db.write_batch("city311", Batch(open311.to_posts(list(payload)), None, deleted=deleted or []), collected_at=at)


def rows(db: Database) -> dict[str, dict]:
    table = db.reader().sql("SELECT * FROM service_requests").to_arrow_table().to_pylist()
    return {r["post_id"]: r for r in table}


def query(db: Database, name: str, **params) -> list[dict]:
    bound = QUERIES[name].bind(name, params)
    return db.reader().sql(QUERIES[name].sql, params=bound).to_arrow_table().to_pylist()


@pytest.fixture
def db():
    database = Database(":memory:")
    write(database, request("r1", 0), request("r2", 1, code="TRASH"), request("r3", 2, lat="", long=None),
          at=T0 + timedelta(hours=3))
    yield database
    database.close()


def test_status_service_and_place_are_columns(db):
    got = rows(db)
    assert set(got) == {"r1", "r2", "r3"}
    r1 = got["r1"]
    assert (r1["status"], r1["service_code"], r1["service_name"], r1["address"], r1["agency_responsible"]) == (
        "open", "POT", "Pothole", "r1 Harbor Rd", "Public Works")
    assert (r1["lat"], r1["lon"], r1["requested_at"], r1["closed_at"]) == (47.6, -122.3, T0, None)
    assert got["r3"]["lat"] is None and got["r3"]["lon"] is None  # missing coordinates are NULL, not 0


def test_a_repolled_request_that_closed_sets_closed_at_and_closes_its_inbox_item(db):
    closed = request("r1", 0, status="closed", updated_datetime="2026-12-01T13:30:00-08:00")
    write(db, closed, at=T0 + timedelta(days=1))
    r1 = rows(db)["r1"]
    assert (r1["status"], r1["closed_at"], r1["updated_at"]) == ("closed", datetime(2026, 12, 1, 21, 30),
                                                                  datetime(2026, 12, 1, 21, 30))
    item = db.reader().execute("SELECT status, closed_at FROM inbox_items WHERE post_id = 'r1'").fetchall()[0]
    assert item == ("closed", datetime(2026, 12, 1, 21, 30))
    events = db.reader().execute("SELECT actor, event, status FROM inbox_events WHERE post_id = 'r1'").fetchall()
    assert events == [("open311", "closed", "closed")]
    write(db, closed, at=T0 + timedelta(days=2))  # seen closed again: no second event, same closed_at
    assert db.reader().execute("SELECT count(*) FROM inbox_events").fetchall() == [(1,)]
    write(db, request("r1", 0, status="open"), at=T0 + timedelta(days=3))  # reopened by the city
    assert rows(db)["r1"]["closed_at"] is None and rows(db)["r1"]["status"] == "open"


def test_closed_without_any_time_keeps_the_time_it_was_first_seen_closed(db):
    write(db, request("r2", 1, code="TRASH", status="closed", updated_datetime=None), at=T0 + timedelta(hours=9))
    write(db, request("r2", 1, code="TRASH", status="closed", updated_datetime=None), at=T0 + timedelta(hours=20))
    assert rows(db)["r2"]["closed_at"] == T0 + timedelta(hours=9)


def test_an_answered_item_stays_answered_when_the_city_closes_it(db):
    act = ACTIONS["inbox_answer"]
    bound = act.bind("inbox_answer", {"platform": "open311", "post_id": "r2", "text": "crew sent"})
    db.run_action("inbox_answer", act.fn, "casey", bound, act.audit(bound))
    write(db, request("r2", 1, code="TRASH", status="closed"))
    assert db.reader().execute("SELECT status FROM inbox_items WHERE post_id = 'r2'").fetchall() == [("answered",)]


def test_rows_go_with_their_posts(db):
    write(db, deleted=[("open311", "r3")])
    assert set(rows(db)) == {"r1", "r2"}
    retention.delete_older_than(db, T0 + timedelta(minutes=30))
    assert set(rows(db)) == {"r2"}


def test_time_to_close_per_service(db):
    write(db, request("r1", 0, status="closed", updated_datetime=(T0 + timedelta(hours=5)).isoformat() + "Z"),
          request("r4", 1, status="closed", updated_datetime=(T0 + timedelta(hours=4)).isoformat() + "Z"))
    got = query(db, "service_time_to_close", since=T0.isoformat(), until=(T0 + timedelta(days=1)).isoformat())
    assert got == [
        {"service": "Pothole", "service_code": "POT", "open_requests": 1, "closed_requests": 2,
         "median_hours_to_close": 4.0},
        {"service": "Missed pickup", "service_code": "TRASH", "open_requests": 1, "closed_requests": 0,
         "median_hours_to_close": None}]
    located = query(db, "service_request_map", since=T0.isoformat(), until=(T0 + timedelta(days=1)).isoformat())
    assert [r["post_id"] for r in located] == ["r4", "r2", "r1"]  # r3 has no place


def test_the_migration_fills_the_table_from_stored_payloads(db):
    write(db, request("r1", 0, status="closed"))
    before = rows(db)
    db.write(lambda con: con.execute("DROP TABLE service_requests"))
    db.write(lambda con: con.execute(service_schema.MIGRATION_SQL))
    assert rows(db) == before
