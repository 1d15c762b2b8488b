"""The Responses page (AppTest, real storage service): the library, drafting with live limit checks, approval by
leads and admins only (refused server-side for every other role), retiring, history; and the suggestions panel
for an incident, with its "record as posted"."""

import json
import time
from datetime import timedelta
from pathlib import Path

import pytest
from dashboard_seed import NOW, audit, dash_fixture, details, page, texts  # noqa: F401
from incident_seed import TEXTS, finding, make_settings, place, posts
from streamlit.testing.v1 import AppTest

from dashboard.auth import CAN, Session
from dashboard.data import SESSION_KEY
from responses import library
from storage.actions import ACTIONS

DEMO = Path(__file__).resolve().parents[1] / "demo" / "responses.yaml"
APPROVERS = sorted(role for role, can in CAN.items() if "approve_responses" in can)
NOT_APPROVERS = sorted(role for role in CAN if role not in APPROVERS)


def status(db, rid):
    return db.reader().execute("SELECT status, version, approved_version FROM responses WHERE response_id = ?",
                               [rid]).fetchone()


def test_approving_is_a_lead_and_admin_capability_and_the_roles_agree():
    assert APPROVERS == ["admin", "lead"] and ACTIONS["response_approve"].roles == set(APPROVERS)
    assert ACTIONS["response_save"].roles == {r for r, can in CAN.items() if "draft_responses" in can}
    # a lead may do whatever comms staff may
    assert all("lead" in a.roles for a in ACTIONS.values() if "comms" in a.roles)


def test_the_library_page_lists_the_demo_library_with_its_stale_entry(dash):
    _, db = dash
    library.load(db, DEMO)
    at = page("response_library", "viewer").run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "response_id" in d.value.columns).set_index("response_id")
    assert table.loc["HCPH-RESP-004", "stale"] == "stale" and table.loc["HCPH-RESP-001", "stale"] == ""
    assert table.loc["HCPH-RESP-006", "status"] == "draft"
    assert "can read the library" in texts(at)  # a viewer reads, never edits
    assert not [b for b in at.button if b.label.startswith(("Save", "Approve", "Create"))]


def _attempt_approval(rid: str) -> None:
    from dashboard.data import act

    act("response_approve", response_id=rid, version=1)


@pytest.mark.parametrize("role", NOT_APPROVERS)
def test_approval_is_refused_server_side_for_every_role_that_may_not_approve(dash, role):
    _, db = dash
    library.load(db, DEMO)
    before = db.reader().execute("SELECT count(*) FROM audit WHERE action = 'response_approve'").fetchone()
    at = AppTest.from_function(_attempt_approval, args=("HCPH-RESP-006",), default_timeout=30)
    at.session_state[SESSION_KEY] = Session(role, role, role, time.time() + 600)
    at.run()
    assert not at.exception and f"Your role ({role}) may not response approve" in at.error[0].value
    assert status(db, "HCPH-RESP-006") == ("draft", 1, None)
    assert db.reader().execute("SELECT count(*) FROM audit WHERE action = 'response_approve'").fetchone() == before


def _fill_new(at: AppTest, x: str) -> AppTest:
    at.selectbox(key="rsp-open").set_value("(new response)").run()
    at.text_input(key="rsp-title:new").input("Test site closed early").run()
    at.text_area(key="rsp:new:en:x").input(x).run()
    return at


def test_comms_drafts_with_live_checks_and_a_lead_approves(dash):
    _, db = dash
    at = _fill_new(page("response_library", "comms").run(), "{agency}: the site closed early today. " + "x" * 260)
    assert any("over" in c.value and "X:" in c.value for c in at.caption)  # the live check, with the agency filled
    at.text_area(key="rsp:new:en:x").input("{agency}: the {place} site closed early today; it reopens at 8. {link}")
    at.text_area(key="rsp:new:en:sms").input("Site closed early today, reopens 8am. Ça va? 😷").run()
    assert any("SMS: 1 segment (UCS-2" in c.value for c in at.caption)  # the emoji makes it UCS-2
    at.text_area(key="rsp-links:new").input("https://harborcounty.example/testing").run()
    at.button(key="rsp-save:new").click().run()
    assert not at.exception and "as a draft" in texts(at)
    (rid,) = db.reader().execute("SELECT response_id FROM responses").fetchone()
    assert status(db, rid) == ("draft", 1, None) and audit(db, "response_save")[0][0] == "comms"
    assert not [b for b in page("response_library", "comms").run().button if b.label.startswith("Approve")]

    lead = page("response_library", "lead").run()
    lead.selectbox(key="rsp-open").set_value(rid).run()
    lead.button(key="rsp-approve:1").click().run()
    assert not lead.exception and "Approved" in texts(lead)
    assert status(db, rid) == ("approved", 1, 1)
    assert [(actor, details(row)["version"]) for row in audit(db, "response_approve") for actor in [row[0]]] == \
        [("lead", 1)]


def draft(db, title, messages, actor="comms"):
    action = ACTIONS["response_save"]
    params = action.bind("response_save", {"title": title, "messages": json.dumps(messages),
                                           "links": ["https://harborcounty.example/t"]})
    return db.run_action("response_save", action.fn, actor, params)["response_id"]


