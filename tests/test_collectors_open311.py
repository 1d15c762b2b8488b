"""Open311 GeoReport v2 requests.json against a fake city endpoint: windows, service codes, updates."""

import json
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


def test_engine_walks_windows_and_keeps_the_latest_status(httpserver, tmp_path):
    seen: list[dict] = []
    answers = ["requests.json", "requests_later.json"]

    def handler(request: Request) -> Response:
        seen.append(dict(request.args))
        return Response(body("open311", answers.pop(0)), content_type="application/json")

    httpserver.expect_request("/open311/v2/requests.json").respond_with_handler(handler)
    source = f"""
        [sources.city311]
        kind = "open311"
        base_url = "{httpserver.url_for("/open311/v2")}"
        service_codes = ["TS-01", "SAN-02", "VX-03"]
        jurisdiction_id = "harbor.example"
    """
    e = engine(tmp_path, source)
    first = e.collect("city311")
    assert first.posts == 3 and first.quarantined == 1 and first.warnings == 1
    assert seen[0]["service_code"] == "TS-01,SAN-02,VX-03" and seen[0]["jurisdiction_id"] == "harbor.example"
    e.db.close()
    again = engine(tmp_path, source)
    assert again.collect("city311").posts == 2
    assert seen[1]["start_date"] == seen[0]["end_date"]  # resumed where the last window ended
    stored = {r[1]: r for r in posts(again, "city311")}
    assert len(stored) == 4 and "Site closed early" in stored["638401"][2]
    raw = again.db.reader().execute("SELECT raw FROM posts WHERE post_id = '638349'").fetchone()[0]
    assert json.loads(raw)["status_notes"] == "Bins emptied."  # the update replaced the stored request
    again.db.close()


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
