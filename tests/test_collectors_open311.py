"""Open311 GeoReport v2 requests.json against a fake city endpoint: windows, service codes, updates."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from fixtures.collectors.fakes import Sleeps, body, engine, load, posts
from werkzeug import Request, Response

from collectors.base import AuthFailed
from collectors.open311 import Open311Collector, Open311Settings, parse, to_posts

NOW = datetime(2025, 11, 20, 22, tzinfo=UTC)


def test_requests_map_to_posts_and_odd_items_are_counted():
    mapped = parse(load("open311", "requests.json"))
    assert [p.post_id for p in mapped.posts] == ["638344", "638349", "638350"]
    first = mapped.posts[0]
    assert first.text == "COVID-19 Test Site Complaint: Line at the test site wrapped around the block, no shade 🥵 " \
                         "(100 Main St)" and first.created_at == datetime(2025, 11, 19, 20, 37, 38, tzinfo=UTC)
    assert first.author_id is None and first.raw["lat"] == 37.762221815  # no resident identity is stored
    assert "missing service_request_id" in mapped.quarantined[0].reason
    assert mapped.warnings == ["open311 request 638350: no description"]
    assert to_posts(load("open311", "services.json")) == [] and parse(load("open311", "services.json")).warnings == []


class FakeCity:
    """A GeoReport v2 endpoint that honours what real ones do: requests whose requested_datetime lies in
    [start_date, end_date), `service_code` and `status` filters, and `service_request_id` (comma-separated),
    which overrides every other filter. `requests` may be changed between calls (a request closes)."""

    def __init__(self, requests: list[dict]) -> None:
        self.requests, self.seen = requests, list[dict]()

    def __call__(self, request: Request) -> Response:
        args = dict(request.args)
        self.seen.append(args)
        return Response(json.dumps(self.select(args)), content_type="application/json")

    def select(self, args: dict) -> list[dict]:
        if "service_request_id" in args:
            wanted = set(args["service_request_id"].split(","))
            return [r for r in self.requests if str(r.get("service_request_id")) in wanted]
        start, end = (datetime.fromisoformat(args[k].replace("Z", "+00:00")) for k in ("start_date", "end_date"))
        codes = set(args["service_code"].split(",")) if args.get("service_code") else None
        return [r for r in self.requests if start <= datetime.fromisoformat(r["requested_datetime"]) < end
                and (codes is None or r.get("service_code") in codes)
                and (not args.get("status") or r.get("status") == args["status"])]


def shifted(requests: list[dict], to: datetime) -> list[dict]:
    """The fixture's requests moved so that the newest is one hour before `to` (keeping their spacing)."""
    newest = max(datetime.fromisoformat(r["requested_datetime"]) for r in requests if "requested_datetime" in r)
    delta = to - timedelta(hours=1) - newest
    for r in requests:
        for key in ("requested_datetime", "updated_datetime"):
            if r.get(key):
                r[key] = (datetime.fromisoformat(r[key]) + delta).isoformat()
    return requests


def test_engine_walks_windows_and_keeps_the_latest_status(httpserver, tmp_path):
    now = datetime.now(UTC)
    first_batch = shifted(load("open311", "requests.json"), now - timedelta(days=1))
    for r in first_batch:  # 638349 is still open when first read; it closes later
        if r.get("service_request_id") == "638349":
            r["status"] = "open"
    city = FakeCity(first_batch)
    httpserver.expect_request("/open311/v2/requests.json").respond_with_handler(city)
    source = f"""
        [sources.city311]
        kind = "open311"
        base_url = "{httpserver.url_for("/open311/v2")}"
        service_codes = ["TS-01", "SAN-02", "VX-03"]
        jurisdiction_id = "harbor.example"
        repoll_every_seconds = 0
    """
    e = engine(tmp_path, source)
    first = e.collect("city311")
    assert first.posts == 3 and first.quarantined == 1 and first.warnings == 1
    assert city.seen[0]["service_code"] == "TS-01,SAN-02,VX-03" and city.seen[0]["jurisdiction_id"] == "harbor.example"
    e.db.close()
    after_first = datetime.fromisoformat(city.seen[0]["end_date"].replace("Z", "+00:00")) + timedelta(seconds=1)
    later = {r["service_request_id"]: r for r in shifted(load("open311", "requests_later.json"),
                                                         after_first + timedelta(hours=1))}
    later["638349"]["requested_datetime"] = next(r["requested_datetime"] for r in first_batch
                                                 if r.get("service_request_id") == "638349")
    city.requests = [r for r in city.requests if r.get("service_request_id") != "638349"] + list(later.values())
    time.sleep(2)  # the new request (a second after the first window) falls in the next one
    again = engine(tmp_path, source)
    # the new request, and the three that were open, asked for again by id (one has closed since)
    assert again.collect("city311").posts == 4
    window = next(a for a in city.seen[1:] if "start_date" in a)
    assert window["start_date"] == city.seen[0]["end_date"]  # resumed where the last window ended
    stored = {r[1]: r for r in posts(again, "city311")}
    assert len(stored) == 4 and "Site closed early" in stored["638401"][2]
    raw = again.db.reader().execute("SELECT raw FROM posts WHERE post_id = '638349'").fetchone()[0]
    assert json.loads(raw)["status_notes"] == "Bins emptied."  # the update replaced the stored request
    again.db.close()


