"""Author pseudonyms: one key (`pseudonym.key`, not the service token) and one function for retention and the
dashboard, so an author keeps one pseudonym across token rotations and between old and new posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
import streamlit as st

import settings as settings_module
from collectors.base import Batch
from core.pseudonyms import KEY_FILE, PREFIX, pseudonym
from dashboard import data
from dashboard.auth import Session
from helpers import make_post
from storage import retention
from storage.client import TOKEN_ENV
from storage.db import Database

NOW = datetime(2026, 11, 20, tzinfo=UTC)
VIEWER = Session("v", "Viewer", "viewer", expires_at=2e9)


@pytest.fixture
def configured(tmp_path, monkeypatch):
    path = tmp_path / "settings.toml"
    path.write_text('[storage]\npath = "state/db.duckdb"\n[retention]\npseudonymise_handles = true\n')
    monkeypatch.setenv("CIVICRADAR_SETTINGS", str(path))
    monkeypatch.setenv(TOKEN_ENV, "first-token")
    st.cache_resource.clear()
    yield settings_module.load(path)
    st.cache_resource.clear()


def shown(frame: pd.DataFrame) -> list[object]:
    return list(data.pseudonymise(frame, VIEWER)["author_handle"])


def test_the_pseudonym_is_keyed_and_stable():
    assert pseudonym(b"k", "x:42") == pseudonym(b"k", "x:42") != pseudonym(b"other", "x:42")
    assert pseudonym(b"k", "x:42").startswith(PREFIX) and len(pseudonym(b"k", "x:42")) == len(PREFIX) + 16
    assert pseudonym(b"k", pseudonym(b"k", "x:42")) == pseudonym(b"k", "x:42")  # never hashed twice


def test_rotating_the_service_token_leaves_pseudonyms_unchanged(configured, monkeypatch):
    frame = pd.DataFrame({"author_id": ["x:42", None], "author_handle": ["jane", "joe"]})
    before = shown(frame)
    monkeypatch.setenv(TOKEN_ENV, "rotated-token")
    assert shown(frame) == before and "jane" not in before and "joe" not in before
    key = (configured.db_path.parent / KEY_FILE).read_text().strip().encode()
    assert before == [pseudonym(key, "x:42"), pseudonym(key, "joe")]  # of the id, else of the handle


def test_the_dashboard_shows_the_pseudonym_retention_stores(configured):
    db = Database(configured.db_path)
    try:
        old = make_post(1, when=NOW - timedelta(days=40), author_id="x:42", author_handle="jane")
        db.write_batch("x", Batch([old], None))
        key = configured.local_secret(KEY_FILE).encode()
        assert retention.pseudonymise_older_than(db, (NOW - timedelta(days=30)).replace(tzinfo=None), key) == 1
        stored = db.reader().execute("SELECT author_id FROM posts WHERE post_id = '1'").fetchall()[0][0]
    finally:
        db.close()
    new = pd.DataFrame({"author_id": ["x:42"], "author_handle": ["jane"]})  # the same author, posting today
    assert stored.startswith(PREFIX) and shown(new) == [stored]


def test_roles_that_see_handles_and_frames_without_handles_are_left_alone(configured):
    frame = pd.DataFrame({"author_id": ["x:42"], "author_handle": ["jane"]})
    comms = Session("c", "Comms", "comms", expires_at=2e9)
    assert list(data.pseudonymise(frame, comms)["author_handle"]) == ["jane"]
    ids = frame.drop(columns=["author_handle"])
    assert data.pseudonymise(ids, VIEWER).equals(ids)
