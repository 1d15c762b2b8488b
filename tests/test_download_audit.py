"""Every file downloaded from the dashboard is in the audit log: who, which saved view or query, format, rows.

The record is made when Streamlit builds the file for a click (the download button's deferred data), through the
storage service's `download` action; a download that cannot be recorded gets no file. Checked in layers: the
builder, the SQL page's wiring (AppTest), the Admin page's view of the log, and a real Chromium clicking the
button on the real dashboard server.
"""

import json
import logging
import time

import pandas as pd
import pytest
from dashboard_seed import PASSWORDS, audit, dash_fixture, details, page  # noqa: F401
from test_browser import ARGS, CHROMIUM, dashboard_url  # noqa: F401

from dashboard import analyst, exports
from storage.client import ServiceError

QUERY = "SELECT platform, count(*) AS n FROM posts GROUP BY ALL ORDER BY platform"


def test_a_built_file_is_recorded_once_with_its_format_and_rows():
    calls = []
    data = exports.recorded(pd.DataFrame({"a": [1, 2, 3]}), "CSV", lambda fmt, rows: calls.append((fmt, rows)))
    assert data == b"a\r\n1\r\n2\r\n3\r\n" and calls == [("CSV", 3)]


def test_no_file_when_the_download_cannot_be_recorded(caplog):
    def refuse(fmt: str, rows: int) -> None:
        raise ServiceError("the storage service at http://127.0.0.1:1 is not reachable")

    with caplog.at_level(logging.WARNING), pytest.raises(ServiceError):
        exports.recorded(pd.DataFrame({"a": [1]}), "XLSX", refuse)
    assert "could not be recorded in the audit log" in caplog.text


def test_the_recorder_writes_one_audit_row_through_the_service(dash):
    client, db = dash
    result = analyst.Result(pd.DataFrame({"n": range(7)}), False, sql=QUERY, view="hourly")
    exports.recorded(result.frame, "Parquet", analyst.download_recorder(client, "analyst", result))
    rows = audit(db, "download")
    assert len(rows) == 1 and rows[0][0] == "analyst"
    assert details(rows[0]) == {"view": "hourly", "sql": QUERY, "format": "Parquet", "rows": 7,
                                "service_client": "unnamed"}


def test_the_sql_page_records_downloads_as_the_signed_in_user(dash, monkeypatch):
    _, db = dash
    offered = []
    monkeypatch.setattr(analyst, "download_buttons", lambda frame, stem, key, record: offered.append((frame, record)))
    at = page("sql", "analyst").run()
    at.text_area[0].input(QUERY)
    next(b for b in at.button if b.label == "Run query").click().run()
    assert not at.exception and offered
    frame, record = offered[-1]
    exports.recorded(frame, "XLSX", record)  # what Streamlit does when the XLSX button is clicked
    exports.recorded(frame, "CSV", record)
    rows = audit(db, "download")
    assert [r[0] for r in rows] == ["analyst", "analyst"]
    assert [details(r) for r in rows] == [{"view": None, "sql": QUERY, "format": f, "rows": 2,
                                          "service_client": "dashboard"} for f in ("XLSX", "CSV")]


def test_admins_see_downloads_in_the_audit_log(dash):
    client, _ = dash
    client.action("download", "analyst", sql="SELECT 1", format="CSV", rows=1)
    client.action("sign_in", "analyst")
    at = page("admin", "admin").run()
    next(s for s in at.selectbox if s.label == "Only this action").set_value("download").run()
    assert not at.exception
    log = at.dataframe[-1].value
    assert list(log["action"]) == ["download"] and list(log["actor"]) == ["analyst"]
    assert json.loads(log["details"][0]) == {"view": None, "sql": "SELECT 1", "format": "CSV", "rows": 1,
                                                 "service_client": "unnamed"}


@pytest.mark.slow
def test_a_click_in_a_real_browser_downloads_the_file_and_records_it(dash, dashboard_url, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    _, db = dash
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page_ = browser.new_page(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
        page_.set_default_timeout(30_000)
        page_.goto(dashboard_url)
        page_.get_by_role("textbox", name="User name").fill("analyst")
        page_.get_by_role("textbox", name="Password").fill(PASSWORDS["analyst"])
        page_.get_by_role("button", name="Sign in").click()
        page_.get_by_role("link", name="SQL and exports").click()
        editor = page_.get_by_role("textbox", name="Read-only SQL (one SELECT; DuckDB dialect)")
        editor.fill("SELECT '=1+1' AS text, -5 AS n")
        editor.press("Control+Enter")  # commit the text area before the click
        page_.get_by_role("button", name="Run query").click()
        expect(page_.get_by_text("query: 1 rows")).to_be_visible()
        with page_.expect_download() as download:
            page_.get_by_role("button", name="Download CSV").click()
        saved = tmp_path / "export.csv"
        download.value.save_as(saved)
        browser.close()
    assert saved.read_bytes() == b"text,n\r\n'=1+1,-5\r\n"
    deadline = time.monotonic() + 10
    while not audit(db, "download") and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = audit(db, "download")
    assert [r[0] for r in rows] == ["analyst"]
    assert details(rows[0]) == {"view": None, "sql": "SELECT '=1+1' AS text, -5 AS n", "format": "CSV", "rows": 1,
                                "service_client": "dashboard"}