def test_approval_is_blocked_while_a_message_is_over_its_limit(dash):
    _, db = dash
    rid = draft(db, "Too long", {"en": {"x": "y" * 300, "sms": "{agncy} says hi"}})
    at = page("response_library", "lead").run()
    at.selectbox(key="rsp-open").set_value(rid).run()
    assert not at.exception and at.button(key="rsp-approve:1").disabled
    warnings = " ".join(w.value for w in at.warning)
    assert "X: 300 / 280 weighted characters, 20 over" in warnings and "unknown placeholder {agncy}" in warnings


def test_edits_keep_the_approved_version_in_use_and_history_shows_both(dash):
    _, db = dash
    library.load(db, DEMO)
    at = page("response_library", "comms").run()
    at.selectbox(key="rsp-open").set_value("HCPH-RESP-003").run()
    at.text_input(key="rsp-title:HCPH-RESP-003:1").input("Testing at county sites is free, always").run()
    at.text_input(key="rsp-note:HCPH-RESP-003:1").input("clearer title").run()
    at.button(key="rsp-save:HCPH-RESP-003:1").click().run()
    assert not at.exception and status(db, "HCPH-RESP-003") == ("draft", 2, 1)  # version 1 stays in use
    at = page("response_library", "comms").run()
    at.selectbox(key="rsp-open").set_value("HCPH-RESP-003").run()
    versions = next(d.value for d in at.dataframe if "in_use" in d.value.columns)
    assert versions[["version", "in_use"]].values.tolist() == [[2, False], [1, True]]
    assert "version 1 in use, approved by J. Rivera (communications lead)" in texts(at)
    events = next(d.value for d in at.dataframe if "event" in d.value.columns)
    assert set(events["event"]) == {"imported", "edited"}


def test_comms_retire_a_response_with_a_reason(dash):
    _, db = dash
    library.load(db, DEMO)
    at = page("response_library", "comms").run()
    at.selectbox(key="rsp-open").set_value("HCPH-RESP-005").run()
    at.text_input(key="rsp-retire-why:HCPH-RESP-005").input("the swab rumour has died down").run()
    at.button(key="rsp-retire:HCPH-RESP-005").click().run()
    assert not at.exception and status(db, "HCPH-RESP-005") == ("retired", 1, None)
    assert details(audit(db, "response_retire")[0])["note"] == "the swab rumour has died down"


def _panel(incident_id: int) -> None:
    from dashboard.response_panel import show_suggestions

    show_suggestions(incident_id)


def rumour_incident(db, tmp_path) -> int:
    shown = posts(db, "rumour", 12, TEXTS["salt"], "covid-19", NOW - timedelta(minutes=5))
    place(db, make_settings(tmp_path), finding("claim_burst", "HCPH-RR-014", shown, NOW - timedelta(minutes=5),
                                               severity="high", claim_id="HCPH-RR-014"), now=NOW)
    return int(db.reader().execute("SELECT max(incident_id) FROM incidents").fetchone()[0])


def test_the_panel_suggests_the_approved_answer_filled_in_and_records_it_as_posted(dash, tmp_path):
    _, db = dash
    library.load(db, DEMO)
    incident = rumour_incident(db, tmp_path)
    at = AppTest.from_function(_panel, args=(incident,), default_timeout=60)
    at.session_state[SESSION_KEY] = Session("comms", "Comms User", "comms", time.time() + 600)
    at.run()
    assert not at.exception
    suggested = [e.label for e in at.expander if e.label.startswith("1. ")]
    assert suggested == ["1. Gargling with salt water or vinegar does not kill the coronavirus"]
    assert "answers claim HCPH-RR-014" in texts(at)
    sms = [c.value for c in at.code if c.value.startswith("Harbor County Public Health: Gargling")]
    assert sms and "https://harborcounty.example/rumours/gargling" in sms[0] and "{" not in sms[0]
    form_inputs = [w for w in at.text_input if w.label == "Link to the post (if it has one)"]
    form_inputs[0].input("https://x.example/HarborCountyPH/status/1")  # a form: sent with its submit button
    next(b for b in at.button if b.label == "Record as posted").click().run()
    assert not at.exception
    rows = db.reader().execute("SELECT response_id, channel, url, actor FROM incident_responses").fetchall()
    assert rows == [("HCPH-RESP-001", "x", "https://x.example/HarborCountyPH/status/1", "comms")]


def test_the_panel_says_so_when_nothing_fits(dash, tmp_path):
    _, db = dash
    incident = rumour_incident(db, tmp_path)  # an empty library
    at = AppTest.from_function(_panel, args=(incident,), default_timeout=60)
    at.session_state[SESSION_KEY] = Session("viewer", "Viewer", "viewer", time.time() + 600)
    at.run()
    assert not at.exception and "No approved response fits this incident yet" in texts(at)


def test_the_page_explains_an_unreachable_engine(dash, monkeypatch):
    from helpers import free_port
    from storage.client import TOKEN_ENV, URL_ENV

    monkeypatch.setenv(URL_ENV, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv(TOKEN_ENV, "x")
    at = page("response_library", "comms").run()
    assert not at.exception and "not reachable" in at.warning[0].value


def test_the_incidents_page_shows_the_suggestions_for_the_opened_incident(dash, tmp_path):
    _, db = dash
    library.load(db, DEMO)
    rumour_incident(db, tmp_path)
    at = page("incidents", "comms").run()
    assert not at.exception and "Suggested responses" in texts(at)
    suggested = [e.label for e in at.expander if e.label.startswith("1. ")]
    assert suggested == ["1. Gargling with salt water or vinegar does not kill the coronavirus"]
