"""The 311 map on the Touchpoints page (AppTest, the real storage service): located requests as points coloured by
status, the time to close per service, and a caption when no request has a location."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from dashboard_seed import NOW, dash_fixture, page, texts  # noqa: F401

from collectors import open311
from collectors.base import Batch


def request(ident: str, hours_ago: float, status: str, lat: float | None, closed_hours_ago: float | None = None):
    at = (NOW - timedelta(hours=hours_ago)).replace(tzinfo=UTC)
    closed = None if closed_hours_ago is None else (NOW - timedelta(hours=closed_hours_ago)).replace(tzinfo=UTC)
    return {"service_request_id": ident, "status": status, "service_code": "POT", "service_name": "Pothole",
            "description": "deep hole", "requested_datetime": at.isoformat(),
            "updated_datetime": (closed or at).isoformat(), "address": f"{ident} Harbor Rd", "lat": lat,
            "long": None if lat is None else -122.3}


def test_located_requests_are_points_and_services_show_time_to_close(dash):
    _, db = dash
    db.write_batch("city311", Batch(open311.to_posts([
        request("m1", 10, "open", 47.61), request("m2", 9, "closed", 47.62, closed_hours_ago=3),
        request("m3", 8, "open", None)]), None))
    at = page("touchpoints", "viewer").run()
    assert not at.exception, at.exception
    assert "311 requests on a map" in texts(at) and "2 located requests" in texts(at)
    maps = [c for c in at.get("vega_lite_chart") if '"latitude"' in c.proto.spec]
    assert len(maps) == 1
    spec = json.loads(maps[0].proto.spec)
    assert spec["projection"]["type"] == "mercator" and spec["mark"]["type"] == "circle"
    services = next(d.value for d in at.dataframe if "median_hours_to_close" in d.value.columns)
    row = services.set_index("service").loc["Pothole"]
    assert (row["open_requests"], row["closed_requests"], row["median_hours_to_close"]) == (2, 1, 6.0)


def test_no_located_request_says_so(dash):
    _, db = dash
    db.write_batch("city311", Batch(open311.to_posts([request("n1", 5, "open", None)]), None))
    at = page("touchpoints", "viewer").run()
    assert not at.exception, at.exception
    assert "No 311 request with a location in this window." in texts(at)
