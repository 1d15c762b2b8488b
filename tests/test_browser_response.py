"""A real headless Chromium drives the real dashboard server: comms staff open an incident on the Incidents page,
pick the approved response suggested for it, and record it as posted; the incident keeps the response (library
entry, channel, link, who) and its first response time, and the effect panel asks for time to pass."""

import pytest
from dashboard_seed import dash_fixture  # noqa: F401
from test_browser import ARGS, CHROMIUM, dashboard_server, sign_in
from test_dashboard_responses import DEMO, rumour_incident

from responses import library

pytestmark = pytest.mark.slow  # no Chromium is a failure, not a skip: `make test` installs it
LINK = "https://x.com/HarborCountyPH/status/1866000000000000001"


@pytest.fixture
def response_dashboard(dash):
    client, _ = dash
    with dashboard_server(str(client._http.base_url)) as url:
        yield url


def test_comms_open_an_incident_pick_its_approved_response_and_record_it_as_posted(dash, response_dashboard,
                                                                                 tmp_path):
    from playwright.sync_api import expect, sync_playwright

    _, db = dash
    library.load(db, DEMO)
    incident = rumour_incident(db, tmp_path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1400})
        page.set_default_timeout(30_000)
        sign_in(page, response_dashboard, "comms")
        page.get_by_role("link", name="Incidents").click()
        expect(page.get_by_text("Since you were last here")).to_be_visible()
        page.get_by_role("combobox", name="Open an incident").click()  # open it from the queue
        page.get_by_role("option", name=f"#{incident} claim burst on HCPH-RR-014").click()
        expect(page.get_by_text("Suggested responses")).to_be_visible()
        suggestion = page.get_by_text("1. Gargling with salt water or vinegar does not kill the coronavirus")
        expect(suggestion).to_be_visible()
        page.get_by_role("tab", name="X").first.click()  # the approved X text, filled in
        expect(page.get_by_text("weighted characters").first).to_be_visible()
        page.get_by_role("textbox", name="Link to the post (if it has one)").first.fill(LINK)
        page.get_by_role("button", name="Record as posted").first.click()
        expect(page.get_by_text("Recorded: HCPH-RESP-001 posted on")).to_be_visible()
        expect(page.get_by_text("Did the response work?")).to_be_visible()
        page.screenshot(path=tmp_path / "recorded.png", full_page=True)
        browser.close()
    rows = db.reader().execute("SELECT incident_id, response_id, url, actor FROM incident_responses").fetchall()
    assert rows == [(incident, "HCPH-RESP-001", LINK, "comms")]
    assert db.reader().execute("SELECT first_response_at IS NOT NULL, status FROM incidents WHERE incident_id = ?",
                               [incident]).fetchone() == (True, "acknowledged")
    assert (tmp_path / "recorded.png").stat().st_size > 10_000
