"""Did the response work, on the Incidents page (AppTest, the real storage service): the sentence, the figures and
the chart for the seeded correction; a page before any response says what to do."""

from __future__ import annotations

from datetime import timedelta

import pytest
import streamlit as st
from dashboard_seed import PASSWORDS, page, texts
from effect_seed import AT, seed, seed_incident, seed_posts

from conftest import TOKEN
from dashboard.auth import UserStore
from helpers import free_port
from storage.client import TOKEN_ENV, URL_ENV
from storage.service import Service, create_app


@pytest.fixture(name="serve")
def serve_fixture(fresh_db, tmp_path, monkeypatch):
    """Start the real service on `fresh_db` with the engine clock at `engine_now`; env set for the dashboard."""
    servers = []

    def start(engine_now):
        st.cache_data.clear()
        st.cache_resource.clear()
        app = create_app(fresh_db, TOKEN, lambda: (engine_now, False),
                         info={"agency": "Test County", "refresh_seconds": 1, "watches": ["covid-19"]})
        server = Service(app, "127.0.0.1", free_port())
        server.start()
        servers.append(server)
        store = UserStore(tmp_path / "users.yaml")
        for role, password in PASSWORDS.items():
            store.add(role, role, name=f"{role.title()} User", password=password, rounds=4)
        (tmp_path / "settings.toml").write_text(f'[dashboard]\nusers_file = "{tmp_path / "users.yaml"}"\n')
        monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{server.server.config.port}")
        monkeypatch.setenv(TOKEN_ENV, TOKEN)
        monkeypatch.setenv("CIVICRADAR_SETTINGS", str(tmp_path / "settings.toml"))
        return fresh_db

    yield start
    for server in servers:
        server.stop()


def test_the_incident_page_says_whether_the_correction_worked(serve):
    incident_id = seed(serve(AT + timedelta(hours=5)))
    at = page("incidents", "viewer")
    at.query_params["incident"] = str(incident_id)
    at.run()
    assert not at.exception
    shown = texts(at)
    assert ("Posts repeating the claim fell from 37/h to 6/h within 3 h of the correction (usual for that hour: "
            "2/h); the correction on Bluesky has 40 likes, 12 reposts and 5 replies.") in shown
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Hour before"] == "37/h" and metrics["Hour 3 after"] == "6/h"
    assert metrics["Excess gone"] == "89%" and metrics["Its own post"] == "57 interactions"
    assert len(at.get("vega_lite_chart")) == 2  # the signals timeline and the effect


def test_before_any_response_the_page_says_what_to_do(serve):
    db = serve(AT + timedelta(hours=5))
    seed_posts(db)
    seed_incident(db)
    at = page("incidents", "viewer").run()
    assert not at.exception
    assert "Record a response to see how the incident's posts changed after it." in texts(at)

