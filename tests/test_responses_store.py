"""The library's storage: versions, approval of exactly the reviewed version, retiring, the stale flag, the
library file; through the real storage service's named queries and actions."""

import json
import os
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from responses import library
from responses.model import entries_from_rows
from storage import response_store
from storage.actions import ACTIONS
from storage.db import utcnow
from storage.queries import QUERIES

MESSAGES = {"en": {"x": "{agency}: gargling salt water does not kill the virus. {link}", "sms": "Salt water: no cure."},
            "es": {"x": "{agency}: hacer gárgaras con agua salada no mata el virus. {link}"}}


def act(db, name, actor="casey", **params):
    action = ACTIONS[name]
    bound = action.bind(name, params)
    return db.run_action(name, action.fn, actor, bound, action.audit(bound))


def query(db, name, **params):
    params = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in params.items()}  # as JSON sends them
    return db.reader().execute(QUERIES[name].sql, QUERIES[name].bind(name, params)).fetchdf()


def draft(db, **more):
    content = {"title": "Salt-water gargles", "messages": json.dumps(MESSAGES), "claim_ids": ["REG-1"],
               "topics": ["prevention and cures"], "links": ["https://harborcounty.example/rumours"],
               "review_by": str(utcnow().date() + timedelta(days=90)), **more}
    return act(db, "response_save", **content)


def test_a_draft_is_version_1_and_not_in_use(fresh_db):
    rid = draft(fresh_db)["response_id"]
    row = query(fresh_db, "responses_library", today=utcnow()).iloc[0]
    assert (row.response_id, row.status, row.version, row.languages.tolist()) == (rid, "draft", 1, ["en", "es"])
    assert pd.isna(row.approved_version)
    assert query(fresh_db, "responses_live").empty  # drafts are never suggested


def test_approval_uses_exactly_the_reviewed_version_and_edits_keep_it_in_use(fresh_db):
    rid = draft(fresh_db)["response_id"]
    act(fresh_db, "response_approve", actor="lee", response_id=rid, version=1)
    edited = {**MESSAGES, "en": {**MESSAGES["en"], "sms": "Salt water does not cure COVID-19."}}
    assert draft(fresh_db, response_id=rid, base_version=1, messages=json.dumps(edited),
                 note="shorter SMS")["version"] == 2
    live = entries_from_rows(query(fresh_db, "responses_live").to_dict("records"))
    assert [(e.version, e.messages["en"]["sms"]) for e in live] == [(1, "Salt water: no cure.")]  # v1 still in use
    with pytest.raises(ValueError, match="newer version"):
        act(fresh_db, "response_approve", actor="lee", response_id=rid, version=1)
    act(fresh_db, "response_approve", actor="lee", response_id=rid, version=2)
    live = entries_from_rows(query(fresh_db, "responses_live").to_dict("records"))
    assert live[0].version == 2 and live[0].messages["en"]["sms"].startswith("Salt water does not")
    with pytest.raises(ValueError, match="already approved"):
        act(fresh_db, "response_approve", actor="lee", response_id=rid, version=2)


def test_version_history_keeps_every_text_and_who_did_what(fresh_db):
    rid = draft(fresh_db)["response_id"]
    act(fresh_db, "response_approve", actor="lee", response_id=rid, version=1, note="checked with the MO")
    draft(fresh_db, response_id=rid, base_version=1, title="Gargling does not kill the virus", note="new title")
    act(fresh_db, "response_retire", actor="casey", response_id=rid, note="the rumour is over")
    versions = query(fresh_db, "response_versions", response_id=rid)
    assert versions.title.tolist() == ["Gargling does not kill the virus", "Salt-water gargles"]
    events = query(fresh_db, "response_events", response_id=rid)
    assert sorted(zip(events.event, events.actor, events.version, strict=True)) == sorted(
        [("created", "casey", 1), ("approved", "lee", 1), ("edited", "casey", 2), ("retired", "casey", 2)])
    old = query(fresh_db, "response_messages", response_id=rid, version=1)
    assert set(old.lang) == {"en", "es"} and set(old.title) == {"Salt-water gargles"}
    audit = fresh_db.reader().execute("SELECT actor, action FROM audit WHERE action LIKE 'response_%' "
                                      "ORDER BY logged_at").fetchall()
    assert [a for _, a in audit] == ["response_save", "response_approve", "response_save", "response_retire"]


def test_concurrent_edits_are_refused_not_overwritten(fresh_db):
    rid = draft(fresh_db)["response_id"]
    draft(fresh_db, response_id=rid, base_version=1, title="First edit")
    with pytest.raises(ValueError, match="has changed since you opened it"):
        draft(fresh_db, response_id=rid, base_version=1, title="Second edit from the same version")


def test_retired_entries_are_not_suggested_and_need_a_reason(fresh_db):
    rid = draft(fresh_db)["response_id"]
    act(fresh_db, "response_approve", actor="lee", response_id=rid, version=1)
    with pytest.raises(ValueError, match="needs a reason"):
        act(fresh_db, "response_retire", response_id=rid, note=" ")
    act(fresh_db, "response_retire", response_id=rid, note="outdated")
    assert query(fresh_db, "responses_live").empty
    with pytest.raises(ValueError, match="is retired"):
        act(fresh_db, "response_approve", actor="lee", response_id=rid, version=1)


