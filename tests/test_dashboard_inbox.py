"""The Inbox page, run by Streamlit's AppTest against the real storage service: the queue, one item with its
conversation and the resident's other contacts, answering (with the channel's limit), closing, and what a viewer
may not see or do."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from dashboard_seed import NOW, audit, dash_fixture, page, texts  # noqa: F401

from collectors.base import Batch, Post


def inbound(platform: str, post_id: str, minutes_ago: float, author: str, text: str, **extra) -> Post:
    created = (NOW - timedelta(minutes=minutes_ago)).replace(tzinfo=None)
    return Post(platform, post_id, text, created, author_id=author, direction=extra.pop("direction", "to_agency"),
                **extra)


@pytest.fixture
def inbox(dash):
    client, db = dash
    settings = Path(os.environ["CIVICRADAR_SETTINGS"])  # the dashboard's settings: SMS answered within 4 hours
    settings.write_text(settings.read_text() + "[inbox]\nsla_minutes = { default = 1440.0, sms = 240.0 }\n")
    db.write_batch("intake", Batch([
        inbound("sms", "sms-1", 300, "phone:1a2b", "Is the fairgrounds site open today? <b>bold</b>"),
        inbound("email", "mail-1", 100, "email:9f8e", "Water tastes odd on 5th street"),
        inbound("webform", "web-1", 50, "email:9f8e", "Following up on my e-mail about the water"),
        inbound("x", "x-1", 20, "u77", "@HarborCountyPH when is the booster clinic?", author_handle="resident77"),
        inbound("x", "x-2", 10, "agency", "Saturday 9-5.", reply_to_id="x-1", direction="by_agency"),
    ], None))
    return client, db


def item_state(db, post_id: str) -> tuple:
    return db.reader().execute("SELECT status, answered_by, answer_text FROM inbox_items WHERE post_id = ?",
                               [post_id]).fetchone()


def test_the_queue_oldest_unanswered_first_with_sla_and_contacts(inbox):
    at = page("inbox", "comms").run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Open"] == "3" and metrics["Answered"] == "1" and metrics["Past their SLA"] == "1"  # sms, 4 h SLA
    queue = at.dataframe[0].value
    assert list(queue["text"].str[:10]) == ["Is the fai", "Water tast", "Following "]
    assert list(queue["contacts"]) == [1, 2, 2] and list(queue["overdue"]) == [True, False, False]
    assert "<b>bold</b>" in at.text[0].value  # shown as text, never rendered
    assert "This resident's other contacts" not in texts(at)  # the SMS sender wrote nowhere else
    at.selectbox(key="open-inbox-item").set_value(1).run()
    assert "This resident's other contacts** (1, every channel)" in texts(at)


def test_comms_answers_an_item_within_the_channel_s_limit(inbox):
    _, db = inbox
    at = page("inbox", "comms").run()
    box = at.text_area(key="inbox-reply-sms-1")
    box.input("x" * 500).run()  # four SMS segments: more than the three allowed
    at.button(key="inbox-reply-sms-1-record").click().run()
    assert not at.exception and "Too long for the channel: SMS: 4 segments" in at.error[0].value
    assert item_state(db, "sms-1")[0] == "new"
    at.text_area(key="inbox-reply-sms-1").input("Yes, open 9-5 today.").run()
    at.button(key="inbox-reply-sms-1-record").click().run()
    assert not at.exception
    assert item_state(db, "sms-1") == ("answered", "comms", "Yes, open 9-5 today.")
    assert audit(db, "inbox_answer")[0][0] == "comms"
    assert "Recorded as answered." in texts(at)


def test_no_reply_needed_and_reopen(inbox):
    _, db = inbox
    at = page("inbox", "comms").run()
    at.selectbox(key="open-inbox-item").set_value(2).run()
    next(b for b in at.button if b.label == "No reply needed").click().run()
    assert item_state(db, "web-1")[0] == "no_reply_needed"
    at.selectbox[0].set_value("all").run()
    keys = next(s for s in at.selectbox if s.key == "open-inbox-item")
    assert not at.exception and len(at.dataframe[0].value) == 4
    keys.set_value(3).run()  # the web-form item, now after the open ones
    next(b for b in at.button if b.label == "Reopen").click().run()
    assert item_state(db, "web-1")[0] == "in_progress"


def test_the_agency_s_reply_on_the_platform_answered_the_mention_and_shows_the_thread(inbox):
    at = page("inbox", "viewer").run()
    at.selectbox[0].set_value("answered").run()
    assert not at.exception and list(at.dataframe[0].value["author_handle"].str[:6]) == ["pseud-"]  # pseudonym
    assert "Conversation" in texts(at) and "the agency" in texts(at)
    assert [t.value for t in at.text] == ["@HarborCountyPH when is the booster clinic?",
                                          "@HarborCountyPH when is the booster clinic?", "Saturday 9-5."]


def test_viewers_see_no_contacts_and_no_workflow(inbox):
    at = page("inbox", "viewer").run()
    assert not at.exception
    assert "author_id" not in at.dataframe[0].value and "contacts" not in at.dataframe[0].value
    assert not [b for b in at.button if b.label in ("Record as sent", "No reply needed")]
    assert "other contacts" not in texts(at) and "email:9f8e" not in texts(at)


def test_overview_shows_share_answered_and_median_time_per_channel(inbox):
    at = page("overview", "viewer").run()
    assert not at.exception
    assert "Inbox: what residents sent (last 7 days)" in texts(at)
    figures = next(d.value for d in at.dataframe if "share_answered" in d.value)
    x = figures[figures["channel"] == "X"].iloc[0]
    assert (x["items"], x["answered"], x["share_answered"], x["median"]) == (1, 1, 1.0, "10 min")
