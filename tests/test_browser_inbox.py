"""A real headless Chromium drives the real dashboard server: comms staff open the Inbox, write a reply to the oldest
unanswered item and record it as sent; the item is answered in the database, by them, with their text."""

import pytest
from dashboard_seed import dash_fixture  # noqa: F401
from test_browser import ARGS, CHROMIUM, dashboard_server, sign_in
from test_dashboard_inbox import inbound

from collectors.base import Batch

pytestmark = pytest.mark.slow  # no Chromium is a failure, not a skip: `make test` installs it


@pytest.fixture
def inbox_dashboard(dash):
    client, _ = dash
    with dashboard_server(str(client._http.base_url)) as url:
        yield url


def test_comms_answers_the_oldest_item_in_the_inbox(dash, inbox_dashboard, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    _, db = dash
    db.write_batch("intake", Batch([
        inbound("sms", "sms-1", 300, "phone:1a2b", "Is the fairgrounds site open today?"),
        inbound("email", "mail-1", 100, "email:9f8e", "Water tastes odd on 5th street"),
    ], None))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1200})
        page.set_default_timeout(30_000)
        sign_in(page, inbox_dashboard, "comms")
        page.get_by_role("link", name="Inbox").click()
        expect(page.get_by_text("Is the fairgrounds site open today?").first).to_be_visible()
        reply = page.get_by_role("textbox", name="Reply", exact=True)
        reply.fill("Yes, open 9 am to 5 pm today.")
        reply.press("Control+Enter")  # commits the text area (as leaving it does)
        expect(page.get_by_text("SMS: 1 segment")).to_be_visible()
        page.get_by_role("button", name="Record as sent").click()
        expect(page.get_by_text("Recorded as answered.")).to_be_visible()
        page.screenshot(path=tmp_path / "inbox.png", full_page=True)
        browser.close()
    row = db.reader().execute("SELECT status, answered_by, answer_text, answer_via FROM inbox_items "
                              "WHERE post_id = 'sms-1'").fetchone()
    assert row == ("answered", "comms", "Yes, open 9 am to 5 pm today.", "elsewhere")
    assert db.reader().execute("SELECT status FROM inbox_items WHERE post_id = 'mail-1'").fetchone() == ("new",)
    assert (tmp_path / "inbox.png").stat().st_size > 10_000
