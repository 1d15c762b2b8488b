"""Seeded data for "did the response work?": a week of a claim repeated twice an hour, a burst of 37 an hour for
three hours, a correction on Bluesky at a known time, then a known fall (20, 10, 6, then 3 an hour)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import streamlit as st
from dashboard_seed import PASSWORDS

from collectors.base import Batch, Post
from conftest import TOKEN
from core.users import UserFile
from dashboard.auth import UserStore
from helpers import free_port
from storage import incident_actions, labels
from storage.actions import ACTIONS
from storage.callers import Directory
from storage.client import TOKEN_ENV, URL_ENV
from storage.db import Database, utcnow
from storage.service import Service, create_app

# the response, on the wall clock and (outside the demo) the engine clock: two days ago, on the hour
AT = (utcnow() - timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
BASELINE = 2  # posts repeating the claim per hour, every hour of the week before
PROFILE = {-3: 37, -2: 37, -1: 37, 0: 20, 1: 10, 2: 6, 3: 3, 4: 3, 5: 3}  # hours from the response
AGENCY_URL = "https://bsky.app/profile/harborhealth.bsky.social/post/3kcorrection"
CLAIM_TEXT = "Gargling with salt water and vinegar cures the virus, share this"


def per_hour(hour: int) -> int:
    return PROFILE.get(hour, BASELINE)


def claim_posts(start_hour: int = -(7 * 24 + 6), end_hour: int = 6) -> list[Post]:
    made = []
    for hour in range(start_hour, end_hour):
        n = per_hour(hour)
        for i in range(n):
            when = AT + timedelta(hours=hour, seconds=i * 3600 // n + 1)
            made.append(Post("x", f"c{hour}_{i}", f"{CLAIM_TEXT} #{hour}.{i}", when.replace(tzinfo=UTC),
                             author_id=f"u{i}", watches=("covid-19",)))
        made.append(Post("reddit", f"other{hour}", f"Clinic opening hours on Saturday {hour}",  # not the claim
                         (AT + timedelta(hours=hour, minutes=30)).replace(tzinfo=UTC), watches=("covid-19",)))
    return made


def agency_post() -> Post:
    """The correction as the bluesky_account source collects it: by_agency, quoting the claim, with engagement."""
    return Post("bluesky", "3kcorrection", f"No: {CLAIM_TEXT} is false. Salt water does not cure the virus.",
                (AT + timedelta(minutes=2)).replace(tzinfo=UTC), url=AGENCY_URL, author_handle="harborhealth",
                watches=("covid-19",), like_count=40, repost_count=12, reply_count=5, direction="by_agency")


def label_rows(posts: list[Post]) -> list[dict[str, object]]:
    """Every post that says the claim matches REG-1 (the agency's correction too: it quotes it)."""
    return [{"platform": p.platform, "post_id": p.post_id, "created_at": p.created_at.replace(tzinfo=None),
             "lang": "en", "sentiment": "negative", "sentiment_score": 0.8,
             "topics": [{"name": "testing access" if "Clinic" in p.text else "misinformation", "score": 0.9}],
             "misinfo_score": 0.9 if "Clinic" not in p.text else 0.1,
             "matched_claim_id": None if "Clinic" in p.text else "REG-1",
             "matched_claim_score": None if "Clinic" in p.text else 0.92, "misinfo_reason": None,
             "sentiment_model": "s@1", "topics_model": "t@1", "misinfo_model": "m@1"} for p in posts]


def seed_posts(db: Database) -> None:
    posts = [*claim_posts(), agency_post()]
    db.write_batch("test", Batch(posts, None))
    labels.write(db, label_rows(posts), [])


def seed_incident(db: Database, claim_id: str | None = "REG-1", watch: str | None = None) -> int:
    """A claim burst on REG-1 (or a volume spike on `watch`), placed in an incident as a detection pass does."""
    from incident_seed import finding, place

    import settings

    shown = claim_posts(-3, -1)[:5]
    fields = {"claim_id": claim_id} if claim_id else {"watch": watch}
    kind = "claim_burst" if claim_id else "volume_spike"
    place(db, settings.Settings(), finding(kind, claim_id or str(watch), shown, at=AT - timedelta(minutes=30),
                                           severity="high", posts=111, **fields), now=utcnow())
    return int(db.reader().execute("SELECT max(incident_id) FROM incidents").fetchall()[0][0])


def record_response(db: Database, incident_id: int, url: str | None = AGENCY_URL + "/", at: datetime = AT,
                    channel: str = "bluesky") -> None:
    params = ACTIONS["incident_record_response"].bind("incident_record_response", {
        "incident_id": incident_id, "channel": channel, "url": url, "posted_at": at.isoformat(),
        "response_id": "gargling"})
    db.run_action("incident_record_response", incident_actions.record_response, "comms", params)


def seed(db: Database) -> int:
    """Posts, labels, the incident and its response; returns the incident id."""
    seed_posts(db)
    incident_id = seed_incident(db)
    record_response(db, incident_id)
    return incident_id


@pytest.fixture(name="serve")
def serve_fixture(fresh_db, tmp_path, monkeypatch):
    """Start the real service on `fresh_db` with the engine clock at `engine_now`; env set for the dashboard."""
    servers = []

    def start(engine_now, extra_settings: str = ""):
        st.cache_data.clear()
        st.cache_resource.clear()
        app = create_app(fresh_db, TOKEN, lambda: (engine_now, False),
                         info={"agency": "Test County", "refresh_seconds": 1, "watches": ["covid-19"]},
                         directory=Directory(UserFile(tmp_path / "users.yaml")))
        server = Service(app, "127.0.0.1", free_port())
        server.start()
        servers.append(server)
        store = UserStore(tmp_path / "users.yaml")
        for role, password in {**PASSWORDS, "lead": "lead-pass-1"}.items():
            store.add(role, role, name=f"{role.title()} User", password=password, rounds=4)
        (tmp_path / "settings.toml").write_text(f'[dashboard]\nusers_file = "{tmp_path / "users.yaml"}"\n'
                                                + extra_settings)
        monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{server.server.config.port}")
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        monkeypatch.setenv("CIVICRADAR_SETTINGS", str(tmp_path / "settings.toml"))
        return fresh_db

    yield start
    for server in servers:
        server.stop()
