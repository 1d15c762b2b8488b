"""Screenshots of every dashboard page from a running dashboard (for the README): a headless Chromium signs in
as an admin and saves one PNG per page.

    python -m dashboard.screenshots http://127.0.0.1:8501 admin PASSWORD docs/screenshots [--chromium PATH]
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any

PAGES = [  # (link in the navigation, title to wait for, file name)
    ("Overview", ": overview", "overview.png"),
    ("Alerts", "Alerts", "alerts.png"),
    ("Narratives and fact-checks", "Narratives and fact-checks", "narratives.png"),
    ("Explore posts", "Explore posts", "explore.png"),
    ("Sources", "Sources", "sources.png"),
    ("SQL and exports", "SQL and exports", "sql.png"),
    ("Admin", "Admin", "admin.png"),
]
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def capture(url: str, username: str, password: str, folder: Path, chromium: str, settle_ms: int = 3000) -> list[Path]:
    from playwright.sync_api import expect, sync_playwright

    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000}, device_scale_factor=1)
        page.set_default_timeout(60_000)
        page.goto(url)
        expect(page.get_by_role("textbox", name="User name")).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=folder / "signin.png")
        saved.append(folder / "signin.png")
        page.get_by_role("textbox", name="User name").fill(username)
        page.get_by_role("textbox", name="Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        for link, title, name in PAGES:
            page.get_by_role("link", name=link, exact=True).click()
            expect(page.get_by_role("heading", name=title).first).to_be_visible()
            if name == "sql.png":
                page.get_by_role("button", name="Run query").click()
            if name == "explore.png":  # a filter in use, and an opened post that has its labels
                page.get_by_role("combobox", name="Sentiment").click()
                page.get_by_role("option", name="negative").click()
                page.keyboard.press("Escape")
                page.get_by_test_id("stBaseButton-primaryFormSubmit").click()
            page.wait_for_timeout(settle_ms)
            shoot(page, folder / name)
            saved.append(folder / name)
        browser.close()
    return saved


def shoot(page: Any, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main section, so grow the window to its height first."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 1000")
    page.set_viewport_size({"width": 1600, "height": max(int(height), 1000)})
    page.wait_for_timeout(1000)
    page.screenshot(path=path)
    page.set_viewport_size({"width": 1600, "height": 1000})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("username")
    parser.add_argument("password")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    for path in capture(args.url, args.username, args.password, args.folder, args.chromium):
        print(path)


if __name__ == "__main__":
    main()
