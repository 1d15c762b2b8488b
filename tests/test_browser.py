"""A real headless Chromium drives the real dashboard server: sign in, watch the overview, acknowledge an alert.

Needs a Chromium binary (`apt-get install -y chromium`; `make test` installs it when missing). Playwright's own
browser downloads are not used. Screenshots land in the test's temporary folder.
"""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from dashboard_seed import NOW, PASSWORDS, ROOT, TOPICS, dash_fixture  # noqa: F401

from conftest import TOKEN
from core.users import UserFile
from helpers import free_port
from storage.callers import Directory
from storage.service import Service, create_app

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.slow  # no Chromium is a failure, not a skip: `make test` installs it


@contextmanager
def dashboard_server(service_url: str) -> Iterator[str]:
    """`streamlit run dashboard/app.py` against the storage service at `service_url`; yields the dashboard's URL."""
    port = free_port()
    env = {**os.environ, "CIVICRADAR_SERVICE_URL": service_url, "CIVICRADAR_SERVICE_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard" / "app.py"), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        process.kill()
        raise AssertionError("the dashboard did not start:\n" + (process.stdout.read() if process.stdout else ""))
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def dashboard_url(dash):
    client, _ = dash
    with dashboard_server(str(client._http.base_url)) as url:
        yield url


