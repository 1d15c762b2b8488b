"""A source whose API misbehaves in every way we know: the collector backs off, records each fault with a clear
message, quarantines what it cannot read, recovers when the API does, and the other sources keep flowing."""

import json
import time
from pathlib import Path

import pytest
from werkzeug import Response

import settings as settings_module
from collectors import base
from helpers import write_scenario
from jobs import Engine

FIXTURE = Path(__file__).parent / "fixtures" / "collectors" / "open311" / "requests.json"
GOOD = FIXTURE.read_text(encoding="utf-8")

# (what the API does, how many requests it does it for, what the run record must say)
FAULTS = [
    ("timeout", 4, "no answer within"),
    ("500", 4, "server error 500"),
    ("429", 4, "rate limited (429)"),
    ("truncated", 1, None),
    ("html", 1, None),
    ("wrong_types", 1, None),
    ("enormous", 1, "larger than 32 MB"),
]


def respond(fault: str) -> Response:
    if fault == "timeout":
        time.sleep(1.1)  # just past the client's timeout (this test server answers one request at a time)
        return Response(GOOD, content_type="application/json")
    if fault == "500":
        return Response("<html><body>Internal Server Error</body></html>", status=500, content_type="text/html")
    if fault == "429":
        return Response('{"error": "slow down"}', status=429, headers={"Retry-After": "0"})
    if fault == "truncated":
        return Response(GOOD[: len(GOOD) // 2], content_type="application/json")
    if fault == "html":
        return Response("<!doctype html><h1>Maintenance</h1>", content_type="text/html")
    if fault == "wrong_types":
        return Response(json.dumps([{"service_request_id": ["not", "a", "string"], "requested_datetime": 5},
                                    "a string", 42]), content_type="application/json")
    if fault == "enormous":
        return Response(b"[" + b" " * (40 * 2**20) + b"]", content_type="application/json")
    return Response(GOOD, content_type="application/json")


@pytest.fixture
def faulty_engine(tmp_path, write_settings, httpserver, monkeypatch):
    monkeypatch.setattr(base.BaseCollector, "backoff_initial", 0.01)
    monkeypatch.setattr(base.BaseCollector, "backoff_max", 0.02)
    plan = [fault for fault, times, _ in FAULTS for _ in range(times)]
    httpserver.expect_request("/requests.json").respond_with_handler(lambda _: respond(plan.pop(0) if plan else ""))
    write_scenario(tmp_path / "steady.jsonl.gz", 50)
    path = write_settings(f"""
        [classify]
        enabled = false
        [sources.city311]
        kind = "open311"
        base_url = "{httpserver.url_for('/')}"
        timeout_seconds = 1.0
        initial_days = 30
        window_days = 90
        [sources.steady]
        kind = "replay"
        path = "steady.jsonl.gz"
        batch_size = 5
    """)
    engine = Engine(settings_module.load(path))
    yield engine
    engine.db.close()


def test_faults_are_recorded_and_the_source_recovers(faulty_engine):
    outcomes = []
    for _ in range(len(FAULTS) + 2):
        outcomes.append(faulty_engine.collect("city311"))
        assert faulty_engine.collect("steady").status == "ok"  # the healthy source never stops
    for (fault, _, message), run in zip(FAULTS, outcomes, strict=False):
        if message:
            assert run.status == "error" and message in (run.error or ""), (fault, run)
        else:
            assert run.quarantined >= 1 or run.warnings >= 1, (fault, run)  # kept with its reason, not dropped
    assert outcomes[-1].status == "ok" and outcomes[-1].posts > 0  # recovered once the API did
    reasons = faulty_engine.db.reader().execute("SELECT reason FROM quarantine").fetchall()
    assert len(reasons) >= 2 and all(r[0] for r in reasons)
    stored = faulty_engine.db.reader().execute("SELECT count(*) FROM posts WHERE source = 'steady'").fetchall()
    assert stored == [(50,)]