def test_stale_after_the_review_by_date(fresh_db):
    today = utcnow().date()
    fresh = draft(fresh_db, review_by=str(today))["response_id"]
    act(fresh_db, "response_approve", actor="lee", response_id=fresh, version=1)
    rows = query(fresh_db, "responses_library", today=utcnow()).set_index("response_id")
    assert not rows.loc[fresh, "stale"]  # due today: not yet stale
    later = query(fresh_db, "responses_library", today=utcnow() + timedelta(days=1)).set_index("response_id")
    assert later.loc[fresh, "stale"]
    old = draft(fresh_db, title="Old", review_by=str(today - timedelta(days=1)))["response_id"]
    with pytest.raises(ValueError, match=r"review-by date .* has passed"):
        act(fresh_db, "response_approve", actor="lee", response_id=old, version=1)
    entry = entries_from_rows(query(fresh_db, "response_messages", response_id=old).to_dict("records"))[0]
    assert entry.stale(today) and not entry.stale(today - timedelta(days=1))


@pytest.mark.parametrize("change, message", [
    ({"title": " "}, "needs a title"),
    ({"messages": json.dumps({"en": {"fax": "hi"}})}, "unknown channel 'fax'"),
    ({"messages": json.dumps({"english": {"x": "hi"}})}, "not a language code"),
    ({"messages": json.dumps({"en": {"x": "  "}})}, "at least one message"),
    ({"links": ["harborcounty.example/x"]}, "must start with http"),
    ({"review_by": "next week"}, "must be a date"),
])
def test_bad_content_is_refused_with_what_to_fix(fresh_db, change, message):
    with pytest.raises(ValueError, match=message):
        draft(fresh_db, **change)


def test_the_library_file_adds_new_entries_and_never_overwrites_edits(fresh_db, tmp_path):
    path = tmp_path / "library.yaml"
    path.write_text("entries:\n"
                    "  - {id: R-1, title: One, status: approved, approved_by: J. Rivera, review_days: 30,\n"
                    "     claims: [REG-1], messages: {en: {x: 'one'}}}\n"
                    "  - {id: R-2, title: Two, status: draft, messages: {en: {sms: 'two'}}}\n", encoding="utf-8")
    assert library.load(fresh_db, path, date(2026, 1, 1)) == {"added": ["R-1", "R-2"], "kept": []}
    draft(fresh_db, response_id="R-1", base_version=1, title="One, edited")
    assert library.load(fresh_db, path) == {"added": [], "kept": ["R-1", "R-2"]}
    rows = query(fresh_db, "responses_library", today=utcnow()).set_index("response_id")
    assert rows.loc["R-1", "title"] == "One, edited" and rows.loc["R-1", "approved_by"] == "J. Rivera"
    assert rows.loc["R-1", "review_by"].date() == date(2026, 1, 31) and rows.loc["R-2", "status"] == "draft"
    imported = query(fresh_db, "response_events", response_id="R-1").query("event == 'imported'")
    assert imported.actor.tolist() == ["library-file"] and "approved by J. Rivera" in imported.note.iloc[0]


@pytest.mark.parametrize("body, message", [
    ("entries: {}", "expected a list under 'entries:'"),
    ("entries:\n  - {id: A, title: T, colour: red, messages: {en: {x: hi}}}", "entry 1: unknown key"),
    ("entries:\n  - {id: A, title: T, messages: {en: {x: hi}}}\n  - {id: A, title: U, messages: {en: {x: hi}}}",
     "an id is used twice"),
    ("entries:\n  - {id: 'bad id', title: T, messages: {en: {x: hi}}}", "needs an id"),
    ("entries: [", "cannot be read as YAML"),
])
def test_a_bad_library_file_names_the_file_and_the_problem(fresh_db, tmp_path, body, message):
    path = tmp_path / "library.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(library.LibraryError, match=message):
        library.load(fresh_db, path)
    assert fresh_db.reader().execute("SELECT count(*) FROM responses").fetchone() == (0,)


def test_the_demo_library_loads_with_approved_answers_to_both_events(fresh_db):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "demo" / "responses.yaml"
    added = library.load(fresh_db, path)["added"]
    live = entries_from_rows(query(fresh_db, "responses_live").to_dict("records"))
    assert len(added) >= 4 and {"HCPH-RR-014"} <= {c for e in live for c in e.claim_ids}
    assert any("testing access" in e.topics for e in live)
    assert response_store.ID.match(added[0])


def test_the_engine_imports_the_library_file_at_start_and_when_it_changes(fresh_db, tmp_path):
    import jobs
    import settings

    path = tmp_path / "library.yaml"
    path.write_text("entries:\n  - {id: R-1, title: One, status: approved, messages: {en: {x: one}}}\n")
    s = settings.parse({"classify": {"enabled": False}, "responses": {"library": "library.yaml"}},
                       tmp_path / "settings.toml")
    run = {job_id: fn for job_id, fn, _ in jobs.Engine(s, db=fresh_db).jobs()}["responses:library"]
    run()
    run()  # unchanged: nothing to do, no run recorded
    path.write_text(path.read_text() + "  - {id: R-2, title: Two, status: draft, messages: {en: {x: two}}}\n")


    os.utime(path, (1, 1))  # a different modification time, whatever the clock's resolution
    run()
    runs = fresh_db.reader().execute("SELECT source, status, items FROM runs ORDER BY run_id").fetchall()
    assert runs == [("responses_library", "ok", 1), ("responses_library", "ok", 1)]
    path.write_text("entries: [")
    os.utime(path, (2, 2))
    run()  # a broken file is a recorded error, not a dead job
    last = fresh_db.reader().execute("SELECT status, error FROM runs ORDER BY run_id DESC LIMIT 1").fetchone()
    assert last[0] == "error" and "cannot be read as YAML" in last[1]
    assert [j for j, _, _ in jobs.Engine(settings.parse({"classify": {"enabled": False}}, tmp_path / "s.toml"),
                                         db=fresh_db).jobs() if j == "responses:library"] == []