def sign_in(page, url: str, role: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="User name").fill(role)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[role])
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_overview_and_acknowledge_an_alert(dash, dashboard_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    _, db = dash
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 1000})
        page.set_default_timeout(30_000)
        page.goto(dashboard_url)
        page.get_by_role("textbox", name="User name").fill("comms")
        page.get_by_role("textbox", name="Password").fill(PASSWORDS["comms"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Test County: overview")).to_be_visible()
        expect(page.get_by_text("Posts in the last hour")).to_be_visible()
        expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
        page.screenshot(path=tmp_path / "overview.png", full_page=True)

        page.get_by_role("link", name="Alerts").click()
        expect(page.get_by_text("Volume spike on vaccines").first).to_be_visible()
        page.screenshot(path=tmp_path / "alerts.png", full_page=True)
        page.get_by_role("button", name="Acknowledge", exact=True).click()
        expect(page.get_by_text("Alert #1 acknowledged.")).to_be_visible()
        page.screenshot(path=tmp_path / "acknowledged.png", full_page=True)
        browser.close()
    assert db.reader().execute("SELECT status FROM alerts WHERE alert_id = 1").fetchone() == ("acknowledged",)
    actor = db.reader().execute("SELECT actor FROM alert_events WHERE event = 'acknowledged'").fetchone()
    assert actor == ("comms",)
    assert all((tmp_path / f"{name}.png").stat().st_size > 10_000 for name in ("overview", "alerts", "acknowledged"))


def test_wrong_password_stays_on_the_sign_in_screen(dash, dashboard_url):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(30_000)
        page.goto(dashboard_url)
        expect(page.get_by_role("textbox", name="User name")).to_be_visible()
        expect(page.locator("[data-testid='stSidebarNav']")).to_have_count(0)  # no page listed before sign-in
        page.get_by_role("textbox", name="User name").fill("viewer")
        page.get_by_role("textbox", name="Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("Wrong user name or password.")).to_be_visible()
        expect(page.get_by_text("Test County: overview")).to_have_count(0)
        browser.close()


def engine(db, port: int, users: Path) -> Service:
    """The storage service as the engine serves it, on `port`: started again there, as after a restart."""
    info = {"agency": "Test County", "refresh_seconds": 1, "watches": ["covid-19", "vaccines"], "topics": list(TOPICS)}
    app = create_app(db, TOKEN, lambda: (NOW, False), info=info, directory=Directory(UserFile(users)))
    service = Service(app, "127.0.0.1", port)
    service.start()
    return service


def test_a_stopped_engine_shows_a_short_message_and_the_page_comes_back(dash, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    _, db = dash
    port = free_port()
    service = engine(db, port, tmp_path / "users.yaml")  # the dash fixture's users
    try:
        with dashboard_server(f"http://127.0.0.1:{port}") as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1000})
            page.set_default_timeout(60_000)
            sign_in(page, url, "viewer")
            expect(page.get_by_text("Posts in the last hour")).to_be_visible(timeout=60_000)
            service.stop()  # the engine dies; the overview refreshes every second
            notice = page.get_by_text("The CivicRadar engine is not reachable right now")
            expect(notice).to_be_visible(timeout=30_000)
            expect(notice).to_contain_text("This page tries again every")
            page.screenshot(path=tmp_path / "engine-stopped.png", full_page=True)
            page.get_by_role("link", name="Alerts").click()  # a page that does not refresh by itself
            expect(notice).to_be_visible(timeout=30_000)
            shown = page.inner_text("body")
            assert not [leak for leak in ("Traceback", "ServiceError", "httpx", 'File "') if leak in shown], shown
            service = engine(db, port, tmp_path / "users.yaml")  # back: the page reruns by itself in the retry period
            expect(page.get_by_text("#1 Volume spike on vaccines")).to_be_visible(timeout=30_000)
            expect(notice).to_have_count(0)
            browser.close()
    finally:
        service.stop()


# An iPhone's screen (390 CSS px wide) and user agent: Streamlit closes the sidebar after a tap on a page link only
# for a mobile user agent, as a real phone sends.
PHONE = "iPhone 13"
OFF_SCREEN = """() => {
  const limit = window.innerWidth + 1;
  const out = [...document.querySelectorAll('[data-testid="stMain"] *, [data-testid="stPopoverBody"] *')]
    .filter(e => !e.closest('[data-testid="stDataFrame"]'))  // a table scrolls inside its own frame (checked apart)
    .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && (r.right > limit || r.left < -1); })
    .map(e => `${e.getAttribute('data-testid') || e.tagName} ${Math.round(e.getBoundingClientRect().left)}..`
              + Math.round(e.getBoundingClientRect().right));
  return {page: document.documentElement.scrollWidth - window.innerWidth, out: out.slice(0, 5)};
}"""
TABLES = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')].map(t => {
  const r = t.getBoundingClientRect(), s = t.querySelector('.dvn-scroller');
  return {left: r.left, right: r.right, scrolls: s ? s.scrollWidth > s.clientWidth && getComputedStyle(s).overflowX
          !== 'hidden' : null};
})"""


def assert_fits(page, what: str) -> None:
    """Nothing wider than the screen: no sideways page scroll, no element past either edge, tables in their frame."""
    found = page.evaluate(OFF_SCREEN)
    assert found == {"page": 0, "out": []}, f"{what}: off screen at {page.viewport_size['width']} px: {found}"
    for table in page.evaluate(TABLES):
        assert table["left"] >= -1 and table["right"] <= page.viewport_size["width"] + 1, (what, table)


def assert_on_screen(locator) -> None:
    locator.scroll_into_view_if_needed()
    box, width = locator.bounding_box(), locator.page.viewport_size["width"]
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, box


def test_on_a_phone_sign_in_overview_and_alerts_fit_the_screen(dash, dashboard_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    shots = tmp_path / "phone"
    shots.mkdir()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        phone = {k: v for k, v in p.devices[PHONE].items() if k != "default_browser_type"}
        assert phone["viewport"]["width"] == 390
        page = browser.new_context(**phone).new_page()
        page.set_default_timeout(60_000)
        page.goto(dashboard_url)
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=60_000)  # a first start is slow
        assert_fits(page, "sign-in")
        assert_on_screen(page.get_by_role("button", name="Sign in"))
        page.screenshot(path=shots / "signin.png")
        sign_in(page, dashboard_url, "comms")
        expect(page.get_by_text("Posts in the last hour")).to_be_visible(timeout=60_000)
        expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()
        expect(page.locator("[data-testid='stDataFrame']").first).to_be_attached()
        assert_fits(page, "overview")
        tiles = page.locator(".st-key-tiles [data-testid='stMetric']")
        assert tiles.count() >= 4 and tiles.nth(1).bounding_box()["y"] == tiles.nth(0).bounding_box()["y"]  # 2 a row
        page.screenshot(path=shots / "overview.png")

        page.get_by_test_id("stExpandSidebarButton").click()
        page.get_by_role("link", name="Alerts").click()
        expect(page.get_by_text("#1 Volume spike on vaccines")).to_be_visible(timeout=30_000)
        expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")  # not over the page
        assert_fits(page, "alerts")
        assert any(t["scrolls"] for t in page.evaluate(TABLES)), "the alert queue scrolls sideways in its frame"
        page.screenshot(path=shots / "alerts.png")
        page.get_by_role("button", name="Resolve").first.click()
        expect(page.get_by_role("textbox", name="What was done")).to_be_visible()
        assert_fits(page, "the Resolve popover")
        page.keyboard.press("Escape")
        acknowledge = page.get_by_role("button", name="Acknowledge", exact=True)
        assert_on_screen(acknowledge)
        acknowledge.click()
        expect(page.get_by_text("Alert #1 acknowledged.")).to_be_visible()
        page.screenshot(path=shots / "acknowledged.png")
        browser.close()