def test_open_requests_are_asked_for_again_by_id_until_they_close(httpserver):
    clock = [NOW]
    city = FakeCity([{"service_request_id": "1", "service_code": "TS-01", "service_name": "Test site",
                      "description": "long line", "status": "open",
                      "requested_datetime": (NOW - timedelta(days=2)).isoformat()}])
    httpserver.expect_request("/requests.json").respond_with_handler(city)
    s = Open311Settings(base_url=httpserver.url_for("/"), initial_days=3, window_days=7, repoll_every_seconds=600)
    c = Open311Collector("city", s, lambda: clock[0], Sleeps())
    first = c.fetch(None)
    assert [p.raw["status"] for p in first.posts] == ["open"] and first.stats["open_tracked"] == 1
    city.requests[0].update(status="closed", status_notes="Extra staff sent", updated_datetime=NOW.isoformat())
    clock[0] = NOW + timedelta(minutes=5)
    assert c.fetch(first.next_cursor).posts == []  # the window moved on; a re-poll is not due yet
    clock[0] = NOW + timedelta(minutes=20)
    again = c.fetch(first.next_cursor)
    assert city.seen[-1] == {"service_request_id": "1"}  # asked by id: the date window no longer covers it
    assert [(p.post_id, p.raw["status"]) for p in again.posts] == [("1", "closed")]
    assert again.stats["open_tracked"] == 0  # closed: never asked for again
    clock[0] = NOW + timedelta(hours=3)
    calls = len(city.seen)
    c.fetch(again.next_cursor)
    assert len(city.seen) == calls + 1  # only the window


def test_catching_up_walks_window_by_window(httpserver):
    httpserver.expect_request("/requests.json").respond_with_data("[]", content_type="application/json")
    s = Open311Settings(base_url=httpserver.url_for("/"), initial_days=20, window_days=7)
    c = Open311Collector("city", s, lambda: NOW, Sleeps())
    batches = [c.fetch(None)]
    while batches[-1].more:
        batches.append(c.fetch(batches[-1].next_cursor))
    assert len(batches) == 3
    assert json.loads(batches[-1].next_cursor)["start"] == "2025-11-20T22:00:00Z"
    assert batches[0].stats["window_end"] == (NOW - timedelta(days=13)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_rejected_api_key_says_what_to_do(httpserver, monkeypatch):
    monkeypatch.setenv("CITY_311_KEY", "bad")
    httpserver.expect_request("/requests.json").respond_with_data(body("open311", "error_403.json"), status=403,
                                                                  content_type="application/json")
    s = Open311Settings.model_validate({"base_url": httpserver.url_for("/"), "api_key": {"env": "CITY_311_KEY"}})
    with pytest.raises(AuthFailed, match=r"needs an api_key.*Invalid api_key"):
        Open311Collector("city", s, lambda: NOW, Sleeps()).fetch(None)


def test_a_body_that_is_not_json_is_quarantined_and_the_window_retried(httpserver):
    httpserver.expect_request("/requests.json").respond_with_data("<html>maintenance</html>")
    c = Open311Collector("city", Open311Settings(base_url=httpserver.url_for("/")), lambda: NOW, Sleeps())
    batch = c.fetch(None)
    assert batch.posts == [] and "not JSON" in batch.quarantined[0].reason and not batch.more
    assert json.loads(batch.next_cursor)["start"] == "2025-11-13T22:00:00Z"  # the window is not skipped
