"""The inbox's workflow and queries, through the named actions and queries the storage service runs: the queue
(oldest unanswered first, SLA per channel), assigning, answering, closing, reopening, linking an incident, a
resident's contacts across channels, the conversation, the figures, and retention / forgetting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.base import Batch, Post
from storage import retention
from storage.actions import ACTIONS
from storage.db import Database
from storage.queries import QUERIES

T0 = datetime(2026, 12, 1, 8)
NOW = T0 + timedelta(hours=6)
SLA = {"sla_channels": ["sms", "x"], "sla_minutes": ["60", "240"], "default_sla": 1440.0}


def post(platform: str, post_id: str, minutes: float, author: str | None = None, direction: str = "to_agency",
         **extra) -> Post:
    created = (T0 + timedelta(minutes=minutes)).replace(tzinfo=UTC)
    return Post(platform, post_id, extra.pop("text", f"message {post_id}"), created, author_id=author,
                direction=direction, **extra)


@pytest.fixture
def db():
    database = Database(":memory:")
    database.write_batch("intake", Batch([
        post("sms", "s1", 0, "phone:aaa"), post("email", "e1", 30, "email:bbb"), post("webform", "w1", 60, "email:bbb"),
        post("x", "x1", 90, "u1"), post("x", "x0", -600, "u2"), post("x", "pub", 10, "u3", direction="public")], None))
    yield database
    database.close()


def query(db: Database, name: str, **params) -> list[dict]:
    bound = QUERIES[name].bind(name, params)
    return db.reader().sql(QUERIES[name].sql, params=bound).to_arrow_table().to_pylist()


def act(db: Database, name: str, actor: str = "casey", **params) -> dict:
    action = ACTIONS[name]
    bound = action.bind(name, params)
    return db.run_action(name, action.fn, actor, bound, action.audit(bound))


def test_queue_lists_open_items_oldest_first_with_waiting_time_sla_and_contacts(db):
    rows = query(db, "inbox_queue", now=NOW.isoformat(), **SLA)
    assert [r["post_id"] for r in rows] == ["x0", "s1", "e1", "w1", "x1"]  # the public post is no inbox item
    by_id = {r["post_id"]: r for r in rows}
    assert by_id["s1"]["waiting_minutes"] == 360 and by_id["s1"]["sla_minutes"] == 60 and by_id["s1"]["overdue"]
    assert by_id["x1"]["waiting_minutes"] == 270 and by_id["x1"]["overdue"]  # 270 min against x's 240
    assert not by_id["e1"]["overdue"] and by_id["e1"]["sla_minutes"] == 1440  # the default SLA
    assert by_id["e1"]["contacts"] == 2 and by_id["x1"]["contacts"] == 1  # e-mail and web form, same hashed address
    assert [r["post_id"] for r in query(db, "inbox_queue", now=NOW.isoformat(), channel="x")] == ["x0", "x1"]


def test_assign_answer_close_reopen_and_the_figures(db):
    assigned = act(db, "inbox_assign", platform="sms", post_id="s1", assignee="dana",
                   at=(T0 + timedelta(minutes=30)).isoformat())
    assert assigned["status"] == "in_progress"
    answered = act(db, "inbox_answer", platform="sms", post_id="s1", text="The site is open 9-5.",
                   at=(T0 + timedelta(minutes=45)).isoformat())
    assert answered["status"] == "answered"
    act(db, "inbox_close", platform="email", post_id="e1", status="no_reply_needed", note="a thank-you")
    act(db, "inbox_answer", actor="robin", platform="x", post_id="x1", text="Yes",
        at=(T0 + timedelta(hours=3)).isoformat())
    [item] = query(db, "inbox_item", platform="sms", post_id="s1")
    assert (item["status"], item["assignee"], item["answered_by"], item["answer_via"]) == (
        "answered", "dana", "casey", "elsewhere")
    rows = {r["post_id"]: r for r in query(db, "inbox_queue", now=NOW.isoformat(), status="all", **SLA)}
    assert rows["s1"]["waiting_minutes"] == 45 and not rows["s1"]["overdue"]
    stats = {r["channel"]: r for r in query(db, "inbox_stats", since=T0.isoformat(), until=NOW.isoformat())}
    assert stats["sms"]["share_answered"] == 1.0 and stats["sms"]["median_minutes_to_answer"] == 45
    assert stats["email"]["share_answered"] is None and stats["email"]["no_reply_needed"] == 1
    assert stats["x"]["items"] == 1 and stats["x"]["median_minutes_to_answer"] == 90  # x0 is before `since`
    assert act(db, "inbox_reopen", platform="sms", post_id="s1", note="they wrote back")["status"] == "in_progress"
    [item] = query(db, "inbox_item", platform="sms", post_id="s1")
    assert item["answered_at"] is None and item["answer_text"] is None
    events = [(e["actor"], e["event"]) for e in query(db, "inbox_events", platform="sms", post_id="s1")]
    assert events == [("casey", "reopened"), ("casey", "answered"), ("casey", "assigned")]
    audited = db.reader().execute("SELECT action FROM audit WHERE action LIKE 'inbox_%' ORDER BY logged_at").fetchall()
    assert [a for (a,) in audited] == ["inbox_assign", "inbox_answer", "inbox_close", "inbox_answer", "inbox_reopen"]


def test_moves_that_make_no_sense_are_refused_with_the_reason(db):
    act(db, "inbox_answer", platform="sms", post_id="s1", text="Done")
    with pytest.raises(ValueError, match="is answered; it cannot be answered"):
        act(db, "inbox_answer", platform="sms", post_id="s1", text="Again")
    with pytest.raises(ValueError, match="needs the reply"):
        act(db, "inbox_answer", platform="x", post_id="x1", text="  ")
    with pytest.raises(ValueError, match="closed as closed or no_reply_needed"):
        act(db, "inbox_close", platform="x", post_id="x1", status="answered")
    with pytest.raises(ValueError, match="it cannot be reopened"):
        act(db, "inbox_reopen", platform="x", post_id="x1")
    with pytest.raises(ValueError, match="no inbox item x:nope"):
        act(db, "inbox_assign", platform="x", post_id="nope", assignee="dana")
    assert db.reader().execute("SELECT count(*) FROM audit WHERE action LIKE 'inbox_%'").fetchall() == [(1,)]


def test_linking_an_incident_by_id(db):
    with pytest.raises(ValueError, match="no incident #7"):
        act(db, "inbox_link", platform="x", post_id="x1", incident_id=7)
    db.write(lambda con: con.execute(
        "INSERT INTO incidents (incident_id, headline, severity, status, first_seen_at, last_seen_at, opened_at, "
        "updated_at) VALUES (7, 'Rumour', 'high', 'new', ?, ?, ?, ?)", [T0, T0, T0, T0]))
    act(db, "inbox_link", platform="x", post_id="x1", incident_id=7)
    assert query(db, "inbox_queue", now=NOW.isoformat(), channel="x")[1]["incident_id"] == 7
    act(db, "inbox_link", platform="x", post_id="x1")
    assert query(db, "inbox_item", platform="x", post_id="x1")[0]["incident_id"] is None


def test_contacts_across_channels_and_the_conversation(db):
    contacts = query(db, "inbox_contacts", platform="email", post_id="e1")
    assert [(c["channel"], c["post_id"]) for c in contacts] == [("webform", "w1")]
    assert query(db, "inbox_contacts", platform="x", post_id="x1") == []
    db.write_batch("x", Batch([post("x", "root", 80, "agency", "by_agency"),
                               post("x", "ans", 100, "agency", "by_agency", reply_to_id="x1"),
                               post("x", "more", 110, "u1", "public", reply_to_id="ans")], None))
    db.write(lambda con: con.execute("UPDATE posts SET reply_to_id = 'root' WHERE post_id = 'x1'"))
    thread = query(db, "inbox_thread", platform="x", post_id="x1", around=T0.isoformat())
    assert [(t["post_id"], t["depth"], t["direction"]) for t in thread] == [
        ("root", -1, "by_agency"), ("x1", 0, "to_agency"), ("ans", 1, "by_agency"), ("more", 2, "public")]
    assert query(db, "inbox_item", platform="x", post_id="x1")[0]["status"] == "answered"  # by the agency's reply


def test_retention_and_forgetting_cover_inbox_items(db):
    retention.pseudonymise_older_than(db, T0 + timedelta(minutes=45), b"k" * 32)
    rows = dict(db.reader().execute("SELECT post_id, author_id FROM inbox_items").fetchall())
    assert rows["s1"].startswith("pseud-") and rows["e1"].startswith("pseud-") and rows["w1"] == "email:bbb"
    act(db, "forget_author", actor="admin", author_id="email:bbb")
    assert "w1" not in dict(db.reader().execute("SELECT post_id, 1 FROM inbox_items").fetchall())
    retention.delete_older_than(db, T0 + timedelta(hours=1))
    assert db.reader().execute("SELECT post_id FROM inbox_items ORDER BY 1").fetchall() == [("x1",)]


def test_forget_a_contact_by_its_address_or_number(tmp_path, capsys):
    import jobs
    import settings as settings_module
    from collectors.intake import contact_hash
    from helpers import free_port

    path = tmp_path / "settings.toml"
    path.write_text(f'[storage]\npath = "db.duckdb"\n[server]\nport = {free_port()}\n')
    key = settings_module.load(path).local_secret("pseudonym.key").encode()
    database = Database(tmp_path / "db.duckdb")
    database.write_batch("intake", Batch([post("sms", "s1", 0, contact_hash(key, "+1 (555) 010-2030")),
                                          post("email", "e1", 5, contact_hash(key, "r@example.org"))], None))
    database.close()
    assert jobs.main(["--settings", str(path), "forget", "--contact", "R@Example.org"]) == 0
    assert jobs.main(["--settings", str(path), "forget", "--contact", "+1 555 010 2030"]) == 0  # digits match
    assert "removed 1 posts" in capsys.readouterr().out
    assert jobs.main(["--settings", str(path), "forget", "--contact", "nobody"]) == 2
    database = Database(tmp_path / "db.duckdb")
    assert database.reader().execute("SELECT count(*) FROM inbox_items").fetchall() == [(0,)]
    database.close()


def test_the_digest_reports_share_answered_and_median_time_per_channel(db):
    from datetime import date

    import settings as settings_module
    from alerts import digest, engine

    act(db, "inbox_answer", platform="sms", post_id="s1", text="Open 9-5", at=(T0 + timedelta(minutes=45)).isoformat())
    act(db, "inbox_close", platform="email", post_id="e1", status="no_reply_needed")
    built = digest.build(engine.database_queries(db), settings_module.Settings(), date(2026, 12, 2))
    assert "- SMS: 1 received, 1 answered (100 % of those needing an answer), 0 open; median time to answer 45 min" \
        in built.text
    assert "- E-mail: 1 received, 0 answered (n/a of those needing an answer), 0 open" in built.text
    assert "<td>Web form</td><td>1</td><td>0</td><td>0 %</td><td>1</td><td>n/a</td>" in built.html
