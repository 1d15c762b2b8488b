"""Fixtures for the dashboard tests: labels, claims and runs on top of `seeded_db`, users, and AppTest helpers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from conftest import SEED_NOW, TOKEN
from core.users import UserFile
from dashboard.auth import Session, UserStore
from dashboard.data import SESSION_KEY
from helpers import free_port
from storage import rollup
from storage.callers import Directory
from storage.client import TOKEN_ENV, URL_ENV, StorageClient
from storage.db import Database
from storage.service import Service, create_app

ROOT = Path(__file__).resolve().parents[1]
NOW = SEED_NOW.replace(tzinfo=None)
PASSWORDS = {"viewer": "view-pass-1", "comms": "comms-pass-1", "analyst": "analyst-pass-1", "admin": "admin-pass-1"}
SENTIMENTS = ("negative", "neutral", "positive")
TOPICS = ("vaccination", "testing access", "case numbers")


def seed_labels(db: Database) -> None:
    """Labels for every seeded post: sentiment cycles, every fifth post matches claim REG-1, the rest none."""
    rows = db.reader().execute("SELECT platform, post_id, created_at FROM posts ORDER BY created_at").fetchall()
    n = len(rows)
    table = pa.table({
        "platform": [r[0] for r in rows], "post_id": [r[1] for r in rows], "created_at": [r[2] for r in rows],
        "lang": ["en"] * n,
        "sentiment": [SENTIMENTS[i % 3] for i in range(n)],
        "sentiment_score": [0.9] * n,
        "topics": [[{"name": TOPICS[i % 3], "score": 0.8}] + ([{"name": "vaccination", "score": 0.6}]
                                                             if i > n - 20 else []) for i in range(n)],
        "misinfo_score": [0.85 if i % 5 == 0 else 0.1 for i in range(n)],
        "matched_claim_id": ["REG-1" if i % 5 == 0 else None for i in range(n)],
        "matched_claim_score": [0.9 if i % 5 == 0 else None for i in range(n)],
        "misinfo_reason": ["close to register entry REG-1" if i % 5 == 0 else None for i in range(n)],
        "sentiment_model": ["sent@1"] * n, "topics_model": ["topics@1"] * n, "misinfo_model": ["misinfo@1"] * n,
        "labelled_at": [NOW] * n,
    })

    def write(con):
        con.register("new_labels", table)
        con.execute("INSERT INTO labels BY NAME SELECT * FROM new_labels")
        con.unregister("new_labels")
        rollup.refresh(con, table.column("created_at"))  # as storage.labels.write does
        con.execute("INSERT INTO claims VALUES ('REG-1', 'Salt water gargles cure the virus', 'False', "
                    "'https://example.org/factcheck/salt', 'Test County rumour register', 'register', NULL, ?, NULL),"
                    "('FC-9', '5G spreads the virus', 'False', 'https://example.org/fc/5g', 'Example Checks', "
                    "'factcheck', NULL, ?, NULL)", [NOW, NOW])

    db.write(write)


def seed_runs(db: Database) -> None:
    run = db.start_run("x_search", "collect")
    db.finish_run(run, "ok", items=40, details={"reads": 40, "spend_usd": 12.5, "cap_usd": 50.0,
                                                "rate_limit_waits": 2, "rate_limit_seconds": 30})
    run = db.start_run("reddit", "collect")
    db.finish_run(run, "error", error="RateLimited: rate limit hit; retry after 60 s",
                  details={"rate_limit_waits": 1, "rate_limit_seconds": 60})


def seed_alerts(db: Database) -> None:
    """A high volume spike on 'vaccines' and a medium emerging narrative, both new, through the alerts store."""
    from datetime import timedelta

    import settings
    from alerts import incidents
    from alerts.model import Evidence, Finding
    from storage import alert_stores
    from storage.db import utcnow

    spike = Finding("volume_spike", "volume_spike:watch:vaccines", "high", NOW - timedelta(minutes=30),
                    "Volume spike on vaccines (3.1× usual)", "Posts about vaccines tripled in the last hour.",
                    watch="vaccines", metrics={"posts": 31, "usual": 10},
                    evidence=(Evidence("x", "141", NOW - timedelta(minutes=50), "post number 141 about vaccines"),
                              Evidence("x", "143", NOW - timedelta(minutes=30), "post number 143 about vaccines")))
    story = Finding("narrative", "narrative:salt-water", "medium", NOW - timedelta(minutes=20),
                    'Emerging narrative: "salt water" (12 posts)', "A group of 12 similar posts from 9 accounts.",
                    metrics={"posts": 12, "accounts": 9, "growth": 4.2, "platforms": {"x": 8, "bluesky": 4},
                             "top_phrase": "salt water"},
                    evidence=(Evidence("bluesky", "140", NOW - timedelta(minutes=60), "post number 140"),))
    def record(w):  # as a detection pass does: alerts, then their incident (the narrative's posts are on vaccines)
        recorded = [w.record(f, timedelta(hours=1), utcnow()) for f in (spike, story)]
        incidents.place(w, recorded, settings.Settings(), utcnow())

    alert_stores.write(db, record)


@pytest.fixture(name="dash")
def dash_fixture(seeded_db, tmp_path, monkeypatch) -> Iterator[tuple[StorageClient, Database]]:
    """The real storage service with labels, claims, runs, snapshots and a users file; env set for the dashboard."""
    st.cache_data.clear()
    st.cache_resource.clear()  # the sign-in limiter and clients of earlier tests' services
    db = seeded_db
    seed_labels(db)
    seed_runs(db)
    seed_alerts(db)
    app = create_app(db, TOKEN, lambda: (NOW, False), sql_row_limit=1000, sql_timeout=5,
                     info={"agency": "Test County", "refresh_seconds": 1, "watches": ["covid-19", "vaccines"],
                           "topics": list(TOPICS), "sql_row_limit": 1000, "sql_timeout_seconds": 5},
                     snapshot_dir=tmp_path / "snapshots", directory=Directory(UserFile(tmp_path / "users.yaml")))
    server = Service(app, "127.0.0.1", free_port())
    server.start()
    client = StorageClient(f"http://127.0.0.1:{server.server.config.port}", TOKEN)
    users = tmp_path / "users.yaml"
    store = UserStore(users)
    for role, password in PASSWORDS.items():
        store.add(role, role, name=f"{role.title()} User", password=password, rounds=4)
    store.add("lead", "lead", name="Lead User", password="lead-pass-1", rounds=4)  # the service checks every actor
    settings = tmp_path / "settings.toml"
    settings.write_text(f'[dashboard]\nusers_file = "{users}"\nsignin_attempts = 3\n'
                        '[retention]\npseudonymise_handles = true\n', encoding="utf-8")
    monkeypatch.setenv(URL_ENV, str(client._http.base_url))
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    monkeypatch.setenv("CIVICRADAR_SETTINGS", str(settings))
    yield client, db
    client.close()
    server.stop()


def page(name: str, role: str = "admin", minutes: float = 60) -> AppTest:
    """A page run on its own with a signed-in user of `role` (app.py's gate is tested separately)."""
    at = AppTest.from_file(str(ROOT / "dashboard" / "pages" / f"{name}.py"), default_timeout=60)
    at.session_state[SESSION_KEY] = Session(role, f"{role.title()} User", role, time.time() + minutes * 60)
    return at


def texts(at: AppTest) -> str:
    """Everything a page wrote, as one string, for loose assertions."""
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "error", "success",
                                  "warning") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def audit(db: Database, action: str) -> list[tuple]:
    return db.reader().execute("SELECT actor, details FROM audit WHERE action = ? ORDER BY logged_at",
                               [action]).fetchall()


def details(row: tuple) -> dict:
    return json.loads(row[1] or "{}")


def frame_with(at: AppTest, column: str):
    """The first table on the page that has `column` (tables come and go with the data)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)
