"""Pages when the engine drops connections or sends something unreadable: a short message, never a traceback."""

from __future__ import annotations

import logging
import time

import pytest
from dashboard_seed import ROOT, dash_fixture, page, texts  # noqa: F401
from fake_service import fake_service, never
from streamlit.testing.v1 import AppTest

from dashboard.auth import Session
from dashboard.data import SESSION_KEY
from storage.client import ARROW, URL_ENV

LEAKS = ("Traceback", "ServiceError", "ServiceUnreachable", "httpx", "RemoteProtocolError", "ArrowInvalid", 'File "')


def data_requests(path: str, nth: int) -> bool:
    """The clock and settings answer (the page starts); every data request is dropped unanswered, every time."""
    return path.startswith(("/v1/query/", "/v1/queries"))


@pytest.fixture
def flaky(dash, monkeypatch):
    """The real service behind a stand-in that drops what `flaky.drop` says; the dashboard talks to the stand-in."""
    client, _ = dash
    with fake_service(data_requests, upstream=str(client._http.base_url)) as fake:
        monkeypatch.setenv(URL_ENV, fake.url)
        yield fake


def shown(at: AppTest) -> str:
    return texts(at) + "\n".join(str(e.value) for kind in ("code", "json", "markdown") for e in getattr(at, kind))


def assert_short_message(at: AppTest, says: str) -> None:
    assert not at.exception
    assert says in at.warning[0].value and "tries again every" in at.warning[0].value
    assert not [leak for leak in LEAKS if leak in shown(at)]


@pytest.mark.parametrize("name", ["overview", "alerts", "explore", "sources", "narratives"])
def test_a_dropped_connection_shows_a_short_message_and_the_page_recovers(flaky, name, caplog):
    at = page(name, "comms").run()
    assert_short_message(at, "The CivicRadar engine is not reachable right now")
    logged = [r for r in caplog.records if r.name == "civicradar.dashboard"]
    assert any("Server disconnected" in r.getMessage() for r in logged)  # the details are in the log
    flaky.drop = never  # the engine answers again: the next run (the retry) shows the page
    at.run()
    assert not at.exception and not at.warning and at.title


def test_unreadable_data_shows_a_short_message_and_logs_the_traceback(flaky, caplog):
    flaky.drop = never
    flaky.answers["/v1/query/overview_tiles"] = (200, ARROW, b"this is not an Arrow stream")
    at = page("overview", "viewer").run()
    assert_short_message(at, "Something went wrong while loading this page.")
    errors = [r for r in caplog.records if r.name == "civicradar.dashboard" and r.levelno == logging.ERROR]
    # the traceback went to the log (once jobs.main has installed its secret-redacting filter on the root
    # handlers, the record carries the formatted traceback in its message instead of exc_info)
    assert errors and (errors[0].exc_info is not None or "Traceback" in errors[0].getMessage())


def test_a_failing_chart_in_the_live_view_leaves_the_tiles_and_a_message(dash, monkeypatch):
    from dashboard import charts

    def broken(*args, **kwargs):
        raise KeyError("series")

    monkeypatch.setattr(charts, "volume", broken)
    at = page("overview", "viewer").run()
    assert_short_message(at, "Something went wrong")
    assert "Posts in the last hour" in {m.label for m in at.metric}


def test_the_app_turns_an_error_no_loader_caught_into_a_message(dash, monkeypatch):
    """app.py runs every page inside `page_errors` (AppTest goes through app.py only for the default page)."""
    from dashboard import data

    def broken(capability: str):
        raise RuntimeError("a bug in the overview page")

    monkeypatch.setattr(data, "require", broken)
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.session_state[SESSION_KEY] = Session("comms", "Comms User", "comms", time.time() + 3600)
    at.run()
    assert_short_message(at, "Something went wrong")
    assert "a bug in the overview page" not in shown(at)
    assert [b.label for b in at.sidebar.button] == ["Sign out"]  # app.py drew its part; the page failed alone
