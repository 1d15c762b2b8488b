"""Posting from the incident's suggested response (AppTest of dashboard/posting_view.py, the real storage service,
fake platforms on 127.0.0.1 through the real clients): nothing while off, leads and admins only, an explicit
confirmation, the post recorded as a response of the incident with the link the platform returned, every post and
every refusal in the audit log, and X's monthly cap counted from those posts."""

from __future__ import annotations

import json
import time
from datetime import timedelta

from effect_seed import AT, seed_incident, seed_posts, serve_fixture  # noqa: F401
from posting_fakes import AGENCY_DID, fake_bluesky, fake_x, posting_toml, secrets
from streamlit.testing.v1 import AppTest

from dashboard.auth import Session
from dashboard.data import SESSION_KEY

TEXT = "Salt water does not cure the virus: https://harborhealth.example/facts"


def panel(channel: str, text: str, ready: bool):
    from dashboard import posting_view
    from dashboard.data import show_flash

    show_flash()  # as the Incidents page does
    posting_view.offer(1, "HCPH-RESP-001", 2, "en", channel, text, ready)


def run_as(role: str, channel: str = "bluesky", text: str = TEXT, ready: bool = True) -> AppTest:
    at = AppTest.from_function(panel, kwargs={"channel": channel, "text": text, "ready": ready}, default_timeout=60)
    at.session_state[SESSION_KEY] = Session(role, f"{role.title()} User", role, time.time() + 3600)
    return at.run()


def start(serve, httpserver, monkeypatch, cap: float = 10.0):
    secrets(monkeypatch)
    db = serve(AT + timedelta(hours=5), posting_toml(httpserver.url_for("/").rstrip("/"), cap))
    seed_posts(db)
    seed_incident(db)
    return db


def rows(db, sql):
    return db.reader().execute(sql).fetchall()


def test_a_lead_confirms_posts_and_it_is_recorded_and_audited(serve, httpserver, monkeypatch):
    sent: list[dict] = []
    fake_bluesky(httpserver, sent)
    db = start(serve, httpserver, monkeypatch)
    at = run_as("lead")
    go = at.button(key="post:1:HCPH-RESP-001:en:bluesky:go")
    assert go.disabled and not sent  # nothing without the confirmation
    at.checkbox(key="post:1:HCPH-RESP-001:en:bluesky:sure").check().run()
    at.button(key="post:1:HCPH-RESP-001:en:bluesky:go").click().run()
    assert not at.exception
    url = f"https://bsky.app/profile/{AGENCY_DID}/post/3kposted1"
    assert at.success[0].value == f"Posted on Bluesky: {url} (recorded as a response of incident #1)."
    assert [b["record"]["text"] for b in sent] == [TEXT]
    assert rows(db, "SELECT response_id, channel, url, actor FROM incident_responses") == [
        ("HCPH-RESP-001", "bluesky", url, "lead")]
    (actor, details), = rows(db, "SELECT actor, details FROM audit WHERE action = 'incident_post_response'")
    audited = json.loads(details)
    assert actor == "lead" and audited["text"] == TEXT and audited["url"] == url and audited["version"] == 2
    assert audited["post_id"] == f"at://{AGENCY_DID}/app.bsky.feed.post/3kposted1"
    assert rows(db, "SELECT status FROM incidents") == [("acknowledged",)]  # a response acknowledges it


def test_comms_staff_copy_and_record_instead(serve, httpserver, monkeypatch):
    fake_bluesky(httpserver, [])
    start(serve, httpserver, monkeypatch)
    at = run_as("comms")
    assert not at.exception and not at.button and not at.checkbox
    assert "is for leads and admins" in at.caption[0].value


def test_off_by_default_shows_nothing(serve, monkeypatch):
    serve(AT)
    at = run_as("admin")
    assert not at.exception and not at.button and not at.caption and not at.markdown


def test_a_refused_post_is_audited_and_says_why(serve, httpserver, monkeypatch):
    fake_bluesky(httpserver, [])
    db = start(serve, httpserver, monkeypatch)
    monkeypatch.setenv("BLUESKY_POSTING_APP_PASSWORD", "revoked-password")
    at = run_as("admin")
    at.checkbox(key="post:1:HCPH-RESP-001:en:bluesky:sure").check().run()
    at.button(key="post:1:HCPH-RESP-001:en:bluesky:go").click().run()
    assert at.error[0].value.startswith("Not posted: Bluesky (") and "refused the login" in at.error[0].value
    assert rows(db, "SELECT count(*) FROM incident_responses") == [(0,)]
    (details,), = rows(db, "SELECT details FROM audit WHERE action = 'response_post_failed'")
    assert "refused the login" in json.loads(details)["error"]


def test_text_that_fails_its_checks_cannot_be_posted(serve, httpserver, monkeypatch):
    start(serve, httpserver, monkeypatch)
    at = run_as("lead", ready=False)
    assert not at.button and "cannot be posted from here" in at.warning[0].value


def test_x_stops_at_the_monthly_cap_counted_from_the_audit_log(serve, httpserver, monkeypatch):
    sent: list[dict] = []
    fake_x(httpserver, sent)
    db = start(serve, httpserver, monkeypatch, cap=1.0)  # $0.50 a post: two fit
    for n in range(3):
        at = run_as("lead", channel="x", text=f"{TEXT} ({n})")
        at.checkbox(key="post:1:HCPH-RESP-001:en:x:sure").check().run()
        at.button(key="post:1:HCPH-RESP-001:en:x:go").click().run()
    assert len(sent) == 2
    assert "X posting cap reached: 2 posts from CivicRadar" in at.error[0].value
    assert [r[0] for r in rows(db, "SELECT url FROM incident_responses ORDER BY url")] == [
        "https://x.com/HarborHealth/status/1865000000000000001", "https://x.com/HarborHealth/status/1865000000000000002"]
