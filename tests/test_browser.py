"""A real headless Chromium drives the real dashboard server: sign in, watch the overview, acknowledge an alert.

Needs a Chromium binary (`apt-get install -y chromium`; `make test` installs it when missing). Playwright's own
browser downloads are not used. Screenshots land in the test's temporary folder.
"""

import os
import shutil
import subprocess
import sys
import time

import httpx
import pytest
from dashboard_seed import PASSWORDS, ROOT, dash_fixture  # noqa: F401

from conftest import TOKEN
from helpers import free_port

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
pytestmark = pytest.mark.slow  # no Chromium is a failure, not a skip: `make test` installs it


@pytest.fixture
def dashboard_url(dash):
    client, _ = dash
    port = free_port()
    env = {**os.environ, "CIVICRADAR_SERVICE_URL": str(client._http.base_url), "CIVICRADAR_SERVICE_TOKEN": TOKEN}
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
    yield url
    process.terminate()
    process.wait(timeout=10)


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
